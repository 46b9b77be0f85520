import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { requestNames, eventNames } from './src-main/api/contract.ts';

const root = import.meta.dirname;
const contractNamesModule = resolve(root, 'src-main/api/contract-names.ts');

/**
 * The sandboxed preload can require nothing but `electron`, and needs only the contract's names: it gets
 * them as literal arrays instead of the zod schemas they are computed from.
 */
function contractNamesAsLiterals(): Plugin {
  return {
    name: 'stm-contract-names-as-literals',
    enforce: 'pre',
    load(id) {
      if (id !== contractNamesModule) return null;
      return `export const requestNames = ${JSON.stringify(requestNames)};\nexport const eventNames = ${JSON.stringify(eventNames)};\n`;
    },
  };
}

export default defineConfig({
  main: {
    // A thin loader (src-main/index.ts) that runs the TypeScript sources through tsx, so the core's worker
    // entries and assets keep the paths they have in the source tree.
    build: {
      lib: { entry: resolve(root, 'src-main/index.ts'), formats: ['es'] },
      rollupOptions: { output: { entryFileNames: 'index.js' } },
    },
  },
  preload: {
    build: {
      // A sandboxed preload must be one self-contained CommonJS file.
      externalizeDeps: false,
      lib: { entry: resolve(root, 'src-main/preload.ts'), formats: ['cjs'] },
      rollupOptions: { external: ['electron'], output: { entryFileNames: 'preload.cjs' } },
    },
    plugins: [contractNamesAsLiterals()],
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    // Served as-is next to index.html (the app icon).
    publicDir: resolve(root, 'resources'),
    build: {
      rollupOptions: { input: resolve(root, 'src-renderer/index.html') },
      chunkSizeWarningLimit: 2000,
    },
    plugins: [svelte({ configFile: resolve(root, 'svelte.config.js') })],
  },
});
