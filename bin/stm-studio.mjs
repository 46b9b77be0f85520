#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so a fresh clone needs no build step for the command line.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src-main/hosts/cli/main.ts');
const code = await runCli(process.argv.slice(2));
// Long-running commands (serve) resolve only when stopped; flush and exit with the CLI's code.

process.exit(code);
