/**
 * The first command of the README, `npm install`, must work offline: Electron's install script (which
 * downloads its binary from GitHub) never runs at install time; `npm start` fetches the binary instead,
 * where the network allows, and serves the UI to the browser where it does not.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';

const root = resolve(import.meta.dirname, '..', '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
  allowScripts: Record<string, boolean>;
};
const temps: string[] = [];
const temp = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** npm 11.16 and later read `allowScripts`; older ones run every install script. */
function npmReadsAllowScripts(): boolean {
  const [major, minor] = spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.trim().split('.').map(Number);
  return major! > 11 || (major === 11 && minor! >= 16);
}

describe('npm install', () => {
  it.runIf(npmReadsAllowScripts())("installs Electron without running its download script", () => {
    expect(manifest.allowScripts.electron).toBe(false);
    // A project with our Electron and our policy for it, installed by the real npm from the registry (or its cache).
    const dir = temp('stm-npm-');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({
      name: 'electron-install-probe', version: '1.0.0', private: true,
      devDependencies: { electron: manifest.devDependencies.electron }, allowScripts: { electron: manifest.allowScripts.electron },
    }));
    const installed = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
    expect(installed.status, installed.stderr).toBe(0);
    const electron = join(dir, 'node_modules', 'electron');
    expect(existsSync(join(electron, 'install.js'))).toBe(true);
    // install.js writes path.txt and dist/ when it runs; neither is there.
    expect(existsSync(join(electron, 'path.txt'))).toBe(false);
    expect(existsSync(join(electron, 'dist'))).toBe(false);
  }, 300_000);
});

describe('npm start without the Electron binary', () => {
  it('tries to fetch it through install.js, then serves the UI to the browser when it cannot', async () => {
    if (existsSync(join(root, 'node_modules', 'electron', 'path.txt'))) return; // a machine with the binary fetched already
    // The download goes to a mirror we run, which has nothing: the fetch is attempted and fails.
    const asked: string[] = [];
    const mirror = createServer((req, res) => {
      asked.push(req.url ?? '');
      res.writeHead(404).end();
    });
    await new Promise<void>((ok) => mirror.listen(0, '127.0.0.1', () => ok()));
    const home = temp('stm-start-home-');
    const child = spawn(process.execPath, [join(root, 'scripts', 'start.mjs'), join(home, 'project')], {
      cwd: root,
      env: {
        ...process.env, DISPLAY: ':99', STM_STUDIO_HOME: home, STM_STUDIO_NO_BROWSER: '1', ELECTRON_SKIP_BINARY_DOWNLOAD: '',
        ELECTRON_MIRROR: `http://127.0.0.1:${(mirror.address() as AddressInfo).port}/`, electron_config_cache: join(home, 'cache'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += String(chunk)));
    child.stderr.on('data', (chunk) => (out += String(chunk)));
    try {
      await new Promise<void>((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`no fallback within 180 s:\n${out}`)), 180_000);
        child.stdout.on('data', () => {
          if (/is serving .* at http:\/\/127\.0\.0\.1:\d+\/\?token=/.test(out)) {
            clearTimeout(timer);
            ok();
          }
        });
        child.on('exit', (code) => fail(new Error(`npm start exited (${code}):\n${out}`)));
      });
    } finally {
      child.kill('SIGTERM');
      mirror.close();
    }
    expect(asked.some((url) => url.includes(`electron-v${manifest.devDependencies.electron}-${process.platform}-`))).toBe(true);
    expect(out).toContain('Electron cannot start here (its binary could not be downloaded on this machine); serving STM Studio to your browser instead.');
  }, 200_000);
});
