#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so a fresh clone needs no build step for the command line.
import { register } from 'tsx/esm/api';

// A reader that goes away early (`| head`) is not an error of ours: stop writing, keep the exit code.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

register();
const { runCli } = await import('../src-main/hosts/cli/main.ts');
const code = await runCli(process.argv.slice(2));

/** Resolves once everything written to `stream` so far has been handed to the OS (or the reader left). */
function drained(stream) {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write('', () => resolve());
  });
}
// Long-running commands (serve) resolve only when stopped. process.exit() drops output still queued for a
// pipe (a slow `| python3 -m json.tool` got 128 KiB of 900 KiB), so wait for both streams first.
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
