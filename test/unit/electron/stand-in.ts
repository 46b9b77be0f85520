/**
 * Electron itself cannot run on this machine, so these stand-ins record what the app's main process and
 * preload do with Electron's API. Each is source text for another realm: a vm context (preload) or a Node
 * process whose `electron` import is redirected to it (main).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Writes an ESM `electron` stand-in plus a `--import` hook that maps `import 'electron'` to it. Once the
 * main process has made its window, the stand-in calls the recorded ipcMain handler as our own renderer
 * and as strangers would, prints one JSON line of what it saw and exits.
 */
export function writeMainStandIn(dir: string, appRoot: string): { importHook: string } {
  const standIn = join(dir, 'electron-stand-in.mjs');
  writeFileSync(
    standIn,
    `import { pathToFileURL } from 'node:url';
const seen = { order: [], windows: [], loadedFiles: [], handlers: [], navigation: {}, openHandler: null };
const handlers = new Map();
let readyFired = false;
// Electron emits ready once the entry module has evaluated; the entry's last step asks for it.
let ready;
const whenReady = () => (ready ??= new Promise((resolve) => setTimeout(() => { readyFired = true; seen.order.push('ready'); resolve(); }, 0)));
const webContents = {
  listeners: {},
  on(name, fn) { this.listeners[name] = fn; },
  setWindowOpenHandler(fn) { seen.openHandler = fn({ url: 'https://example.com/' }); },
  send() {},
};
export const app = {
  getAppPath: () => ${JSON.stringify(appRoot)},
  whenReady,
  on() {},
  quit() {},
};
export const protocol = {
  registerSchemesAsPrivileged(schemes) { seen.order.push(readyFired ? 'scheme-after-ready' : 'scheme-before-ready'); seen.schemes = schemes; },
  handle(scheme) { seen.order.push('protocol.handle:' + scheme); },
};
export const ipcMain = { handle(channel, fn) { seen.handlers.push(channel); handlers.set(channel, fn); } };
export const shell = { openExternal() {} };
export const net = {};
export class BrowserWindow {
  static getAllWindows() { return []; }
  constructor(options) {
    seen.windows.push(options.webPreferences);
    this.webContents = webContents;
    setTimeout(() => play(this), 0);
  }
  on() {}
  isDestroyed() { return false; }
  loadFile(file) { seen.loadedFiles.push(file); return Promise.resolve(); }
  loadURL(url) { seen.loadedFiles.push(url); return Promise.resolve(); }
}
async function play(win) {
  const call = handlers.get('api:call');
  const own = pathToFileURL(seen.loadedFiles[0]).href;
  const frame = (url, parent = null) => ({ url, parent });
  seen.ownRenderer = await call({ sender: win.webContents, senderFrame: frame(own + '#/label') }, 'app.info', {});
  seen.unknownRequest = await call({ sender: win.webContents, senderFrame: frame(own) }, 'fs.readFile', {});
  seen.foreignPage = await call({ sender: win.webContents, senderFrame: frame('https://example.com/') }, 'app.info', {});
  seen.otherFile = await call({ sender: win.webContents, senderFrame: frame('file:///tmp/out/renderer/index.html') }, 'app.info', {});
  seen.subframe = await call({ sender: win.webContents, senderFrame: frame(own, {}) }, 'app.info', {});
  seen.otherWindow = await call({ sender: {}, senderFrame: frame(own) }, 'app.info', {});
  for (const url of ['https://example.com/', own + '?x=1']) {
    let prevented = false;
    webContents.listeners['will-navigate']({ preventDefault: () => { prevented = true; } }, url);
    seen.navigation[url] = prevented;
  }
  process.stdout.write(JSON.stringify(seen) + '\\n');
  process.exit(0);
}
`,
  );
  const hook = join(dir, 'electron-hook.mjs');
  writeFileSync(
    hook,
    `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: ${JSON.stringify(pathToFileURL(standIn).href)}, shortCircuit: true };
  return next(specifier, context);
}\`));
`,
  );
  return { importHook: hook };
}

/** What the preload handed to contextBridge and ipcRenderer. */
export interface PreloadRecord {
  exposed: Map<string, unknown>;
  invoked: unknown[][];
  listeners: Map<string, Set<(...args: unknown[]) => void>>;
  required: string[];
}

/** A CommonJS `require` that knows only `electron`, as in a sandboxed preload, recording what it is asked. */
export function sandboxedRequire(record: PreloadRecord): (name: string) => unknown {
  const electron = {
    webUtils: {
      getPathForFile: (file: { name: string }) => `/home/user/videos/${file.name}`,
    },
    contextBridge: {
      exposeInMainWorld(key: string, value: unknown) {
        record.exposed.set(key, value);
      },
    },
    ipcRenderer: {
      invoke(...args: unknown[]) {
        record.invoked.push(args);
        return Promise.resolve({ ok: true, result: 'from main' });
      },
      on(channel: string, listener: (...args: unknown[]) => void) {
        if (!record.listeners.has(channel)) record.listeners.set(channel, new Set());
        record.listeners.get(channel)!.add(listener);
      },
      off(channel: string, listener: (...args: unknown[]) => void) {
        record.listeners.get(channel)?.delete(listener);
      },
    },
  };
  return (name: string) => {
    record.required.push(name);
    if (name !== 'electron') throw new Error(`module not found: ${name}`);
    return electron;
  };
}
