/** Cheap checks that explain why a GPU backend cannot run here, before anything heavy is loaded, and Dawn's install. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function resolvablePackage(name: string): boolean {
  try {
    require.resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
}

export type Probe = { ok: true } | { ok: false; reason: string };

/** tfjs-node-gpu 4.22 links against CUDA 11.2 and cuDNN 8.1 exactly: say which piece is missing. */
export function probeCuda(): Probe {
  if (!resolvablePackage('@tensorflow/tfjs-node-gpu')) {
    return { ok: false, reason: '@tensorflow/tfjs-node-gpu is not installed (optional dependency)' };
  }
  if (process.platform !== 'linux' && process.platform !== 'win32') {
    return { ok: false, reason: `CUDA builds of TensorFlow exist only for Linux and Windows, not ${process.platform}` };
  }
  if (process.platform === 'linux') {
    if (!existsSync('/proc/driver/nvidia/version')) return { ok: false, reason: 'no NVIDIA driver is loaded (/proc/driver/nvidia/version is missing)' };
    const libraries = linkerLibraries();
    for (const lib of ['libcudart.so.11.0', 'libcudnn.so.8']) {
      if (!libraries.has(lib)) {
        return { ok: false, reason: `${lib} was not found: tfjs-node-gpu 4.22 needs CUDA 11.2 and cuDNN 8.1 (newer CUDA majors do not work)` };
      }
    }
  }
  return { ok: true };
}

/** Library file names the dynamic linker can find (its cache plus LD_LIBRARY_PATH). */
function linkerLibraries(): Set<string> {
  const names = new Set<string>();
  try {
    const cache = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const match of cache.matchAll(/^\s*(\S+)\s/gm)) names.add(match[1]!);
  } catch {
    // No ldconfig (containers): LD_LIBRARY_PATH alone decides.
  }
  for (const dir of (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)) {
    for (const lib of ['libcudart.so.11.0', 'libcudnn.so.8']) if (existsSync(`${dir}/${lib}`)) names.add(lib);
  }
  return names;
}

let dawnInstall: Promise<Probe> | null = null;

/**
 * Loads Dawn (the `webgpu` package) in this process and installs `navigator.gpu` so the tfjs WebGPU backend
 * can register. Only for a selected webgpu rung: whether a usable adapter exists is gpu-probe.ts's question.
 */
export function installDawn(): Promise<Probe> {
  dawnInstall ??= loadDawn();
  return dawnInstall;
}

async function loadDawn(): Promise<Probe> {
  let dawn: typeof import('webgpu');
  try {
    dawn = await import('webgpu');
  } catch (err) {
    return { ok: false, reason: `the webgpu package (Dawn) failed to load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
  }
  const gpu = dawn.create([]);
  const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000).unref());
  const adapter = await Promise.race([gpu.requestAdapter({ powerPreference: 'high-performance' }), timeout]);
  if (!adapter) return { ok: false, reason: 'Dawn found no GPU adapter in this process, although the probe process did' };
  Object.assign(globalThis, dawn.globals);
  const existing = (globalThis as { navigator?: object }).navigator ?? {};
  Object.defineProperty(globalThis, 'navigator', { value: Object.assign(Object.create(existing), { gpu }), configurable: true, writable: true });
  return { ok: true };
}
