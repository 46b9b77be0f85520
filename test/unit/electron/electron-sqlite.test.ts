import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { electronSqlitePath, fetchElectronSqlite } from '../../../scripts/electron-sqlite.mjs';
import { electronBindingPath } from '../../../src-main/core/store/native-binding.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const sqliteVersion = JSON.parse(readFileSync(join(root, 'node_modules/better-sqlite3/package.json'), 'utf8')).version as string;
const electronVersion = JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')).version as string;
const electronAbi = readFileSync(join(root, 'node_modules/electron/abi_version'), 'utf8').trim();

let dir: string;
let server: Server;
let tarball: Buffer;
const requested: string[] = [];

/** A release host standing in for GitHub: serves one prebuilt archive, as prebuild-install expects it. */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stm-electron-sqlite-'));
  mkdirSync(join(dir, 'pkg/build/Release'), { recursive: true });
  writeFileSync(join(dir, 'pkg/build/Release/better_sqlite3.node'), 'electron build');
  tarball = execFileSync('tar', ['-czf', '-', '-C', join(dir, 'pkg'), 'build']);
  server = createServer((req, res) => {
    requested.push(req.url ?? '');
    const expected = `/v${sqliteVersion}/better-sqlite3-v${sqliteVersion}-electron-v${electronAbi}-${process.platform}-${process.arch}.tar.gz`;
    if (req.url === expected) res.writeHead(200, { 'content-type': 'application/gzip' }).end(tarball);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function envFor(host: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: join(dir, 'home'), npm_config_cache: join(dir, 'npm-cache'), npm_config_better_sqlite3_binary_host: host };
}

describe('better-sqlite3 for Electron', () => {
  it('is looked for where the store loads it from under Electron', () => {
    expect(electronSqlitePath(electronVersion)).toBe(electronBindingPath(electronVersion));
    expect(electronSqlitePath(electronVersion)).toContain(join('node_modules', '.stm-studio', `electron-${electronVersion}`, 'better_sqlite3.node'));
  });

  it("fetches the Electron-ABI prebuilt once, leaving the package's Node build alone", async () => {
    const nodeBuild = join(root, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    const before = readFileSync(nodeBuild);
    const target = join(dir, 'fetched', 'better_sqlite3.node');
    const { port } = server.address() as AddressInfo;

    expect(await fetchElectronSqlite(electronVersion, target, envFor(`http://127.0.0.1:${port}`))).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('electron build');
    expect(requested).toEqual([`/v${sqliteVersion}/better-sqlite3-v${sqliteVersion}-electron-v145-${process.platform}-${process.arch}.tar.gz`]);
    expect(readFileSync(nodeBuild).equals(before)).toBe(true);

    expect(await fetchElectronSqlite(electronVersion, target, envFor(`http://127.0.0.1:${port}`))).toBe(true);
    expect(requested).toHaveLength(1);
  });

  it('reports failure, writing nothing, when the release host cannot be reached', async () => {
    const target = join(dir, 'unreachable', 'better_sqlite3.node');
    expect(await fetchElectronSqlite(electronVersion, target, envFor('http://127.0.0.1:9'))).toBe(false);
    expect(existsSync(join(dir, 'unreachable'))).toBe(false);
  });
});
