/**
 * Timeline and player speed in Debian Chromium, through the web host (needs `npm run build`).
 * - Pan/zoom frame cost with 10k clips and 100k prediction windows on one video, against the same
 *   timeline with nothing on it (the reference measured in the same run); target: under 16 ms a frame.
 * - Seek-to-frame-shown on a 1080p H.264 video with a 2 s keyframe interval (click on the timeline → the
 *   frame is presented), on the original file and through its scrub proxy (ratio against the original in
 *   the same run), and on a 320×180 video that needs no proxy; target: under 100 ms.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { createLocalApi } from '../src-main/api/local-client.ts';
import { startWebHost } from '../src-main/hosts/web/server.ts';
import { requireFfmpegTools } from '../src-main/core/media/locate.ts';

const exec = promisify(execFile);
const OUT = resolve(import.meta.dirname, '..', 'bench-output', 'ui');
const CLIPS = 10_000;
const WINDOWS = 100_000;
const CLASSES = 5;

function line(figure: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ suite: 'ui', ...figure })}\n`);
}

async function makeVideo(name: string, size: string, seconds: number, fps: number): Promise<string> {
  const path = join(OUT, name);
  if (existsSync(path)) return path;
  const tools = await requireFfmpegTools();
  await exec(tools.ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}`, '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(fps * 2), '-pix_fmt', 'yuv420p', path]);
  return path;
}

/** A project with the long video labelled densely and predicted with WINDOWS windows, plus the two seek videos. */
async function makeProject(dir: string, long: string, hd: string, small: string): Promise<void> {
  const { client, context } = createLocalApi('cli');
  await client.call('project.open', { dir, create: true });
  const added = await client.call('videos.add', { paths: [long, hd, small] });
  const failed = added.filter((r) => !r.ok);
  if (failed.length) throw new Error(`videos.add failed: ${JSON.stringify(failed)}`);
  const project = context.session.project;
  const video = project.videos.list().find((v) => v.path === long)!;
  const frames = video.frameCount!;
  const classes = Array.from({ length: CLASSES }, (_, i) => project.classes.add({ name: `action ${i + 1}` }));
  const perLane = CLIPS / CLASSES;
  const pitch = Math.floor(frames / perLane);
  project.clips.createMany(
    Array.from({ length: CLIPS }, (_, i) => {
      const lane = i % CLASSES;
      const start = Math.floor(i / CLASSES) * pitch + (lane % pitch);
      return { videoId: video.id, classId: classes[lane].id, startFrame: start, endFrame: Math.min(frames, start + Math.max(1, pitch - 1)) };
    }),
  );
  const model = project.models.insert({ name: 'bench', arch: {}, classes: classes.map((c) => c.name) });
  const job = project.jobs.insert('predict', { modelId: model.id });
  const perDirection = WINDOWS / 2;
  const stride = frames / perDirection;
  const rows = [];
  for (const direction of ['forward', 'reversed'] as const) {
    for (let w = 0; w < perDirection; w++) {
      const start = Math.floor(w * stride);
      const probs = new Float32Array(CLASSES);
      let sum = 0;
      for (let c = 0; c < CLASSES; c++) sum += probs[c] = Math.exp(3 * Math.sin(w / 400 + c * 1.3 + (direction === 'reversed' ? 0.7 : 0)));
      for (let c = 0; c < CLASSES; c++) probs[c] /= sum;
      rows.push({ jobId: job.id, modelId: model.id, videoId: video.id, windowIndex: w, startFrame: start, endFrame: Math.min(frames, start + 16), direction, probabilities: probs });
    }
  }
  project.predictions.insertMany(rows);
  context.session.close();
}

/** Wheel events over the timeline; returns the draw time of each frame (ms) read from the page's profile marks. */
async function wheelFrames(page: Page, kind: 'zoom' | 'pan', steps: number): Promise<number[]> {
  return page.evaluate(
    async ({ kind, steps }) => {
      const canvas = document.querySelector('canvas[role="slider"]') as HTMLCanvasElement;
      const r = canvas.getBoundingClientRect();
      document.documentElement.dataset.profile = 'timeline';
      performance.clearMeasures('timeline-draw');
      const frame = () => new Promise((ok) => requestAnimationFrame(() => ok(null)));
      for (let i = 0; i < steps; i++) {
        const zoomIn = Math.floor(i / 20) % 2 === 0;
        const deltaY = kind === 'zoom' ? (zoomIn ? -120 : 120) : (Math.floor(i / 30) % 2 ? -1 : 1) * 90;
        canvas.dispatchEvent(new WheelEvent('wheel', { deltaY, ctrlKey: kind === 'zoom', clientX: r.left + r.width * 0.6, clientY: r.top + 40, bubbles: true, cancelable: true }));
        await frame();
        await frame();
      }
      delete document.documentElement.dataset.profile;
      return performance.getEntriesByName('timeline-draw').map((e) => e.duration);
    },
    { kind, steps },
  );
}

/**
 * Real clicks at random timeline positions; time from the pointer press to the first paint after the
 * decoder has the new frame (`seeked`, then the next animation frame). A click that times out counts as 5 s.
 */
async function seekLatencies(page: Page, count: number): Promise<number[]> {
  const canvas = page.getByRole('slider', { name: /^Timeline/ });
  const box = (await canvas.boundingBox())!;
  const out: number[] = [];
  let seed = 7;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let i = 0; i < count; i++) {
    await page.evaluate(() => {
      const target = document.querySelector('canvas[role="slider"]') as HTMLCanvasElement;
      const video = document.querySelector('video') as HTMLVideoElement;
      const w = window as unknown as { seekLatency: Promise<number> };
      w.seekLatency = new Promise((ok) => {
        target.addEventListener('pointerdown', () => {
          const t0 = performance.now();
          const timer = setTimeout(() => ok(5000), 5000);
          video.addEventListener('seeked', () => requestAnimationFrame(() => {
            clearTimeout(timer);
            ok(performance.now() - t0);
          }), { once: true });
        }, { once: true, capture: true });
      });
    });
    // A distinct slot of the timeline each time, visited out of order, so every click really seeks.
    const slot = (i * 7) % count;
    await page.mouse.click(box.x + 2 + ((slot + rand()) / count) * (box.width - 4), box.y + 5);
    out.push(await page.evaluate(() => (window as unknown as { seekLatency: Promise<number> }).seekLatency));
    await page.waitForTimeout(30);
  }
  return out;
}

/** Points the player's <video> at `url` (the app's playhead stays attached) and measures seeks there. */
async function seekLatenciesFrom(page: Page, url: string, count: number): Promise<number[]> {
  await page.evaluate((src) => {
    const video = document.querySelector('video') as HTMLVideoElement;
    if (video.currentSrc !== src) video.src = src;
  }, url);
  await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 2, undefined, { timeout: 30_000 });
  return seekLatencies(page, count);
}

function stats(values: number[]): { p50: number; p95: number; max: number; n: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  const round = (v: number) => Math.round(v * 100) / 100;
  return { p50: round(at(0.5)), p95: round(at(0.95)), max: round(s[s.length - 1] ?? NaN), n: s.length };
}

export async function run(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const [long, hd, small] = await Promise.all([
    makeVideo('long-25fps-64x36.mp4', '64x36', 3600, 25),
    makeVideo('hd-1080p.mp4', '1920x1080', 20, 30),
    makeVideo('small-320x180.mp4', '320x180', 20, 30),
  ]);
  const dir = join(OUT, `project-${Date.now()}`);
  await makeProject(dir, long, hd, small);
  const host = await startWebHost({ projectDir: dir, port: 0 });
  const profile = join(OUT, `profile-${Date.now()}`);
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    // tsx names the helpers of the evaluated functions with `__name`; give the page a no-op one.
    await page.addInitScript('globalThis.__name = (f) => f');
    await page.goto(host.url);
    const open = (name: string) => page.getByRole('button', { name: `Open video ${name}` }).click();
    const longName = long.split('/').pop()!;
    await open(longName);
    await page.waitForFunction(() => document.querySelectorAll('[aria-label="Clips"] li').length > 0);
    await page.waitForTimeout(500);

    const loaded = { zoom: stats(await wheelFrames(page, 'zoom', 120)), pan: stats(await wheelFrames(page, 'pan', 120)) };
    // Reference: the same timeline on a video with no clips and no predictions.
    await open(small.split('/').pop()!);
    await page.waitForTimeout(300);
    const empty = { zoom: stats(await wheelFrames(page, 'zoom', 60)), pan: stats(await wheelFrames(page, 'pan', 60)) };
    for (const kind of ['zoom', 'pan'] as const) {
      const l = loaded[kind];
      line({ figure: `timeline_${kind}_draw_ms`, clips: CLIPS, windows: WINDOWS, ...l, empty_p95: empty[kind].p95, ratio_vs_empty: Math.round((l.p95 / Math.max(0.01, empty[kind].p95)) * 10) / 10, target_ms: 16, within_target: l.p95 < 16 });
    }
    // The 1080p video gets a scrub proxy in the background (its seeks decode up to 60 full-HD frames); the
    // small one does not. Both files of the 1080p video are measured once the copy is made, so the
    // encoder is not competing for the CPU.
    await open(hd.split('/').pop()!);
    const made = Date.now();
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement | null)?.currentSrc.includes('/media/scrub/'), undefined, { timeout: 300_000, polling: 250 });
    line({ figure: 'scrub_proxy_ready_s', video: hd.split('/').pop(), seconds: Math.round((Date.now() - made) / 100) / 10 });
    const scrubUrl = await page.evaluate(() => (document.querySelector('video') as HTMLVideoElement).currentSrc);
    const originalUrl = scrubUrl.replace('/media/scrub/', '/media/video/');
    const original = stats(await seekLatenciesFrom(page, originalUrl, 25));
    const scrub = stats(await seekLatenciesFrom(page, scrubUrl, 25));
    line({ figure: 'seek_to_frame_shown_ms', video: hd.split('/').pop(), source: 'original', ...original, target_ms: 100, within_target: original.p95 < 100 });
    line({
      figure: 'seek_to_frame_shown_ms', video: hd.split('/').pop(), source: 'scrub_proxy', ...scrub, target_ms: 100, within_target: scrub.p95 < 100,
      original_p50: original.p50, original_p95: original.p95, ratio_p50_vs_original: Math.round((scrub.p50 / original.p50) * 100) / 100, ratio_p95_vs_original: Math.round((scrub.p95 / original.p95) * 100) / 100,
    });
    await open(small.split('/').pop()!);
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement | null)?.readyState! >= 2, undefined, { timeout: 30_000 });
    const smallSource = await page.evaluate(() => ((document.querySelector('video') as HTMLVideoElement).currentSrc.includes('/media/scrub/') ? 'scrub_proxy' : 'original'));
    const s = stats(await seekLatencies(page, 25));
    line({ figure: 'seek_to_frame_shown_ms', video: small.split('/').pop(), source: smallSource, ...s, target_ms: 100, within_target: s.p95 < 100 });
  } finally {
    await browser.close();
    await host.close();
    // Keep the encoded videos for the next run; the project and profile are per run.
    rmSync(dir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
}
