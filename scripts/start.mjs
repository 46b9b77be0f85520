#!/usr/bin/env node
// `npm start`: build if needed, open the Electron window; where Electron cannot run here (binary not
// downloadable, no display, no SQLite module for its ABI, or it quits at once), serve the same UI on
// 127.0.0.1 and open the system browser instead, saying why in one line.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronSqlitePath, fetchElectronSqlite } from './electron-sqlite.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
/** An Electron that exits with an error this soon after launch never got its window up. */
const STARTUP_MS = 10_000;

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
  const sources = Math.max(
    newestMtime(join(root, 'src-main')),
    newestMtime(join(root, 'src-renderer')),
    statSync(join(root, 'electron.vite.config.ts')).mtimeMs,
  );
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

/** A progress note on a terminal only, erased once done, so the outcome stays one line. */
function note(text) {
  if (!process.stdout.isTTY) return () => {};
  process.stdout.write(text);
  return () => process.stdout.write('\r\x1b[K');
}

/** The Electron binary, downloading it once if this machine can; otherwise null and why. */
function electronBinary() {
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return { path: null, reason: 'there is no display' };
  let path;
  try {
    path = require('electron');
  } catch {
    const installer = join(root, 'node_modules/electron/install.js');
    if (existsSync(installer)) {
      const done = note('Fetching the Electron binary (once)…');
      const fetched = spawnSync(process.execPath, [installer], {
        cwd: dirname(installer),
        stdio: 'ignore',
        timeout: 600_000,
        env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' },
      });
      done();
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
  return { path, reason: '' };
}

/** Runs `stm-studio serve --open` in this process, so Ctrl-C reaches the server directly and stops it. */
async function serveInBrowser(reason) {
  console.log(`Electron cannot start here (${reason}); serving STM Studio to your browser instead.`);
  const { register } = await import('tsx/esm/api');
  register();
  const { runCli } = await import('../src-main/hosts/cli/main.ts');
  process.exit(await runCli(['serve', '--open', ...process.argv.slice(2)]));
}

/** Launches Electron; if it exits with an error before its window could come up, serves to the browser. */
function launchElectron(binary) {
  const child = spawn(binary, [root], { stdio: ['ignore', 'inherit', 'pipe'] });
  // Electron quits on SIGINT/SIGTERM itself; pass on signals sent to this process alone.
  const forward = (sig) => child.kill(sig);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, forward);
  const started = Date.now();
  let lastError = '';
  child.stderr.on('data', (chunk) => {
    const lines = String(chunk).split('\n').map((l) => l.trim()).filter(Boolean);
    if (lines.length) lastError = lines[lines.length - 1];
    if (Date.now() - started > STARTUP_MS) process.stderr.write(chunk);
  });
  let fellBack = false;
  const fallBack = (reason) => {
    if (fellBack) return;
    fellBack = true;
    for (const sig of ['SIGINT', 'SIGTERM']) process.off(sig, forward);
    void serveInBrowser(reason);
  };
  child.on('error', (err) => fallBack(err.message));
  child.on('exit', (code, signal) => {
    const crashed = code ? `code ${code}` : signal && signal !== 'SIGINT' && signal !== 'SIGTERM' ? signal : '';
    if (crashed && Date.now() - started < STARTUP_MS) {
      fallBack(`it quit at start with ${crashed}${lastError ? `: ${lastError.slice(0, 160)}` : ''}`);
    } else if (!fellBack) {
      process.exit(code ?? (signal ? 1 : 0));
    }
  });
}

buildIfNeeded();
const electron = electronBinary();
if (!electron.path) {
  await serveInBrowser(electron.reason);
} else {
  const version = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
  let sqlite = existsSync(electronSqlitePath(version));
  if (!sqlite) {
    const done = note(`Fetching the SQLite module for Electron ${version} (once)…`);
    sqlite = await fetchElectronSqlite(version);
    done();
  }
  if (!sqlite) await serveInBrowser(`the SQLite module for Electron ${version} could not be downloaded`);
  else launchElectron(electron.path);
}
