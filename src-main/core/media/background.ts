import { existsSync, rmSync } from 'node:fs';
import type { Project } from '../store/project.ts';
import type { FfmpegTools } from './locate.ts';
import { makeFilmstrip } from './filmstrip.ts';
import { makeProxy } from './proxy.ts';
import { needsProxy, proxyTarget, scrubDir } from './library.ts';
import { firstTimestampMismatch, longestGop, makeScrubProxy, needsScrubProxy, recordScrubDecision, scrubDecision, scrubProxyPath } from './scrub.ts';
import { probeVideo } from './probe.ts';
import { toErrorPayload } from '../errors.ts';

export type MediaTaskKind = 'filmstrip' | 'proxy' | 'scrub';

/** Progress of a background media task for one video. */
export interface MediaTaskProgress {
  videoId: number;
  kind: MediaTaskKind;
  state: 'queued' | 'running' | 'done' | 'failed';
  fraction: number;
  message?: string;
}

/**
 * Makes filmstrips, playback proxies and scrub proxies one at a time, off the request path, for the open project.
 * `dispose()` (on project close) cancels the running task and drops the queue.
 */
export class MediaBackground {
  private readonly queue: Array<{ videoId: number; kind: MediaTaskKind }> = [];
  private readonly controller = new AbortController();
  private running: Promise<void> | null = null;
  private readonly states = new Map<string, MediaTaskProgress>();

  constructor(
    private readonly project: Project,
    private readonly tools: FfmpegTools,
    private readonly filmstripDir: string,
    private readonly report: (progress: MediaTaskProgress) => void,
  ) {}

  /**
   * Queues the filmstrip, the proxy when the codec or container needs one, and otherwise a look at the
   * keyframes that makes a scrub proxy when seeking is slow (each once per session).
   */
  enqueue(videoId: number): void {
    const video = this.project.videos.get(videoId);
    if (!video) return;
    this.push(videoId, 'filmstrip');
    if (needsProxy(video)) {
      if (!(video.proxyPath && existsSync(video.proxyPath))) this.push(videoId, 'proxy');
    } else if (video.fingerprint && !scrubDecision(scrubDir(this.project), video.fingerprint)) {
      this.push(videoId, 'scrub');
    }
    this.kick();
  }

  /** The latest progress of a task, if one was queued in this session. */
  state(videoId: number, kind: MediaTaskKind): MediaTaskProgress | null {
    return this.states.get(`${kind}:${videoId}`) ?? null;
  }

  /** Resolves when the queue is empty (tests, CLI). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  dispose(): void {
    this.queue.length = 0;
    this.controller.abort();
  }

  /** Each task runs at most once per session: a failed one is reported, not retried on every list. */
  private push(videoId: number, kind: MediaTaskKind): void {
    if (this.states.has(`${kind}:${videoId}`)) return;
    this.queue.push({ videoId, kind });
    this.update({ videoId, kind, state: 'queued', fraction: 0 });
  }

  /** Starts draining unless already draining; a task queued as a drain ends starts the next one. */
  private kick(): void {
    if (this.running || this.queue.length === 0 || this.controller.signal.aborted) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      this.kick();
    });
  }

  private update(progress: MediaTaskProgress): void {
    this.states.set(`${progress.kind}:${progress.videoId}`, progress);
    this.report(progress);
  }

  private async drain(): Promise<void> {
    for (let task = this.queue.shift(); task && !this.controller.signal.aborted; task = this.queue.shift()) {
      const { videoId, kind } = task;
      const video = this.project.videos.get(videoId);
      if (!video) continue;
      const onProgress = (fraction: number) => this.update({ videoId, kind, state: 'running', fraction });
      try {
        onProgress(0);
        if (kind === 'filmstrip') {
          await makeFilmstrip(this.tools, video, this.filmstripDir, { onProgress, signal: this.controller.signal });
        } else if (kind === 'scrub') {
          await this.makeScrub(videoId, onProgress);
        } else {
          const proxyPath = await makeProxy(this.tools, video, proxyTarget(this.project, video), { onProgress, signal: this.controller.signal });
          await this.project.writes.run(() => this.project.videos.update(videoId, { proxyPath }));
        }
        this.update({ videoId, kind, state: 'done', fraction: 1 });
      } catch (err) {
        if (this.controller.signal.aborted) return;
        this.update({ videoId, kind, state: 'failed', fraction: 0, message: toErrorPayload(err).message });
      }
    }
  }

  /**
   * Reads the keyframe interval, then makes the scrub proxy if the rule asks for one, keeping it only if
   * every frame has its original timestamp (the player maps times to frames with the original's).
   */
  private async makeScrub(videoId: number, onProgress: (fraction: number) => void): Promise<void> {
    const video = this.project.videos.require(videoId);
    if (!video.fingerprint || !video.framePts) return;
    const dir = scrubDir(this.project);
    const signal = this.controller.signal;
    const longestGopFrames = await longestGop(this.tools, video.path, signal);
    if (!needsScrubProxy(video, longestGopFrames)) {
      recordScrubDecision(dir, video.fingerprint, { proxy: 'not_needed', longestGopFrames });
      return;
    }
    const path = await makeScrubProxy(this.tools, video, scrubProxyPath(dir, video.fingerprint), { onProgress, signal });
    const exact = firstTimestampMismatch(video.framePts, (await probeVideo(this.tools, path)).framePts) === null;
    if (!exact) rmSync(path, { force: true });
    recordScrubDecision(dir, video.fingerprint, { proxy: exact ? 'made' : 'not_frame_exact', longestGopFrames });
  }
}
