import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { HandlersFor } from '../handler-types.ts';
import type { mediaRequests, VideoListItem } from '../contract/media.ts';
import type { ApiContext } from '../context.ts';
import { appDataDir } from '../app-state.ts';
import type { SessionService } from '../session.ts';
import { UserError } from '../../core/errors.ts';
import type { Project } from '../../core/store/project.ts';
import { requireFfmpegTools } from '../../core/media/locate.ts';
import {
  addVideos, findVideo, listVideosWithStatus, needsProxy, playbackCopyReason, proxyTarget, relinkVideo, requestPlayableCopy, scrubDir,
} from '../../core/media/library.ts';
import { cachedScrubProxy, removeScrubProxy, scrubDecision } from '../../core/media/scrub.ts';
import { MediaBackground } from '../../core/media/background.ts';
import { cachedFilmstrip } from '../../core/media/filmstrip.ts';
import { sampleClip } from '../../core/media/decode.ts';
import { seededRng } from '../../core/media/sampling.ts';
import { writeSafetensors } from '../../core/model/safetensors.ts';

/** Where filmstrip sprites are cached, shared by all projects (keyed by file fingerprint). */
export function filmstripCacheDir(): string {
  return join(appDataDir(), 'cache', 'filmstrips');
}

const byName = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

const backgrounds = new WeakMap<Project, Promise<MediaBackground>>();

/** Stops the closing project's filmstrip/proxy worker. */
export const closeMediaBackground: SessionService = (session) => {
  session.onProjectClosing((closing) => void backgrounds.get(closing)?.then((b) => b.dispose()));
};

/** The open project's filmstrip/proxy worker, created on first use and disposed when the project closes. */
export function mediaBackground(ctx: ApiContext): Promise<MediaBackground> {
  const project = ctx.session.project;
  let background = backgrounds.get(project);
  if (!background) {
    background = requireFfmpegTools().then(
      (tools) => new MediaBackground(project, tools, filmstripCacheDir(), (progress) => ctx.emit('videos.mediaProgress', progress)),
    );
    backgrounds.set(project, background);
  }
  return background;
}

/** A host that exits right after a command (the CLI) never starts background work. */
async function scheduleMedia(ctx: ApiContext, videoIds: number[]): Promise<void> {
  if (!ctx.backgroundWork || videoIds.length === 0) return;
  const background = await mediaBackground(ctx);
  for (const id of videoIds) background.enqueue(id);
}

export const mediaHandlers: HandlersFor<typeof mediaRequests> = {
  async 'videos.add'({ paths }, ctx) {
    const project = ctx.session.project;
    const tools = await requireFfmpegTools();
    const results = await addVideos(project, tools, paths, (done, total, path) => ctx.emit('videos.probeProgress', { done, total, path }));
    const added = results.flatMap((r) => (r.ok ? [r.video.id] : []));
    if (added.length) ctx.emit('project.changed', { what: 'videos', ids: added });
    await scheduleMedia(ctx, added);
    return results;
  },

  async 'videos.list'(_params, ctx) {
    const project = ctx.session.project;
    const background = !ctx.backgroundWork ? null : await mediaBackground(ctx).catch(() => null);
    const cacheDir = filmstripCacheDir();
    const scrubs = scrubDir(project);
    const items: VideoListItem[] = listVideosWithStatus(project).map((video) => {
      const strip = cachedFilmstrip(cacheDir, video.fingerprint);
      const proxied = needsProxy(video);
      const proxyReady = Boolean(video.proxyPath && existsSync(video.proxyPath));
      const converting = background?.state(video.id, 'proxy')?.state;
      const playback = !proxied ? 'original' : proxyReady ? 'proxy' : converting === 'queued' || converting === 'running' ? 'converting' : 'unplayable';
      const scrubTask = background?.state(video.id, 'scrub')?.state;
      const scrub = cachedScrubProxy(scrubs, video.fingerprint) ? 'ready' : scrubTask === 'queued' || scrubTask === 'running' ? 'making' : null;
      const scrubUndecided = !proxied && !scrubDecision(scrubs, video.fingerprint);
      if (video.status === 'ok' && background && (!strip || (proxied && !proxyReady) || scrubUndecided)) background.enqueue(video.id);
      return { ...video, playback, playbackNote: playbackCopyReason(video), scrub, filmstrip: strip ? { columns: strip.columns, tileWidth: strip.tileWidth, tileHeight: strip.tileHeight, frames: strip.frames } : null };
    });
    // As a file manager lists them: "cam2" before "Cam10", whatever the case.
    return items.sort((a, b) => byName.compare(a.name, b.name) || a.id - b.id);
  },

  'videos.remove'({ id }, ctx) {
    const project = ctx.session.project;
    const video = project.videos.require(id);
    project.videos.remove(id);
    if (video.proxyPath && dirname(video.proxyPath) === dirname(proxyTarget(project, video))) rmSync(video.proxyPath, { force: true });
    removeScrubProxy(scrubDir(project), video.fingerprint);
    ctx.emit('project.changed', { what: 'videos', ids: [id] });
    return { removed: id };
  },

  async 'videos.relink'({ id, path }, ctx) {
    const video = await relinkVideo(ctx.session.project, await requireFfmpegTools(), id, path);
    ctx.emit('project.changed', { what: 'videos', ids: [id] });
    return video;
  },

  async 'videos.playbackFailed'({ id, error }, ctx) {
    const project = ctx.session.project;
    const copying = await project.writes.run(() => requestPlayableCopy(project, id));
    if (copying) {
      ctx.emit('project.changed', { what: 'videos', ids: [id] });
      await scheduleMedia(ctx, [id]);
    }
    return { copying };
  },

  'videos.frameInfo'({ id }, ctx) {
    const video = ctx.session.project.videos.require(id);
    if (!video.framePts) throw new UserError('invalid_input', `Video ${id} (${video.name}) has no frame timestamps; add it again.`);
    return {
      id,
      frameCount: video.framePts.length,
      fps: video.fps ?? 0,
      durationS: video.durationS ?? 0,
      framePts: Array.from(video.framePts),
    };
  },

  async 'videos.exportFrames'(params, ctx) {
    const video = findVideo(ctx.session.project, params.video);
    const tools = await requireFfmpegTools();
    const clip = await sampleClip(tools, video, {
      start: params.from,
      end: params.to,
      frames: params.frames,
      mode: params.mode,
      size: params.size,
      crop: params.crop,
      reversed: params.reversed,
      rng: params.seed === undefined ? Math.random : seededRng(params.seed),
    });
    const out = resolve(params.out);
    const shape: [number, number, number, number] = [params.frames, params.size, params.size, 3];
    writeSafetensors(
      out,
      new Map([
        ['frames', { dtype: 'U8', shape, data: clip.data }],
        ['frame_indices', { dtype: 'I64', shape: [params.frames], data: BigInt64Array.from(clip.frameIndices, (i) => BigInt(i)) }],
      ]),
      { video: video.path, mode: params.mode, crop: params.crop, reversed: String(params.reversed) },
    );
    return { out, frameIndices: clip.frameIndices, shape };
  },
};
