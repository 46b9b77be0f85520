import { realpathSync, statSync } from 'node:fs';
import { dirname, extname, sep } from 'node:path';
import type { Session } from '../../api/session.ts';
import { filmstripCacheDir } from '../../api/handlers/media.ts';
import { cachedFilmstrip } from '../../core/media/filmstrip.ts';
import { needsProxy, proxyTarget, scrubDir, videoFileState } from '../../core/media/library.ts';
import { cachedScrubProxy } from '../../core/media/scrub.ts';

/** A file on disk that a media URL stands for. */
export interface MediaFile {
  path: string;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/mp4',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.jpg': 'image/jpeg',
};

/** The real path of a regular file, or null (missing, not a file, or a dangling link). */
function realFile(path: string): string | null {
  try {
    const real = realpathSync(path);
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

/** A generated file (proxy, filmstrip) is served only if it really lies in the folder made for it. */
function insideFolder(path: string, folder: string): string | null {
  const real = realFile(path);
  const base = real ? realFile(folder) ?? realpathOrNull(folder) : null;
  return real && base && real.startsWith(base + sep) ? real : null;
}

function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

function typed(path: string | null): MediaFile | null {
  return path ? { path, contentType: CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream' } : null;
}

/**
 * Which file `/media/<kind>/<id>` serves for the open project, or null (404). Only files registered in
 * the project are ever served: the id picks a video row, never a path, and generated files must resolve
 * inside their own folder (no symlink escape). `video` is the proxy when the original needs one; `scrub`
 * is the fast-seeking copy (see core/media/scrub.ts).
 */
export async function resolveMediaFile(session: Session, kind: string, id: string): Promise<MediaFile | null> {
  if (!session.hasProject || !/^\d+$/.test(id)) return null;
  const project = session.project;
  const video = project.videos.get(Number(id));
  if (!video) return null;
  const proxy = video.proxyPath ? insideFolder(video.proxyPath, dirname(proxyTarget(project, video))) : null;
  switch (kind) {
    case 'video': {
      if (needsProxy(video)) return typed(proxy);
      // The original, as long as it is still the file that was added (its fingerprint, not just its size:
      // a link or a file swapped for another one is refused).
      const real = realFile(video.path);
      return real && statSync(real).size === video.sizeBytes && videoFileState(video) === 'ok' ? typed(real) : null;
    }
    case 'proxy':
      return typed(proxy);
    case 'scrub': {
      const scrub = cachedScrubProxy(scrubDir(project), video.fingerprint);
      return scrub ? typed(insideFolder(scrub, scrubDir(project))) : null;
    }
    case 'filmstrip':
    case 'thumbnail': {
      const strip = cachedFilmstrip(filmstripCacheDir(), video.fingerprint);
      return strip ? typed(insideFolder(strip.path, filmstripCacheDir())) : null;
    }
    default:
      return null;
  }
}
