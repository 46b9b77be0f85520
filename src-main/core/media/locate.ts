import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { UserError } from '../errors.ts';

export interface ToolLocation {
  path: string | null;
  version: string | null;
  /** Which rung of the fallback ladder found it: env, setting, ffmpeg-static, @ffmpeg-installer, PATH. */
  source: string | null;
  reason?: string;
}

/** A located, runnable ffmpeg + ffprobe pair and the flags their version needs. */
export interface FfmpegTools {
  ffmpeg: string;
  ffprobe: string;
  ffmpegVersion: string;
  /** Output flags that keep every decoded frame exactly once (no duplication or dropping for VFR). */
  passthroughFlags: string[];
  /** Another ffprobe to try when the located one crashes on a file (some static builds do on MPEG-TS). */
  ffprobeFallback?: string;
}

/** Paths the user chose in the app settings; they rank just after the environment variables. */
export interface ToolSettings {
  ffmpegPath?: string;
  ffprobePath?: string;
}

interface Candidate {
  path: string;
  source: string;
}

const require = createRequire(import.meta.url);

/** Packaged apps keep binaries in app.asar.unpacked: a path inside app.asar cannot be spawned. */
function unpacked(path: string): string {
  return path.replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
}

function packagePath(name: string, pick: (exported: unknown) => unknown): string | null {
  try {
    const value = pick(require(name));
    return typeof value === 'string' ? unpacked(value) : null;
  } catch {
    return null;
  }
}

function candidatesFor(tool: 'ffmpeg' | 'ffprobe', settings: ToolSettings): Candidate[] {
  const list: Candidate[] = [];
  const env = tool === 'ffmpeg' ? process.env.FFMPEG_PATH : process.env.FFPROBE_PATH;
  if (env) list.push({ path: env, source: 'env' });
  const setting = tool === 'ffmpeg' ? settings.ffmpegPath : settings.ffprobePath;
  if (setting) list.push({ path: setting, source: 'setting' });
  if (tool === 'ffmpeg') {
    const fromStatic = packagePath('ffmpeg-static', (m) => m);
    if (fromStatic) list.push({ path: fromStatic, source: 'ffmpeg-static' });
    const installer = packagePath('@ffmpeg-installer/ffmpeg', (m) => (m as { path?: unknown }).path);
    if (installer) list.push({ path: installer, source: '@ffmpeg-installer' });
  } else {
    const installer = packagePath('@ffprobe-installer/ffprobe', (m) => (m as { path?: unknown }).path);
    if (installer) list.push({ path: installer, source: '@ffprobe-installer' });
  }
  list.push({ path: tool, source: 'PATH' });
  return list;
}

function runVersion(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path, ['-version'], { timeout: 15_000, windowsHide: true }, (err, stdout) => {
      if (err) return reject(err);
      const match = /version\s+(\S+)/.exec(stdout);
      resolve(match ? match[1] : 'unknown');
    });
  });
}

async function locate(tool: 'ffmpeg' | 'ffprobe', settings: ToolSettings): Promise<ToolLocation> {
  const skipped: string[] = [];
  for (const candidate of candidatesFor(tool, settings)) {
    if (candidate.source !== 'PATH' && !existsSync(candidate.path)) {
      skipped.push(`${candidate.source}: ${candidate.path} does not exist`);
      continue;
    }
    try {
      const version = await runVersion(candidate.path);
      return { path: candidate.path, version, source: candidate.source, ...(skipped.length ? { reason: `skipped ${skipped.join('; ')}` } : {}) };
    } catch (err) {
      skipped.push(`${candidate.source}: ${candidate.path} did not run (${(err as Error).message.split('\n')[0]})`);
    }
  }
  return { path: null, version: null, source: null, reason: `${tool} not found: ${skipped.join('; ')}` };
}

const cache = new Map<string, Promise<{ ffmpeg: ToolLocation; ffprobe: ToolLocation }>>();

/**
 * Finds ffmpeg and ffprobe through the ladder FFMPEG_PATH/FFPROBE_PATH → settings → ffmpeg-static →
 * @ffmpeg-installer / @ffprobe-installer → PATH, running `-version` once per distinct configuration.
 */
export function locateFfmpegTools(settings: ToolSettings = {}): Promise<{ ffmpeg: ToolLocation; ffprobe: ToolLocation }> {
  const key = JSON.stringify([process.env.FFMPEG_PATH, process.env.FFPROBE_PATH, settings.ffmpegPath, settings.ffprobePath]);
  let found = cache.get(key);
  if (!found) {
    found = Promise.all([locate('ffmpeg', settings), locate('ffprobe', settings)]).then(([ffmpeg, ffprobe]) => ({ ffmpeg, ffprobe }));
    cache.set(key, found);
  }
  return found;
}

/** `-fps_mode` exists from ffmpeg 5.1; older builds (and unversioned git builds) take `-vsync 0`. */
export function passthroughFlagsFor(version: string): string[] {
  const match = /^n?(\d+)\.(\d+)/.exec(version);
  if (!match) return ['-vsync', '0'];
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major > 5 || (major === 5 && minor >= 1) ? ['-fps_mode', 'passthrough'] : ['-vsync', '0'];
}

/** The tools every media operation needs, or an `unavailable` error saying how to provide them. */
export async function requireFfmpegTools(settings: ToolSettings = {}): Promise<FfmpegTools> {
  const { ffmpeg, ffprobe } = await locateFfmpegTools(settings);
  if (!ffmpeg.path || !ffprobe.path) {
    const missing = [ffmpeg, ffprobe].filter((t) => !t.path).map((t) => t.reason).join(' | ');
    throw new UserError('unavailable', `ffmpeg/ffprobe are needed to read videos. Install ffmpeg or set FFMPEG_PATH and FFPROBE_PATH. (${missing})`);
  }
  return {
    ffmpeg: ffmpeg.path,
    ffprobe: ffprobe.path,
    ffmpegVersion: ffmpeg.version ?? 'unknown',
    passthroughFlags: passthroughFlagsFor(ffmpeg.version ?? 'unknown'),
    ...(ffprobe.source === 'PATH' ? {} : { ffprobeFallback: 'ffprobe' }),
  };
}
