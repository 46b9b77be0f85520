// Electron main entry, bundled into out/main/index.js as a thin loader: it runs the main process from the
// TypeScript sources through tsx (as bin/stm-studio.mjs does for the CLI), so the core's worker-thread
// entries and assets, found relative to their own source files, are where they expect to be.
import * as electron from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

const appRoot = join(import.meta.dirname, '..', '..');
const sourceMain = ['src-main', 'hosts', 'electron', 'main.ts'];

// Electron's API is imported above, by Electron's own loader; the sources get it handed in (see main.ts).
register();
const main = (await import(/* @vite-ignore */ pathToFileURL(join(appRoot, ...sourceMain)).href)) as typeof import('./hosts/electron/main.ts');
main.startElectronHost(electron);
