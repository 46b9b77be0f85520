import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import vm from 'node:vm';
import { eventNames, requestNames } from '../../../src-main/api/contract.ts';
import { sandboxedRequire, writeMainStandIn, type PreloadRecord } from './stand-in.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const mainBundle = join(root, 'out/main/index.js');
const preloadBundle = join(root, 'out/preload/preload.cjs');
let dir: string;

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Builds once unless out/ is newer than everything the main and preload bundles come from. */
function buildIfStale(): void {
  const outputs = [mainBundle, preloadBundle, join(root, 'out/renderer/index.html')];
  const built = outputs.every(existsSync) ? Math.min(...outputs.map((p) => statSync(p).mtimeMs)) : 0;
  const sources = Math.max(newestMtime(join(root, 'src-main')), newestMtime(join(root, 'electron.vite.config.ts')));
  if (built > sources) return;
  const result = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stm-electron-'));
  buildIfStale();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('main bundle', () => {
  it('is a thin loader: no core code or native modules inlined, only tsx and the source main', () => {
    const code = readFileSync(mainBundle, 'utf8');
    const imported = [...code.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
    expect(imported.sort()).toEqual(['electron', 'node:path', 'node:url', 'tsx/esm/api']);
    for (const inlined of ['better-sqlite3', '@tensorflow', 'onnxruntime', 'zod', 'worker_threads']) expect(code).not.toContain(inlined);
    expect(readdirSync(join(root, 'out/main'))).toEqual(['index.js']);
  });

  it("imports Electron's API before tsx's hooks exist, and the sources never import it at run time", () => {
    const code = readFileSync(mainBundle, 'utf8');
    expect(code.indexOf('from "electron"')).toBeLessThan(code.indexOf('register()'));
    const sources = readdirSync(join(root, 'src-main'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const runtimeImports = sources.filter((f) => f !== 'index.ts' && /^import\s+(?!type\b)[^;]*from\s+'electron'/m.test(readFileSync(join(root, 'src-main', f), 'utf8')));
    expect(runtimeImports).toEqual(['hosts/electron/preload.ts']);
  });

  it('runs the source main through tsx: the window is sandboxed and only our own renderer is answered', () => {
    const home = join(dir, 'home');
    const project = join(dir, 'project');
    mkdirSync(project, { recursive: true });
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'state.json'), JSON.stringify({ lastProject: project }));
    const { importHook } = writeMainStandIn(dir, root);
    const run = spawnSync(process.execPath, ['--import', importHook, mainBundle], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, STM_STUDIO_HOME: home, ELECTRON_RENDERER_URL: '' },
    });
    expect(run.status, run.stderr).toBe(0);
    const seen = JSON.parse(run.stdout.trim().split('\n').pop()!);

    expect(seen.order[0]).toBe('scheme-before-ready');
    expect(seen.schemes[0].scheme).toBe('stm-media');
    expect(seen.handlers).toEqual(['api:call']);
    const [prefs] = seen.windows;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(prefs.preload).toBe(preloadBundle);
    expect(seen.loadedFiles).toEqual([join(root, 'out/renderer/index.html')]);
    expect(existsSync(join(root, 'out/renderer/index.html'))).toBe(true);

    expect(seen.ownRenderer.ok).toBe(true);
    expect(seen.ownRenderer.result.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(seen.unknownRequest).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    for (const refused of [seen.foreignPage, seen.otherFile, seen.subframe, seen.otherWindow]) {
      expect(refused).toEqual({ ok: false, error: { code: 'bad_request', message: 'untrusted sender' } });
    }
    expect(Object.values(seen.navigation)).toEqual([true, false]);
    expect(seen.openHandler).toEqual({ action: 'deny' });
  });
});

describe('preload bundle', () => {
  const record: PreloadRecord = { exposed: new Map(), invoked: [], listeners: new Map(), required: [] };
  type PreloadApi = {
    call(name: string, params: unknown): Promise<unknown>;
    on(name: string, fn: (p: unknown) => void): () => void;
    mediaBase: string;
    pathsForFiles(files: { name: string }[]): string[];
  };
  let api: PreloadApi;

  beforeAll(() => {
    const module = { exports: {} };
    vm.runInNewContext(readFileSync(preloadBundle, 'utf8'), { require: sandboxedRequire(record), module, exports: module.exports });
    api = record.exposed.get('api') as PreloadApi;
  });

  it('requires nothing but electron and exposes exactly window.api with call, on, mediaBase and pathsForFiles', () => {
    expect(new Set(record.required)).toEqual(new Set(['electron']));
    expect([...record.exposed.keys()]).toEqual(['api']);
    expect(Object.keys(api).sort()).toEqual(['call', 'mediaBase', 'on', 'pathsForFiles']);
    expect(api.mediaBase).toBe('stm-media://media');
  });

  it("gives the real paths of dropped files, as Electron's webUtils knows them", () => {
    expect(api.pathsForFiles([{ name: 'a.mp4' }, { name: 'b.mov' }])).toEqual(['/home/user/videos/a.mp4', '/home/user/videos/b.mov']);
  });

  it('forwards every contract request to the main process and refuses unknown names', async () => {
    for (const name of requestNames) {
      await expect(api.call(name, { probe: name })).resolves.toEqual({ ok: true, result: 'from main' });
    }
    expect(record.invoked).toEqual(requestNames.map((name) => ['api:call', name, { probe: name }]));
    record.invoked.length = 0;
    for (const name of ['fs.readFile', 'constructor', '__proto__', '']) {
      await expect(api.call(name, {})).resolves.toMatchObject({ ok: false, error: { code: 'bad_request' } });
    }
    expect(record.invoked).toEqual([]);
  });

  it('delivers only the subscribed event, until unsubscribed, and refuses unknown events', () => {
    const [first, second] = eventNames;
    const got: unknown[] = [];
    const off = api.on(first, (payload) => got.push(payload));
    const emit = (name: string, payload: unknown) => {
      for (const listener of record.listeners.get('api:event') ?? []) listener({}, name, payload);
    };
    emit(first, 1);
    emit(second, 2);
    off();
    emit(first, 3);
    expect(got).toEqual([1]);
    expect(() => api.on('process.exit', () => {})).toThrow(/Unknown event/);
  });
});

describe('npm start without Electron', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('says why in one line, serves the UI with its token, and stops on Ctrl-C', async () => {
    const home = join(dir, 'start-home');
    const env: NodeJS.ProcessEnv = {
      PATH: dirname(process.execPath),
      HOME: home,
      STM_STUDIO_HOME: join(home, 'data'),
      // A display that is not there, so the Electron binary is looked for (and, where missing, fetched);
      // wherever this runs, that download fails fast.
      DISPLAY: ':99',
      // ...but no system browser: it would outlive the test and write into the temporary home.
      STM_STUDIO_NO_BROWSER: '1',
      ELECTRON_MIRROR: 'http://127.0.0.1:9/',
      npm_config_better_sqlite3_binary_host: 'http://127.0.0.1:9',
    };
    child = spawn(process.execPath, [join(root, 'scripts/start.mjs'), join(dir, 'start-project')], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const found = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(stdout);
        if (found) resolve(found[1]);
        if (found || child!.exitCode !== null) clearInterval(timer);
        if (!found && child!.exitCode !== null) reject(new Error(`start exited: ${stdout}${stderr}`));
      }, 100);
    });
    const lines = stdout.split('\n').filter((l) => l && l !== 'Building STM Studio…');
    expect(lines[0]).toMatch(/^Electron cannot start here \(.+\); serving STM Studio to your browser instead\.$/);
    expect(lines[1]).toContain(url);
    expect(stderr).not.toMatch(/\n\s+at /);

    expect((await fetch(url)).status).toBe(200);
    const page = new URL(url);
    // The app shell is public (the package's own files); media and the contract need the token.
    expect((await fetch(`${page.origin}/media/video/1`)).status).toBe(401);
    expect((await fetch(`${page.origin}/media/video/1?token=wrong`)).status).toBe(401);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
