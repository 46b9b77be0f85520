import { afterEach, describe, expect, it } from 'vitest';
import { locateFfmpegTools, passthroughFlagsFor, requireFfmpegTools } from '../../../src-main/core/media/locate.ts';

const saved = { ffmpeg: process.env.FFMPEG_PATH, ffprobe: process.env.FFPROBE_PATH };
afterEach(() => {
  for (const [key, value] of [['FFMPEG_PATH', saved.ffmpeg], ['FFPROBE_PATH', saved.ffprobe]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('locating ffmpeg and ffprobe', () => {
  it('finds both tools and their versions on this machine', async () => {
    const { ffmpeg, ffprobe } = await locateFfmpegTools();
    expect(ffmpeg.path).toBeTruthy();
    expect(ffprobe.path).toBeTruthy();
    expect(ffmpeg.version).toMatch(/\S/);
    expect(['env', 'ffmpeg-static', '@ffmpeg-installer', 'PATH']).toContain(ffmpeg.source);
  });

  it('prefers FFMPEG_PATH / FFPROBE_PATH when they point at working binaries', async () => {
    const found = await locateFfmpegTools();
    process.env.FFMPEG_PATH = found.ffmpeg.path!;
    process.env.FFPROBE_PATH = found.ffprobe.path!;
    const { ffmpeg, ffprobe } = await locateFfmpegTools();
    expect(ffmpeg).toMatchObject({ path: found.ffmpeg.path, source: 'env' });
    expect(ffprobe).toMatchObject({ path: found.ffprobe.path, source: 'env' });
  });

  it('skips an FFMPEG_PATH that does not exist, says so, and falls back to the next rung', async () => {
    process.env.FFMPEG_PATH = '/nowhere/ffmpeg';
    const { ffmpeg } = await locateFfmpegTools();
    expect(ffmpeg.source).not.toBe('env');
    expect(ffmpeg.path).toBeTruthy();
    expect(ffmpeg.reason).toContain('/nowhere/ffmpeg does not exist');
  });

  it('skips a setting that points at something that does not run', async () => {
    const { ffmpeg } = await locateFfmpegTools({ ffmpegPath: '/etc/hostname' });
    expect(ffmpeg.source).not.toBe('setting');
    expect(ffmpeg.reason).toContain('setting: /etc/hostname did not run');
  });

  it('picks -fps_mode from ffmpeg 5.1 on and -vsync 0 before (and for unversioned git builds)', async () => {
    expect(passthroughFlagsFor('4.4.2-0ubuntu0.22.04.1')).toEqual(['-vsync', '0']);
    expect(passthroughFlagsFor('5.0.1')).toEqual(['-vsync', '0']);
    expect(passthroughFlagsFor('5.1.9-0+deb12u1')).toEqual(['-fps_mode', 'passthrough']);
    expect(passthroughFlagsFor('n7.1')).toEqual(['-fps_mode', 'passthrough']);
    expect(passthroughFlagsFor('N-47683-g0e8eb07980-static')).toEqual(['-vsync', '0']);
    const tools = await requireFfmpegTools();
    expect(tools.passthroughFlags).toEqual(passthroughFlagsFor(tools.ffmpegVersion));
  });
});
