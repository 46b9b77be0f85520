import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebHost, type WebHost } from '../../../src-main/hosts/web/server.ts';
import { addVideos } from '../../../src-main/core/media/library.ts';
import { requireFfmpegTools } from '../../../src-main/core/media/locate.ts';
import { makeTestVideo } from '../../helpers/videos.ts';

let host: WebHost;
let dir: string;
let videoPath: string;
let videoId: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stm-web-media-'));
  process.env.STM_STUDIO_HOME = join(dir, 'home');
  host = await startWebHost({ projectDir: join(dir, 'project'), port: 0 });
  videoPath = await makeTestVideo(join(dir, 'clip.mp4'), { frames: 30 });
  const [result] = await addVideos(host.session.project, await requireFfmpegTools(), [videoPath]);
  if (!result?.ok) throw new Error('could not add the test video');
  videoId = result.video.id;
});
afterAll(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

const media = (path: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${host.port}${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(host.token)}`, { headers });

describe('/media routes of the web host', () => {
  it('serves a registered video with byte ranges, so <video> can seek', async () => {
    const bytes = readFileSync(videoPath);
    const whole = await media(`/media/video/${videoId}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);

    const part = await media(`/media/video/${videoId}`, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);
  });

  it('serves nothing that is not a registered video', async () => {
    expect((await media(`/media/video/${videoId + 100}`)).status).toBe(404);
    expect((await media(`/media/video/${encodeURIComponent('../../../etc/passwd')}`)).status).toBe(404);
    expect((await media(`/media/video/${encodeURIComponent(videoPath)}`)).status).toBe(404);
    expect((await media(`/media/file/${videoId}`)).status).toBe(404);
  });
});
