import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireFfmpegTools, type FfmpegTools } from '../../../src-main/core/media/locate.ts';
import { probeVideo } from '../../../src-main/core/media/probe.ts';
import { firstTimestampMismatch, longestGop, makeScrubProxy, needsScrubProxy, SCRUB_GOP, SCRUB_MAX_HEIGHT } from '../../../src-main/core/media/scrub.ts';
import { createLocalApi } from '../../../src-main/api/local-client.ts';
import { mediaBackground } from '../../../src-main/api/handlers/media.ts';
import type { MediaTaskProgress } from '../../../src-main/core/media/background.ts';
import { resolveMediaFile } from '../../../src-main/hosts/web/media-routes.ts';
import { frameIndexOf, makeTestVideo } from '../../helpers/videos.ts';

const exec = promisify(execFile);
let dir: string;
let tools: FfmpegTools;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stm-scrub-'));
  process.env.STM_STUDIO_HOME = join(dir, 'home');
  tools = await requireFfmpegTools();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The frame index painted on every frame of a file, decoded in display order. */
async function paintedIndices(path: string, size: [number, number]): Promise<Array<number | null>> {
  const side = 64;
  const { stdout } = await exec(
    tools.ffmpeg,
    ['-v', 'error', '-i', path, ...tools.passthroughFlags, '-vf', `scale=${side}:${side}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 1 << 28 },
  );
  const bytes = side * side * 3;
  return Array.from({ length: stdout.length / bytes }, (_, i) => frameIndexOf(stdout.subarray(i * bytes, (i + 1) * bytes), side, size));
}

describe('scrub proxy', () => {
  it('shows every frame of the original at the same timestamp, with short GOPs, no B-frames and at most 720 lines', async () => {
    // Variable frame rate, B-frames, a long GOP and audio: everything that could shift a frame.
    const original = await makeTestVideo(join(dir, 'index-vfr.mp4'), { frames: 40, fps: 25, size: [768, 768], frameIndexCoded: true, vfr: true, bframes: 2, gop: 40, audio: true });
    const source = await probeVideo(tools, original);
    const fractions: number[] = [];
    const target = await makeScrubProxy(tools, source, join(dir, 'scrub', 'copy.mp4'), { onProgress: (f) => fractions.push(f) });
    const copy = await probeVideo(tools, target);

    expect(copy.frameCount).toBe(source.frameCount);
    expect(Array.from(copy.framePts)).toEqual(Array.from(source.framePts));
    expect(await paintedIndices(target, [copy.displayWidth, copy.displayHeight])).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect([copy.width, copy.height]).toEqual([SCRUB_MAX_HEIGHT, SCRUB_MAX_HEIGHT]);
    expect(copy.hasAudio).toBe(true);
    expect(await longestGop(tools, target)).toBeLessThanOrEqual(SCRUB_GOP);
    const { stdout } = await exec(tools.ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=has_b_frames', '-of', 'csv=p=0', target]);
    expect(stdout.trim()).toBe('0');
    const bytes = readFileSync(target);
    expect(bytes.indexOf('moov')).toBeLessThan(bytes.indexOf('mdat')); // +faststart: seekable before it is all read
    expect(fractions.at(-1)).toBe(1);
  });

  it('is wanted when a worst-case seek decodes over 25 Mpx, and kept only when every timestamp matches', () => {
    expect(needsScrubProxy({ width: 1920, height: 1080 }, 60)).toBe(true); // 1080p, 2 s at 30 fps
    expect(needsScrubProxy({ width: 1920, height: 1080 }, 6)).toBe(false);
    expect(needsScrubProxy({ width: 320, height: 180 }, 60)).toBe(false);
    expect(needsScrubProxy({ width: 1280, height: 720 }, 30)).toBe(true);
    expect(firstTimestampMismatch([0, 0.04, 0.12], [0, 0.04, 0.12])).toBeNull();
    expect(firstTimestampMismatch([0, 0.04, 0.12], [0, 0.04, 0.12005])).toBeNull();
    expect(firstTimestampMismatch([0, 0.04, 0.12], [0, 0.0333, 0.12])).toBe(1);
    expect(firstTimestampMismatch([0, 0.04, 0.12], [0, 0.04])).toBe(2);
  });

  it('is made in the background only for videos whose seeks decode too much, listed, served and deleted with the video', async () => {
    // 640×360 with 120 frames to a keyframe: a seek may decode 27.6 Mpx; with 6, 1.4 Mpx.
    const slow = await makeTestVideo(join(dir, 'slow-360p.mp4'), { frames: 120, fps: 30, size: [640, 360], gop: 120 });
    const fast = await makeTestVideo(join(dir, 'fast-360p.mp4'), { frames: 120, fps: 30, size: [640, 360], gop: 6 });
    const { client, context } = createLocalApi('web');
    const progress: MediaTaskProgress[] = [];
    client.on('videos.mediaProgress', (p) => progress.push(p));
    await client.call('project.open', { dir: join(dir, 'project'), create: true });
    try {
      const added = await client.call('videos.add', { paths: [slow, fast] });
      const [slowId, fastId] = added.map((r) => (r.ok ? r.video.id : -1));
      await (await mediaBackground(context)).idle();

      const listed = new Map((await client.call('videos.list', {})).map((v) => [v.id, v]));
      expect(listed.get(slowId!)?.scrub).toBe('ready');
      expect(listed.get(fastId!)?.scrub).toBeNull();
      expect(progress.filter((p) => p.kind === 'scrub' && p.state === 'done').map((p) => p.videoId).sort()).toEqual([slowId, fastId].sort());

      const served = await resolveMediaFile(context.session, 'scrub', String(slowId));
      expect(served?.contentType).toBe('video/mp4');
      expect((await probeVideo(tools, served!.path)).frameCount).toBe(120);
      expect(await longestGop(tools, served!.path)).toBe(1); // this small, the copy is all-intra
      expect(await resolveMediaFile(context.session, 'scrub', String(fastId))).toBeNull();

      // Listing again neither probes nor encodes again.
      const scrubEvents = () => progress.filter((p) => p.kind === 'scrub').length;
      const seen = scrubEvents();
      await client.call('videos.list', {});
      await (await mediaBackground(context)).idle();
      expect(scrubEvents()).toBe(seen);

      await client.call('videos.remove', { id: slowId! });
      expect(existsSync(served!.path)).toBe(false);
    } finally {
      context.session.close();
    }
  });
});
