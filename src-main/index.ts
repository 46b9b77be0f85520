// Electron entry (bundled by electron-vite into out/main/index.js).
import './hosts/electron/main.ts';
