import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { intOption, printJson, UsageError, withProject } from '../context.ts';
import { progressBar } from '../progress.ts';
import type { CommandGroups } from './groups.ts';

const VIDEO_EXTENSIONS = /\.(mp4|m4v|mov|mkv|webm|avi|mpg|mpeg|wmv|flv|mts|m2ts|ts|3gp|ogv)$/i;

/** Video files directly inside a folder, sorted by name. */
function videosIn(folder: string): string[] {
  try {
    return readdirSync(folder)
      .filter((name) => VIDEO_EXTENSIONS.test(name) && statSync(join(folder, name)).isFile())
      .sort()
      .map((name) => join(folder, name));
  } catch {
    throw new UsageError(`--dir ${folder}: not a readable folder`);
  }
}

function formatFps(fps: number | null): string {
  return fps === null ? '?' : Number.isInteger(Math.round(fps * 100) / 100) ? String(Math.round(fps)) : fps.toFixed(2);
}

/** `video add DIR FILE… [--dir FOLDER]`, `video frames DIR VIDEO …`. */
export function registerVideo(program: Command, _groups: CommandGroups): void {
  const video = program.command('video').description('add videos and inspect what the model sees');

  video
    .command('add')
    .description('probe and add video files to the project (good files go in even if others fail)')
    .argument('<dir>', 'project folder')
    .argument('[files...]', 'video files')
    .option('--dir <folder>', 'also add every video file in this folder')
    .option('--json', 'print the results as JSON')
    .action(async (dir: string, files: string[], opts: { dir?: string; json?: boolean }) => {
      const paths = [...files, ...(opts.dir ? videosIn(opts.dir) : [])];
      if (paths.length === 0) throw new UsageError(opts.dir ? `no video files in ${opts.dir}` : 'give at least one video file or --dir FOLDER');
      await withProject(dir, async ({ client }) => {
        const bar = progressBar('probing');
        const stop = client.on('videos.probeProgress', ({ done, total }) => bar.update(done, total));
        const results = await client.call('videos.add', { paths }).finally(() => {
          stop();
          bar.stop();
        });
        if (opts.json) printJson(results);
        else {
          for (const r of results) {
            if (r.ok) {
              const v = r.video;
              process.stdout.write(
                `ok     ${r.path}: video ${v.id}, ${v.frameCount} frames, ${formatFps(v.fps)} fps, ${v.displayWidth}×${v.displayHeight}` +
                  `${v.rotation ? ` (rotated ${v.rotation}°)` : ''}, ${v.codec}${r.warning ? ` — warning: ${r.warning}` : ''}\n`,
              );
            } else {
              const message = r.error.message.startsWith(r.path) ? r.error.message : `${r.path}: ${r.error.message}`;
              process.stdout.write(`failed ${message}\n`);
            }
          }
        }
        if (results.some((r) => !r.ok)) process.exitCode = 1;
      });
    });

  video
    .command('frames')
    .description('write the frames the model sees for a span to a safetensors file (keys frames, frame_indices)')
    .argument('<dir>', 'project folder')
    .argument('<video>', 'video id, path or file name')
    .requiredOption('--from <frame>', 'first frame (inclusive)', intOption('--from', 0))
    .requiredOption('--to <frame>', 'end frame (exclusive)', intOption('--to', 1))
    .requiredOption('--frames <T>', 'frames to sample', intOption('--frames', 1))
    .requiredOption('--size <S>', 'output side in pixels', intOption('--size', 8))
    .addOption(new Option('--mode <mode>', 'TSN sampling').choices(['center', 'random']).default('center'))
    .addOption(new Option('--crop <policy>', 'crop policy').choices(['center', 'train']).default('center'))
    .option('--reversed', 'reverse the frame order (reversed playback)')
    .option('--seed <n>', 'random seed for --mode random / --crop train', intOption('--seed'))
    .requiredOption('--out <file>', 'safetensors file to write')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        dir: string,
        ref: string,
        opts: { from: number; to: number; frames: number; size: number; mode: 'center' | 'random'; crop: 'center' | 'train'; reversed?: boolean; seed?: number; out: string; json?: boolean },
      ) => {
        if (opts.to <= opts.from) throw new UsageError(`--to (${opts.to}) must be greater than --from (${opts.from})`);
        await withProject(dir, async ({ client }) => {
          const result = await client.call('videos.exportFrames', {
            video: ref,
            from: opts.from,
            to: opts.to,
            frames: opts.frames,
            size: opts.size,
            mode: opts.mode,
            crop: opts.crop,
            reversed: opts.reversed === true,
            ...(opts.seed === undefined ? {} : { seed: opts.seed }),
            out: opts.out,
          });
          if (opts.json) printJson(result);
          else process.stdout.write(`wrote frames [${result.shape.join(', ')}] uint8 from frames ${result.frameIndices.join(' ')} to ${result.out}\n`);
        });
      },
    );
}
