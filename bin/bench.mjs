#!/usr/bin/env node
// `npm run bench [-- suite...]`: runs `run()` of bench/<suite>.ts for each named suite (all suites when none
// is named). Suites print one JSON line per figure on stdout.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench');
const available = readdirSync(benchDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();
const requested = process.argv.slice(2);
const unknown = requested.filter((s) => !available.includes(s));
if (unknown.length) {
  process.stderr.write(`error: unknown bench suite ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
  process.exit(2);
}
let failed = false;
for (const suite of requested.length ? requested : available) {
  const mod = await import(pathToFileURL(join(benchDir, `${suite}.ts`)).href);
  if (typeof mod.run !== 'function') continue;
  try {
    await mod.run();
  } catch (err) {
    failed = true;
    process.stderr.write(`error: bench ${suite} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
}
process.exit(failed ? 1 : 0);
