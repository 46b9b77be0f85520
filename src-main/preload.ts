// Sandboxed preload entry, bundled as one CommonJS file into out/preload/preload.cjs.
import './hosts/electron/preload.ts';
