import { existsSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { UserError, toErrorPayload, type ErrorPayload } from '../errors.ts';
import type { Project } from '../store/project.ts';
import type { VideoInfo, VideoRecord } from '../store/videos.ts';
import type { FfmpegTools } from './locate.ts';
import { fingerprintFileSync, probeVideo } from './probe.ts';
import { playableInChromium } from './proxy.ts';

/** Outcome of adding one file: the stored video, or why it was refused. */
export type VideoAddResult =
  | { path: string; ok: true; video: VideoInfo; warning?: string }
  | { path: string; ok: false; error: ErrorPayload };

/** Folder of the project's H.264 playback copies. */
export const PROXIES_DIR = 'proxies';

/**
 * Probes and adds files to the project one by one; a bad file is reported and the others still go in.
 * Each write waits for the lock in `project.writes`, as every write after an `await` does.
 * A file whose content matches a video whose file has gone missing relinks that video instead.
 * `onProgress(done, total, path)` fires after each file.
 */
export async function addVideos(
  project: Project,
  tools: FfmpegTools,
  paths: string[],
  onProgress?: (done: number, total: number, path: string) => void,
): Promise<VideoAddResult[]> {
  const results: VideoAddResult[] = [];
  for (const [i, given] of paths.entries()) {
    const path = resolve(given);
    try {
      const existing = project.videos.findByPathOrName(path);
      if (existing && existing.path === path) throw new UserError('conflict', `${path} is already in the project (video ${existing.id}).`);
      const probe = await probeVideo(tools, path);
      const twin = project.videos.findByFingerprint(probe.fingerprint);
      if (twin && !existsSync(twin.path)) {
        // The file was moved: adding it again reconnects the video, its clips and predictions.
        const { framePts: _moved, ...video } = await project.writes.run(() => project.videos.update(twin.id, { path, name: probe.name, status: 'ok' }));
        results.push({ path, ok: true, video, warning: `relinked video ${twin.id}, which was at ${twin.path}` });
        onProgress?.(i + 1, paths.length, path);
        continue;
      }
      if (twin) throw new UserError('conflict', `${path} has the same content as ${twin.path}, already in the project (video ${twin.id}).`);
      const { warning, ...facts } = probe;
      const stored = await project.writes.run(() => project.videos.insert({ ...facts, status: 'ok' }));
      const { framePts: _pts, ...video } = stored;
      results.push({ path, ok: true, video, ...(warning ? { warning } : {}) });
    } catch (err) {
      results.push({ path, ok: false, error: toErrorPayload(err) });
    }
    onProgress?.(i + 1, paths.length, path);
  }
  return results;
}

/**
 * Points a video at its file's new location. The file must have the same fingerprint (size + head/tail
 * hash) as the one that was added, so labels never end up on a different video.
 */
export async function relinkVideo(project: Project, tools: FfmpegTools, id: number, newPath: string): Promise<VideoInfo> {
  const video = project.videos.require(id);
  const path = resolve(newPath);
  const holder = project.videos.findByPathOrName(path);
  if (holder && holder.path === path && holder.id !== id) throw new UserError('conflict', `${path} is already video ${holder.id} of this project.`);
  const probe = await probeVideo(tools, path);
  if (video.fingerprint && probe.fingerprint !== video.fingerprint) {
    throw new UserError('invalid_input', `${path} is not the same file as ${video.name} (video ${id}): its size or content differs.`);
  }
  const { framePts: _pts, ...updated } = await project.writes.run(() =>
    project.videos.update(id, { path, name: probe.name, status: 'ok', framePts: probe.framePts, frameCount: probe.frameCount }),
  );
  return updated;
}

/** Fingerprints already checked, by path, size, mtime and inode: a file is hashed again only when it changed. */
const checkedFingerprints = new Map<string, string>();

/**
 * Whether the file at a video's path is still the one that was added: `missing`, `changed` (another file
 * of the same name; its fingerprint differs) or `ok`. Hashes 2 MiB once per file version.
 */
export function videoFileState(video: Pick<VideoInfo, 'path' | 'fingerprint'>): 'ok' | 'missing' | 'changed' {
  let key: string;
  try {
    const st = statSync(video.path);
    if (!st.isFile()) return 'missing';
    key = `${video.path}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.ino}`;
  } catch {
    return 'missing';
  }
  if (!video.fingerprint) return 'ok';
  let fingerprint = checkedFingerprints.get(key);
  if (fingerprint === undefined) {
    try {
      fingerprint = fingerprintFileSync(video.path);
    } catch {
      return 'missing';
    }
    if (checkedFingerprints.size > 10_000) checkedFingerprints.clear();
    checkedFingerprints.set(key, fingerprint);
  }
  return fingerprint === video.fingerprint ? 'ok' : 'changed';
}

/** The error a job or a media request gives for a video whose file is not the one that was added. */
export function changedVideoError(video: Pick<VideoInfo, 'id' | 'name' | 'path'>): UserError {
  return new UserError(
    'conflict',
    `${video.path} has changed since it was added as video ${video.id} ("${video.name}"): it is a different file now. ` +
      'Relink the video to the original file, or remove it and add the new one.',
  );
}

/** Marks videos whose file has gone missing (and ones that came back) or changed, returning the fresh list. */
export function listVideosWithStatus(project: Project): VideoInfo[] {
  return project.videos.list().map((video) => {
    const status = videoFileState(video);
    // `changed` is shown, not stored: the row keeps describing the file that was added.
    const stored = status === 'missing' ? 'missing' : 'ok';
    // The stored status only caches what is shown: a write that finds the project busy is left for later.
    if (stored !== video.status) project.writes.run(() => project.videos.update(video.id, { status: stored })).catch(() => {});
    return status === video.status ? video : { ...video, status };
  });
}

/** Where a video's playback proxy is written inside the project folder. */
export function proxyTarget(project: Project, video: Pick<VideoInfo, 'id'>): string {
  return join(project.dir, PROXIES_DIR, `video-${video.id}.mp4`);
}

/** Folder of the project's scrub proxies (named by fingerprint, see scrub.ts). */
export function scrubDir(project: Project): string {
  return join(project.dir, PROXIES_DIR, 'scrub');
}

/**
 * Why the app's window plays this video through a converted copy, or null when it plays the original: a
 * codec or container the browser engine does not play, or an original that failed to play there (damaged
 * data), which the renderer reported through `requestPlayableCopy`.
 */
export function playbackCopyReason(video: Pick<VideoRecord, 'path' | 'codec' | 'proxyPath'>): string | null {
  if (!playableInChromium(video.path, video.codec)) {
    return `${video.codec ?? 'this codec'} in ${extname(video.path).slice(1).toUpperCase() || 'this container'} does not play in the app's window`;
  }
  if (video.proxyPath) return "the original did not play in the app's window (damaged or unusual data)";
  return null;
}

/** Whether the renderer can play this video only through a proxy. */
export function needsProxy(video: Pick<VideoRecord, 'path' | 'codec' | 'proxyPath'>): boolean {
  return playbackCopyReason(video) !== null;
}

/**
 * The browser engine could not play a file it should (a damaged slice, an unusual profile): from now on the
 * video plays through an H.264 copy, made like an AVI's. Returns false when it already does.
 */
export function requestPlayableCopy(project: Project, videoId: number): boolean {
  const video = project.videos.require(videoId);
  if (needsProxy(video)) return false;
  project.videos.update(videoId, { proxyPath: proxyTarget(project, video) });
  return true;
}

/**
 * A video by id, path or file name — what a user types on the command line — or a not_found error.
 */
export function findVideo(project: Project, ref: string): VideoRecord {
  const byId = /^\d+$/.test(ref) ? project.videos.get(Number(ref)) : null;
  const info = byId ?? project.videos.findByPathOrName(resolve(ref)) ?? project.videos.findByPathOrName(ref);
  if (!info) throw new UserError('not_found', `No video "${ref}" in this project (give its id, path or file name).`);
  return project.videos.require(info.id);
}
