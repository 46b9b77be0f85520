/**
 * TensorFlow.js (seconds to load, plus native bindings) stays out of a host process until something needs
 * it: the CLI, the web host and Electron start without it, and `model info` runs without it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importGraph } from '../../helpers/import-graph.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('TensorFlow.js in the hosts', () => {
  it('is reached from no host entry by static imports (only by a dynamic import where a request needs it)', () => {
    const edges = importGraph(root, ['src-main']).filter((e) => e.kind === 'static' && !e.typeOnly);
    const next = new Map<string, string[]>();
    for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    const chains: string[] = [];
    for (const entry of ['src-main/hosts/cli/main.ts', 'src-main/hosts/web/server.ts', 'src-main/hosts/electron/main.ts']) {
      const previous = new Map<string, string>([[entry, '']]);
      const queue = [entry];
      while (queue.length) {
        const at = queue.shift()!;
        for (const to of next.get(at) ?? []) {
          if (previous.has(to)) continue;
          previous.set(to, at);
          queue.push(to);
          if (to.startsWith('@tensorflow/')) {
            const chain = [to];
            for (let v = at; v; v = previous.get(v)!) chain.unshift(v);
            chains.push(chain.join(' → '));
          }
        }
      }
    }
    expect(chains).toEqual([]);
  });

  it('is not loaded by `model info`', () => {
    const script = [
      `const { runCli } = await import(${JSON.stringify(new URL('../../../src-main/hosts/cli/main.ts', import.meta.url).href)});`,
      `const code = await runCli(['model', 'info', '--json']);`,
      `process.stderr.write(JSON.stringify({ code, tfjs: globalThis._tfengine !== undefined }));`,
    ].join('\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(run.stdout).params).toBeGreaterThan(20_000_000);
    // tfjs-core registers its engine on the global object when it loads.
    expect(JSON.parse(run.stderr.trim().split('\n').at(-1)!)).toEqual({ code: 0, tfjs: false });
  });
});
