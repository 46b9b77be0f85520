import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { UserError } from '../errors.ts';
import { lastLine, stderrTail } from '../media/process.ts';

export interface EncodeSettings {
  width: number;
  height: number;
  fps: number;
}

/**
 * Encodes rgb24 frames into an H.264 MP4 (yuv420p, every frame kept, constant rate) by piping raw video
 * into ffmpeg. High quality (CRF 12) so decoded frames stay close to the rendered ones.
 */
export async function encodeH264(ffmpeg: string, path: string, settings: EncodeSettings, frames: Iterable<Uint8Array>): Promise<number> {
  const { width, height, fps } = settings;
  const args = [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0',
    '-c:v', 'libx264', '-preset', 'medium', '-crf', '12', '-pix_fmt', 'yuv420p', '-g', String(fps * 2),
    '-movflags', '+faststart', path,
  ];
  const child = spawn(ffmpeg, args, { windowsHide: true });
  child.stdout.resume();
  const stderr = stderrTail(child);
  const closed = once(child, 'close') as Promise<[number | null]>;
  // A write after ffmpeg died would throw EPIPE asynchronously; the exit code tells the real story.
  child.stdin.on('error', () => {});
  let count = 0;
  try {
    for (const frame of frames) {
      if (frame.length !== width * height * 3) throw new Error(`frame ${count} has ${frame.length} bytes, expected ${width * height * 3}`);
      if (!child.stdin.write(frame)) await Promise.race([once(child.stdin, 'drain'), closed]);
      if (child.exitCode !== null) break;
      count++;
    }
  } finally {
    child.stdin.end();
  }
  const [code] = await closed;
  if (code !== 0) throw new UserError('unavailable', `${path}: ffmpeg could not encode the demo video (${lastLine(stderr())}).`);
  return count;
}
