/**
 * The compute backend ladder: the best TensorFlow.js backend that really works on this machine, with the
 * reason every higher rung was skipped. Optional packages that are absent, CUDA libraries that fail to load
 * and software GPU adapters are reasons, never crashes.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import { probeCuda, probeWebGpuAdapter, resolvablePackage } from './probes.ts';
import { registerWasmTrainingKernels } from './wasm-kernels/register.ts';

export type BackendName = 'tfjs-node-gpu' | 'webgpu' | 'tfjs-node' | 'wasm' | 'cpu';

export interface BackendStatus {
  name: BackendName;
  available: boolean;
  reason: string;
}

export interface BackendSelection {
  name: BackendName;
  /** Why this backend: requested explicitly, or the best one available. */
  reason: string;
  /** The higher rungs that were tried and skipped, each with its reason. */
  skipped: BackendStatus[];
}

/** Best first. */
export const BACKEND_LADDER: readonly BackendName[] = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'];

export const BACKEND_ENV = 'STM_BACKEND';

/** The tfjs registry name each rung runs under. */
const TFJS_NAME: Record<BackendName, string> = {
  'tfjs-node-gpu': 'tensorflow',
  webgpu: 'webgpu',
  'tfjs-node': 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

export function isBackendName(value: string): value is BackendName {
  return (BACKEND_LADDER as readonly string[]).includes(value);
}

/**
 * Both tfjs-node packages register the same 'tensorflow' backend, so only one of them can be loaded in a
 * process: remember which one did.
 */
let tensorflowFlavour: 'tfjs-node-gpu' | 'tfjs-node' | null = null;

interface RungCheck {
  /** Loads the backend's package and registers it with tfjs; returns a reason when it cannot. */
  load(opts: { forced: boolean }): Promise<string | null>;
  describe(): string;
}

async function loadTensorflowBinding(flavour: 'tfjs-node-gpu' | 'tfjs-node'): Promise<string | null> {
  const pkg = `@tensorflow/${flavour}`;
  if (tensorflowFlavour && tensorflowFlavour !== flavour) {
    return `@tensorflow/${tensorflowFlavour} is already loaded in this process (both register the same backend)`;
  }
  if (!resolvablePackage(pkg)) return `${pkg} is not installed (optional dependency)`;
  try {
    await import(pkg);
  } catch (err) {
    return `${pkg} failed to load: ${firstLine(err)}`;
  }
  tensorflowFlavour = flavour;
  return null;
}

let webGpuDescription = '';

const RUNGS: Record<BackendName, RungCheck> = {
  'tfjs-node-gpu': {
    async load() {
      const cuda = probeCuda();
      if (!cuda.ok) return cuda.reason;
      return loadTensorflowBinding('tfjs-node-gpu');
    },
    describe: () => 'TensorFlow C library with CUDA',
  },
  webgpu: {
    async load({ forced }) {
      const adapter = await probeWebGpuAdapter();
      if (!adapter.ok) return adapter.reason;
      if (adapter.software && !forced) {
        return `only a software adapter (${adapter.description}) is present; it is slower than the CPU backends (force it with --backend webgpu)`;
      }
      webGpuDescription = adapter.description;
      try {
        await import('@tensorflow/tfjs-backend-webgpu');
      } catch (err) {
        return `@tensorflow/tfjs-backend-webgpu failed to load: ${firstLine(err)}`;
      }
      return null;
    },
    describe: () => `WebGPU on ${webGpuDescription}`,
  },
  'tfjs-node': {
    load: () => loadTensorflowBinding('tfjs-node'),
    describe: () => 'TensorFlow C library on the CPU',
  },
  wasm: {
    async load() {
      try {
        await import('@tensorflow/tfjs-backend-wasm');
      } catch (err) {
        return `@tensorflow/tfjs-backend-wasm failed to load: ${firstLine(err)}`;
      }
      registerWasmTrainingKernels();
      return null;
    },
    describe: () => 'WebAssembly (SIMD, XNNPACK) with STM Studio training kernels, one thread per worker',
  },
  cpu: {
    async load() {
      return null;
    },
    describe: () => 'plain JavaScript (slowest)',
  },
};

/** Loads a rung, switches tfjs to it and checks a small convolution gives the right answer. */
async function tryRung(name: BackendName, opts: { forced: boolean }): Promise<string | null> {
  const reason = await RUNGS[name].load(opts);
  if (reason) return reason;
  try {
    if (!(await tf.setBackend(TFJS_NAME[name]))) return `tfjs could not initialise the ${TFJS_NAME[name]} backend`;
    await tf.ready();
    const sum = tf.tidy(() => tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'same').sum());
    const value = (await sum.data())[0];
    sum.dispose();
    // Ones convolved with ones, 'same' padding: 4 corners see 4 taps, 8 edge cells 6, 4 inner cells 9.
    if (value !== 4 * 4 + 8 * 6 + 4 * 9) return `a test convolution on ${name} gave ${value} instead of 100`;
  } catch (err) {
    return `${name} failed a test convolution: ${firstLine(err)}`;
  }
  return null;
}

/** Every rung with whether it works here and why (for `doctor` and the UI). Leaves tfjs on the best one. */
export async function probeBackends(): Promise<BackendStatus[]> {
  const previous = currentBackend();
  const statuses: BackendStatus[] = [];
  for (const name of BACKEND_LADDER) {
    const reason = await tryRung(name, { forced: false });
    statuses.push({ name, available: reason === null, reason: reason ?? RUNGS[name].describe() });
  }
  const restore = previous ?? statuses.find((s) => s.available)?.name;
  if (restore) {
    await tf.setBackend(TFJS_NAME[restore]);
    activeName = restore;
  }
  return statuses;
}

/**
 * Switches tfjs to a backend. `preferred` (a name, or 'auto'/undefined) falls back to the STM_BACKEND
 * environment variable, then the best rung of the ladder. A named backend that does not work is an
 * `unavailable` error: we never silently run on something slower than asked.
 */
export async function selectBackend(preferred?: BackendName | 'auto'): Promise<BackendSelection> {
  const requested = resolvePreference(preferred);
  if (requested !== 'auto') {
    const reason = await tryRung(requested, { forced: true });
    if (reason) throw new UserError('unavailable', `The ${requested} backend is not available: ${reason}`);
    activeName = requested;
    return { name: requested, reason: `requested (${RUNGS[requested].describe()})`, skipped: [] };
  }
  const skipped: BackendStatus[] = [];
  for (const name of BACKEND_LADDER) {
    const reason = await tryRung(name, { forced: false });
    if (reason === null) {
      activeName = name;
      return { name, reason: `best available (${RUNGS[name].describe()})`, skipped };
    }
    skipped.push({ name, available: false, reason });
  }
  throw new UserError('unavailable', 'No compute backend works in this process (even plain JavaScript failed).');
}

function resolvePreference(preferred: BackendName | 'auto' | undefined): BackendName | 'auto' {
  if (preferred && preferred !== 'auto') return preferred;
  const fromEnv = process.env[BACKEND_ENV]?.trim();
  if (!fromEnv || fromEnv === 'auto') return 'auto';
  if (!isBackendName(fromEnv)) {
    throw new UserError('invalid_input', `${BACKEND_ENV}=${fromEnv} is not a backend; use auto or one of ${BACKEND_LADDER.join(', ')}.`);
  }
  return fromEnv;
}

let activeName: BackendName | null = null;

/** The ladder rung tfjs runs on now (set by selectBackend), or null before any selection. */
export function currentBackend(): BackendName | null {
  if (activeName && TFJS_NAME[activeName] === tf.getBackend()) return activeName;
  return null;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.trim();
}
