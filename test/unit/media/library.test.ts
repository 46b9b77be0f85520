import { existsSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalApi, type LocalApi } from '../../../src-main/api/local-client.ts';
import { mediaBackground } from '../../../src-main/api/handlers/media.ts';
import { resolveMediaFile } from '../../../src-main/hosts/web/media-routes.ts';
import { requireFfmpegTools } from '../../../src-main/core/media/locate.ts';
import { probeVideo } from '../../../src-main/core/media/probe.ts';
import { readSafetensors } from '../../../src-main/core/model/safetensors.ts';
import { ApiError } from '../../../src-main/api/client.ts';
import { makeAudioOnly, makeTestVideo } from '../../helpers/videos.ts';

let root: string;
let api: LocalApi;
const events: Array<{ name: string; payload: unknown }> = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'stm-media-library-'));
  process.env.STM_STUDIO_HOME = join(root, 'home');
  api = createLocalApi('web');
  api.hub.onAny((name, payload) => events.push({ name, payload }));
  await api.client.call('project.open', { dir: join(root, 'project'), create: true });
});
afterAll(() => {
  api.context.session.close();
  rmSync(root, { recursive: true, force: true });
});

async function addOne(path: string) {
  const [result] = await api.client.call('videos.add', { paths: [path] });
  if (!result?.ok) throw new Error(`could not add ${path}: ${JSON.stringify(result)}`);
  return result.video;
}

describe('videos in a project', () => {
  it('adds the good files, reports each bad one, and announces progress and the change', async () => {
    const good = await makeTestVideo(join(root, 'good.mp4'), { frames: 20 });
    const text = join(root, 'text.mp4');
    writeFileSync(text, 'not a video');
    const audio = await makeAudioOnly(join(root, 'audio.m4a'));
    events.length = 0;
    const results = await api.client.call('videos.add', { paths: [good, text, audio, good] });
    expect(results.map((r) => r.ok)).toEqual([true, false, false, false]);
    expect(results[0]).toMatchObject({ ok: true, video: { name: 'good.mp4', frameCount: 20, codec: 'h264' } });
    expect(results[1]).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(results[2]).toMatchObject({ ok: false, error: { message: `${audio}: it has audio but no video stream.` } });
    expect(results[3]).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(events.filter((e) => e.name === 'videos.probeProgress').map((e) => (e.payload as { done: number }).done)).toEqual([1, 2, 3, 4]);
    expect(events).toContainEqual({ name: 'project.changed', payload: { what: 'videos', ids: [results[0]!.ok ? results[0]!.video.id : -1] } });
    const list = await api.client.call('videos.list', {});
    expect(list.map((v) => v.name)).toEqual(['good.mp4']);
    expect(list[0]).toMatchObject({ playback: 'original', status: 'ok' });
  });

  it('gives the timeline every frame time', async () => {
    const video = await addOne(await makeTestVideo(join(root, 'vfr.mp4'), { frames: 12, fps: 30, vfr: true }));
    const info = await api.client.call('videos.frameInfo', { id: video.id });
    expect(info.frameCount).toBe(12);
    expect(info.framePts.map((t) => Math.round(t * 30))).toEqual([0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16]);
  });

  it('makes a filmstrip in the background and serves it only for registered videos', async () => {
    const video = await addOne(await makeTestVideo(join(root, 'strip.mp4'), { frames: 40, size: [160, 90] }));
    await (await mediaBackground(api.context)).idle();
    const listed = (await api.client.call('videos.list', {})).find((v) => v.id === video.id)!;
    expect(listed.filmstrip).toMatchObject({ columns: 24, tileHeight: 72, tileWidth: 128 });
    expect(listed.filmstrip!.frames[0]).toBe(0);
    expect(listed.filmstrip!.frames.at(-1)).toBe(39);
    const served = await resolveMediaFile(api.context.session, 'filmstrip', String(video.id));
    expect(served?.contentType).toBe('image/jpeg');
    const sprite = await probeVideo(await requireFfmpegTools(), served!.path);
    expect([sprite.width, sprite.height]).toEqual([24 * 128, 72]);
    expect(events.some((e) => e.name === 'videos.mediaProgress' && (e.payload as { state: string }).state === 'done')).toBe(true);

    expect(await resolveMediaFile(api.context.session, 'video', String(video.id))).toMatchObject({ path: video.path, contentType: 'video/mp4' });
    expect(await resolveMediaFile(api.context.session, 'video', '9999')).toBeNull();
    expect(await resolveMediaFile(api.context.session, 'video', '../../etc/passwd')).toBeNull();
    expect(await resolveMediaFile(api.context.session, 'secrets', String(video.id))).toBeNull();
  });

  it('makes an H.264 proxy for HEVC with progress, keeping every frame', async () => {
    const video = await addOne(await makeTestVideo(join(root, 'camera.mkv'), { frames: 30, codec: 'hevc', audio: true }));
    expect(await resolveMediaFile(api.context.session, 'video', String(video.id))).toBeNull();
    await (await mediaBackground(api.context)).idle();
    const listed = (await api.client.call('videos.list', {})).find((v) => v.id === video.id)!;
    expect(listed.playback).toBe('proxy');
    const served = await resolveMediaFile(api.context.session, 'video', String(video.id));
    expect(served?.contentType).toBe('video/mp4');
    const proxy = await probeVideo(await requireFfmpegTools(), served!.path);
    expect(proxy).toMatchObject({ codec: 'h264', frameCount: 30, hasAudio: true });
    const states = events
      .filter((e) => e.name === 'videos.mediaProgress' && (e.payload as { kind: string; videoId: number }).kind === 'proxy')
      .map((e) => (e.payload as { state: string }).state);
    expect(states.at(-1)).toBe('done');
    await api.client.call('videos.remove', { id: video.id });
    expect(existsSync(served!.path)).toBe(false);
  });

  it('refuses to serve a registered symlink once it points at another file', async () => {
    const real = await makeTestVideo(join(root, 'real.mp4'), { frames: 10 });
    const other = await makeTestVideo(join(root, 'other.mp4'), { frames: 25 });
    const link = join(root, 'link.mp4');
    symlinkSync(real, link);
    const video = await addOne(link);
    expect(await resolveMediaFile(api.context.session, 'video', String(video.id))).not.toBeNull();
    unlinkSync(link);
    symlinkSync(other, link);
    expect(await resolveMediaFile(api.context.session, 'video', String(video.id))).toBeNull();
  });

  it('marks a moved file missing and relinks it only to the same content', async () => {
    const path = await makeTestVideo(join(root, 'moving.mp4'), { frames: 15 });
    const video = await addOne(path);
    const moved = join(root, 'moved-here.mp4');
    renameSync(path, moved);
    expect((await api.client.call('videos.list', {})).find((v) => v.id === video.id)?.status).toBe('missing');
    const impostor = await makeTestVideo(join(root, 'impostor.mp4'), { frames: 16 });
    const refused = await api.client.call('videos.relink', { id: video.id, path: impostor }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).message).toContain('is not the same file as moving.mp4');
    const relinked = await api.client.call('videos.relink', { id: video.id, path: moved });
    expect(relinked).toMatchObject({ path: moved, name: 'moved-here.mp4', status: 'ok' });
    expect((await api.client.call('videos.list', {})).find((v) => v.id === video.id)?.status).toBe('ok');

    // Adding the moved file again reconnects the same video instead of making a second one.
    const again = join(root, 'moved-again.mp4');
    renameSync(moved, again);
    const [result] = await api.client.call('videos.add', { paths: [again] });
    expect(result).toMatchObject({ ok: true, video: { id: video.id, path: again }, warning: `relinked video ${video.id}, which was at ${moved}` });
  });

  it('writes what the model sees to safetensors', async () => {
    const video = await addOne(await makeTestVideo(join(root, 'frames.mp4'), { frames: 40 }));
    const out = join(root, 'clip.safetensors');
    const result = await api.client.call('videos.exportFrames', { video: 'frames.mp4', from: 8, to: 40, frames: 4, size: 32, reversed: true, out });
    expect(result.frameIndices).toEqual([36, 28, 20, 12]);
    const file = readSafetensors(out);
    expect(file.tensors.get('frames')).toMatchObject({ dtype: 'U8', shape: [4, 32, 32, 3] });
    expect(Array.from(file.tensors.get('frame_indices')!.data as BigInt64Array, Number)).toEqual([36, 28, 20, 12]);
    expect(file.metadata.video).toBe(video.path);
  });

  it('removes a video', async () => {
    const video = await addOne(await makeTestVideo(join(root, 'bye.mp4'), { frames: 5 }));
    expect(await api.client.call('videos.remove', { id: video.id })).toEqual({ removed: video.id });
    expect((await api.client.call('videos.list', {})).some((v) => v.id === video.id)).toBe(false);
    await expect(api.client.call('videos.remove', { id: video.id })).rejects.toThrow(`No video with id ${video.id}`);
  });
});
