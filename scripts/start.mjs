#!/usr/bin/env node
// `npm start`: build if needed, open the Electron window; where Electron cannot run here (binary not
// downloadable, no display), serve the same UI on 127.0.0.1 and open the system browser instead.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function buildIfNeeded() {
  const outputs = ['out/main/index.js', 'out/preload/preload.cjs', 'out/renderer/index.html'].map((p) => join(root, p));
  const built = outputs.every((p) => existsSync(p)) ? Math.min(...outputs.map((p) => statSync(p).mtimeMs)) : 0;
  const sources = Math.max(newestMtime(join(root, 'src-main')), newestMtime(join(root, 'src-renderer')));
  if (built > sources) return;
  console.log('Building STM Studio…');
  const result = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) {
    console.error('The build failed (see above).');
    process.exit(1);
  }
}

/** The Electron binary, downloading it once if this machine can; otherwise null and why. */
function electronBinary() {
  let path;
  try {
    path = require('electron');
  } catch {
    const installer = join(root, 'node_modules/electron/install.js');
    if (existsSync(installer)) {
      console.log('Fetching the Electron binary…');
      const fetched = spawnSync(process.execPath, [installer], {
        cwd: dirname(installer),
        stdio: 'ignore',
        timeout: 180_000,
        env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' },
      });
      if (fetched.status === 0) {
        try {
          path = require('electron');
        } catch {
          /* still missing */
        }
      }
    }
  }
  if (typeof path !== 'string' || !existsSync(path)) return { path: null, reason: 'its binary could not be downloaded on this machine' };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return { path: null, reason: 'there is no display' };
  return { path, reason: '' };
}

function serveInBrowser(reason) {
  console.log(`Electron cannot start here (${reason}); opening STM Studio in your browser instead.`);
  const child = spawn(process.execPath, [join(root, 'bin/stm-studio.mjs'), 'serve', '--open', ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
  });
  child.on('exit', (code) => process.exit(code ?? 0));
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
}

buildIfNeeded();
const electron = electronBinary();
if (!electron.path) {
  serveInBrowser(electron.reason);
} else {
  const child = spawn(electron.path, [root], { stdio: 'inherit' });
  child.on('error', (err) => serveInBrowser(err.message));
  child.on('exit', (code) => process.exit(code ?? 0));
}
