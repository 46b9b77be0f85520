/**
 * Media figures: sliding-window sampling over a 10-minute 1080p H.264 video (T = 8, 224², 2 s windows,
 * 1 s stride) against a plain `ffmpeg -f null` decode of the same file in the same run (target ≥ 0.7 of
 * its speed), seek-to-first-frame latency of clip sampling at random positions, and how fast a scrub
 * proxy of one minute of it is made (against real time).
 * The video is made once and cached in bench-output/media/. BENCH_MEDIA_SECONDS shortens it for a quick run.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requireFfmpegTools, type FfmpegTools } from '../src-main/core/media/locate.ts';
import { probeVideo } from '../src-main/core/media/probe.ts';
import { sampleClip, slidingWindows } from '../src-main/core/media/decode.ts';
import { seededRng } from '../src-main/core/media/sampling.ts';
import { makeScrubProxy } from '../src-main/core/media/scrub.ts';
import { report, reportRatio, round } from './lib/report.ts';

const SUITE = 'media';
const OUT = resolve(import.meta.dirname, '..', 'bench-output', 'media');
const exec = promisify(execFile);

/**
 * A 1080p30 H.264 video with motion and a GOP of 2 s, like a camera file. One minute is encoded and then
 * repeated by stream copy, which decodes exactly like a longer encode but is made in a fraction of the time.
 */
async function benchVideo(tools: FfmpegTools, seconds: number): Promise<string> {
  mkdirSync(OUT, { recursive: true });
  const path = join(OUT, `h264-1080p30-${seconds}s.mp4`);
  if (existsSync(path)) return path;
  const started = performance.now();
  const pieceSeconds = Math.min(60, seconds);
  const piece = join(OUT, `h264-1080p30-piece-${pieceSeconds}s.mp4`);
  if (!existsSync(piece)) {
    await exec(tools.ffmpeg, [
      '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${pieceSeconds}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '23', '-g', '60', '-bf', '2', '-pix_fmt', 'yuv420p', `${piece}.tmp.mp4`,
    ]);
    renameSync(`${piece}.tmp.mp4`, piece);
  }
  const list = join(OUT, 'concat.txt');
  writeFileSync(list, `file '${piece}'\n`.repeat(Math.ceil(seconds / pieceSeconds)));
  await exec(tools.ffmpeg, ['-v', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', '-t', String(seconds), `${path}.tmp.mp4`]);
  renameSync(`${path}.tmp.mp4`, path);
  report({ suite: SUITE, figure: 'make the bench video (once, cached)', value: round((performance.now() - started) / 1000, 1), unit: 's' });
  return path;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export async function run(): Promise<void> {
  const seconds = Number(process.env.BENCH_MEDIA_SECONDS ?? 600);
  const tools = await requireFfmpegTools();
  report({ suite: SUITE, figure: 'ffmpeg', value: 0, unit: 'info', version: tools.ffmpegVersion, path: tools.ffmpeg });
  const path = await benchVideo(tools, seconds);
  let t0 = performance.now();
  const video = await probeVideo(tools, path);
  const frames = video.frameCount;
  report({ suite: SUITE, figure: 'probe (every frame timestamp, fingerprint)', value: round(performance.now() - t0, 1), unit: 'ms', frames });

  t0 = performance.now();
  await exec(tools.ffmpeg, ['-v', 'error', '-nostdin', '-i', path, '-an', '-f', 'null', '-']);
  const plainS = (performance.now() - t0) / 1000;
  report({ suite: SUITE, figure: 'plain decode (ffmpeg -f null)', value: round(frames / plainS, 1), unit: 'frames/s', seconds: round(plainS, 2) });

  t0 = performance.now();
  let windows = 0;
  for await (const window of slidingWindows(tools, video, { window: 2, stride: 1, unit: 'seconds', frames: 8, size: 224 })) {
    if (window.data.length !== 8 * 224 * 224 * 3) throw new Error(`window ${window.index} has ${window.data.length} bytes`);
    windows++;
  }
  const windowsS = (performance.now() - t0) / 1000;
  report({ suite: SUITE, figure: 'sliding windows (T=8, 224², 2 s / 1 s)', value: round(frames / windowsS, 1), unit: 'frames/s', seconds: round(windowsS, 2), windows });
  reportRatio(SUITE, 'sliding windows speed / plain decode speed', plainS / windowsS, { min: 0.7 });

  const rng = seededRng(42);
  for (const clipFrames of [1, 8]) {
    const latencies: number[] = [];
    for (let i = 0; i < 15; i++) {
      const start = Math.floor(rng() * (frames - 60));
      const began = performance.now();
      await sampleClip(tools, video, { start, end: start + 60, frames: clipFrames, mode: 'center', size: 224, crop: 'center' });
      latencies.push(performance.now() - began);
    }
    latencies.sort((a, b) => a - b);
    report({
      suite: SUITE,
      figure: `sample a clip at a random position (T=${clipFrames}, 2 s span, 224²)`,
      value: round(percentile(latencies, 0.5), 1),
      unit: 'ms median',
      p90: round(percentile(latencies, 0.9), 1),
    });
  }

  // The scrub proxy the player seeks in, made in the background: its speed against real time.
  const pieceSeconds = Math.min(60, seconds);
  const piece = await probeVideo(tools, join(OUT, `h264-1080p30-piece-${pieceSeconds}s.mp4`));
  t0 = performance.now();
  await makeScrubProxy(tools, piece, join(OUT, 'scrub-proxy.mp4'));
  const scrubS = (performance.now() - t0) / 1000;
  report({ suite: SUITE, figure: 'make a scrub proxy (1080p → 720p, GOP 6)', value: round(piece.frameCount / scrubS, 1), unit: 'frames/s', seconds: round(scrubS, 2) });
  reportRatio(SUITE, 'scrub proxy speed / real time', pieceSeconds / scrubS, { min: 1 });
}
