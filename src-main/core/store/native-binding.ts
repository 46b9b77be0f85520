import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The better-sqlite3 binary built for an Electron version's ABI, which `npm start` (scripts/start.mjs)
 * fetches once beside the Node build: node_modules/.stm-studio/electron-<version>/better_sqlite3.node.
 * The package's own build/Release binary stays the Node one that the CLI and the tests load.
 */
export function electronBindingPath(electronVersion: string): string {
  const nodeModules = dirname(dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')));
  return join(nodeModules, '.stm-studio', `electron-${electronVersion}`, 'better_sqlite3.node');
}

let cached: { nativeBinding?: string } | undefined;

/** Options for `new Database()`: under Electron, its own binary when it has been fetched. */
export function nativeBindingOption(): { nativeBinding?: string } {
  if (cached) return cached;
  const electron = process.versions.electron;
  const binding = electron ? electronBindingPath(electron) : null;
  cached = binding && existsSync(binding) ? { nativeBinding: binding } : {};
  return cached;
}
