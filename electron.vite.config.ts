import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      lib: { entry: resolve(root, 'src-main/index.ts') },
    },
  },
  preload: {
    build: {
      // A sandboxed preload must be CommonJS.
      lib: { entry: resolve(root, 'src-main/preload.ts'), formats: ['cjs'], fileName: () => 'index.cjs' },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    build: {
      rollupOptions: { input: resolve(root, 'src-renderer/index.html') },
      chunkSizeWarningLimit: 2000,
    },
    plugins: [svelte({ configFile: resolve(root, 'svelte.config.js') })],
  },
});
