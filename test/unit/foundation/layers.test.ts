/**
 * The layers go one way. Each rule lists the offending imports by file and line, so a failure says what to move.
 *   hosts → app → api → core; core/export below core/jobs; the renderer speaks only the contract and the client.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importCycles, importGraph, type ImportEdge } from '../../helpers/import-graph.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const edges = importGraph(root, ['src-main', 'src-renderer']);

const show = (e: ImportEdge): string => `${e.from}:${e.line} imports ${e.specifier}`;
const breaks = (rule: (e: ImportEdge) => boolean): string[] => edges.filter(rule).map(show);

describe('the layers', () => {
  it('reads the whole tree, type-only and dynamic imports included', () => {
    expect(edges.length).toBeGreaterThan(500);
    // One of each kind of import, so the parser cannot silently skip a kind.
    expect(edges.some((e) => e.from.endsWith('.svelte') && !e.external)).toBe(true);
    expect(edges.some((e) => e.from === 'src-main/api/contract/jobs.ts' && e.typeOnly)).toBe(true);
    expect(edges.some((e) => e.kind === 'dynamic' && !e.external)).toBe(true);
  });

  it('have no import cycles', () => {
    expect(importCycles(edges).map((loop) => loop.join(' → '))).toEqual([]);
  });

  it('keep core below api, app and the hosts, and free of electron', () => {
    // `require('electron')` in plain Node yields the binary's path (doctor reports it); importing it is the API.
    const electronApi = (e: ImportEdge) => e.to === 'electron' && e.kind !== 'require';
    expect(breaks((e) => e.from.startsWith('src-main/core/') && (/^src-main\/(api|app|hosts)\//.test(e.to) || electronApi(e)))).toEqual([]);
  });

  it('keep api below app and the hosts, and app below the hosts', () => {
    expect(breaks((e) => e.from.startsWith('src-main/api/') && /^src-main\/(app|hosts)\//.test(e.to))).toEqual([]);
    expect(breaks((e) => e.from.startsWith('src-main/app/') && e.to.startsWith('src-main/hosts/'))).toEqual([]);
  });

  it('keep export below jobs', () => {
    expect(breaks((e) => e.from.startsWith('src-main/core/export/') && e.to.startsWith('src-main/core/jobs/'))).toEqual([]);
  });

  it('keep SQL inside the store: other rooms ask its repositories', () => {
    const sql = /\.(prepare|pragma)\(|\bdb\.exec\(/;
    const files = [...new Set(edges.map((e) => e.from))].filter((f) => f.startsWith('src-main/') && !f.startsWith('src-main/core/store/'));
    const offending = files.flatMap((f) =>
      readFileSync(join(root, f), 'utf8').split('\n').flatMap((line, i) => (sql.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(offending).toEqual([]);
  });

  it('let the renderer reach the main side only through the contract and the client', () => {
    const allowed = /^src-main\/api\/(contract\.ts|contract\/[^/]+\.ts|client\.ts)$/;
    expect(breaks((e) => e.from.startsWith('src-renderer/') && e.to.startsWith('src-main/') && !allowed.test(e.to))).toEqual([]);
  });

  it('keep contract files loadable in the sandboxed preload and the renderer: zod, define.ts, types, and data modules', () => {
    const contract = /^src-main\/api\/(contract\.ts|contract\/)/;
    // A data module (the job defaults) imports nothing at run time, so bundling it brings nothing of Node along.
    const dataModule = (file: string) => edges.filter((e) => e.from === file).every((e) => e.typeOnly);
    const inBundle = (e: ImportEdge) =>
      e.external ? e.to === 'zod' : contract.test(e.to) || /^src-main\/api\/(define|contract-names)\.ts$/.test(e.to) || dataModule(e.to);
    expect(breaks((e) => contract.test(e.from) && !e.typeOnly && !inBundle(e))).toEqual([]);
  });
});
