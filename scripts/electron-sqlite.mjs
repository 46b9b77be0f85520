// better-sqlite3 for Electron's ABI, fetched once beside the Node build that the CLI and the tests load.
// src-main/core/store/native-binding.ts loads it from the same path when running under Electron.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const manifest = require.resolve('better-sqlite3/package.json');

/** node_modules/.stm-studio/electron-<version>/better_sqlite3.node */
export function electronSqlitePath(electronVersion) {
  return join(dirname(dirname(manifest)), '.stm-studio', `electron-${electronVersion}`, 'better_sqlite3.node');
}

/**
 * Fetches the prebuilt binary for `electronVersion` into `target` unless it is there, with prebuild-install
 * run on a temporary copy of the package's manifest (so node_modules/better-sqlite3 keeps its Node build).
 * Resolves to whether `target` exists afterwards.
 */
export async function fetchElectronSqlite(electronVersion, target = electronSqlitePath(electronVersion), env = process.env) {
  if (existsSync(target)) return true;
  const work = mkdtempSync(join(tmpdir(), 'stm-studio-sqlite-'));
  try {
    copyFileSync(manifest, join(work, 'package.json'));
    const prebuildInstall = createRequire(manifest).resolve('prebuild-install/bin.js');
    const args = [prebuildInstall, '--runtime', 'electron', '--target', electronVersion, '--arch', process.arch, '--platform', process.platform];
    const status = await new Promise((resolve) => {
      const child = spawn(process.execPath, args, { cwd: work, env, stdio: 'ignore', timeout: 300_000 });
      child.on('error', () => resolve(null));
      child.on('exit', (code) => resolve(code));
    });
    const binary = join(work, 'build', 'Release', 'better_sqlite3.node');
    if (status !== 0 || !existsSync(binary)) return false;
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(binary, `${target}.partial`);
    renameSync(`${target}.partial`, target);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
