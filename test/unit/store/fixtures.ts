/** Temp projects with a video row whose frame timestamps are variable (as a phone recording's are). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { openProject, type Project } from '../../../src-main/core/store/project.ts';
import type { VideoRecord } from '../../../src-main/core/store/videos.ts';

export function tempDir(prefix = 'stm-store-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Call at a test file's top level: returns a maker of temp folders, each removed after the test that made it. */
export function tempDirsRemovedAfterEach(): () => string {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach(removeDir));
  return () => {
    const dir = tempDir();
    dirs.push(dir);
    return dir;
  };
}

/** Frame timestamps with gaps alternating 40 ms and 80 ms: frame i is not at i / fps. */
export function vfrPts(frames: number): Float64Array {
  const pts = new Float64Array(frames);
  for (let i = 1; i < frames; i++) pts[i] = pts[i - 1]! + (i % 2 === 1 ? 0.04 : 0.08);
  return pts;
}

export function addVideo(project: Project, path: string, frames = 2000): VideoRecord {
  const pts = vfrPts(frames);
  return project.videos.insert({
    path,
    frameCount: frames,
    fps: 25,
    durationS: pts[frames - 1]! + 0.04,
    framePts: pts,
    width: 160,
    height: 120,
  });
}

export function newProject(): { dir: string; project: Project } {
  const dir = tempDir();
  return { dir, project: openProject(dir, { create: true }) };
}
