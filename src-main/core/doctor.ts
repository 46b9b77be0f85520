import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { locateFfmpegTools, type ToolLocation } from './media/locate.ts';
import type { BackendStatus } from './compute/backend-names.ts';
import { sqliteVersion } from './store/project.ts';

export interface DoctorReport {
  node: { version: string; ok: boolean };
  electron: { available: boolean; version: string | null; reason: string };
  ffmpeg: ToolLocation;
  ffprobe: ToolLocation;
  sqlite: { version: string };
  backends: BackendStatus[];
}

/** Whether `npm start` can open the Electron window here, and why not. */
export function electronStatus(): DoctorReport['electron'] {
  const require = createRequire(import.meta.url);
  let version: string | null = null;
  try {
    version = (require('electron/package.json') as { version: string }).version;
  } catch {
    return { available: false, version: null, reason: 'the electron package is not installed' };
  }
  let binary: string;
  try {
    binary = require('electron') as string;
  } catch {
    return { available: false, version, reason: 'the Electron binary was not downloaded (offline install); the web UI is used instead' };
  }
  if (typeof binary !== 'string' || !existsSync(binary)) {
    return { available: false, version, reason: 'the Electron binary was not downloaded (offline install)' };
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { available: false, version, reason: 'no display (DISPLAY/WAYLAND_DISPLAY unset)' };
  }
  return { available: true, version, reason: `Electron ${version} at ${binary}` };
}

export async function runDoctor(): Promise<DoctorReport> {
  // tfjs loads only now, to try the CPU rungs; GPU rungs are judged in a child process.
  const { probeBackends } = await import('./compute/backends.ts');
  const [tools, backends] = await Promise.all([locateFfmpegTools(), probeBackends()]);
  const major = Number(process.versions.node.split('.')[0]);
  return {
    node: { version: process.versions.node, ok: major >= 20 },
    electron: electronStatus(),
    ffmpeg: tools.ffmpeg,
    ffprobe: tools.ffprobe,
    sqlite: { version: sqliteVersion() },
    backends,
  };
}
