// Sandboxed preload (bundled as CommonJS into out/preload/preload.cjs).
import './hosts/electron/preload.ts';
