/**
 * The compute backend ladder: the best TensorFlow.js backend that really works on this machine, with the
 * reason every higher rung was skipped. Optional packages that are absent, CUDA libraries that fail to load,
 * GPU drivers that crash or hang (probed in a child process) and software GPU adapters are reasons, never
 * crashes. A GPU rung's native code loads in this process only once that rung is selected.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import { BACKEND_ENV, BACKEND_LADDER, isBackendName, type BackendName, type BackendSelection, type BackendStatus, type PreferenceOrigin } from './backend-names.ts';
import { probeGpu } from './gpu-probe.ts';
import { installDawn, probeCuda, resolvablePackage } from './probes.ts';
import { registerWasmTrainingKernels } from './wasm-kernels/register.ts';

// We choose the backend and tell the user which and why, so tfjs's "install tfjs-node" banner is wrong advice.
tf.env().set('PROD', true);

export { BACKEND_ENV, BACKEND_LADDER, isBackendName, type BackendName, type BackendSelection, type BackendStatus, type PreferenceOrigin };

const REQUESTED_BY: Record<PreferenceOrigin, string> = {
  flag: 'requested with --backend',
  env: `requested by ${BACKEND_ENV}`,
  setting: 'requested by the app setting',
  default: 'requested',
};

/** The tfjs registry name each rung runs under. */
const TFJS_NAME: Record<BackendName, string> = {
  'tfjs-node-gpu': 'tensorflow',
  webgpu: 'webgpu',
  'tfjs-node': 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

/**
 * Both tfjs-node packages register the same 'tensorflow' backend, so only one of them can be loaded in a
 * process: remember which one did.
 */
let tensorflowFlavour: 'tfjs-node-gpu' | 'tfjs-node' | null = null;

interface RungCheck {
  /**
   * GPU rungs only: whether the rung works here, asked of a child process (nothing loads in this one).
   * Returns a reason when it does not.
   */
  check?(opts: { forced: boolean }): Promise<string | null>;
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

async function checkCuda(): Promise<string | null> {
  const cuda = probeCuda();
  if (!cuda.ok) return cuda.reason;
  const probe = await probeGpu('tfjs-node-gpu');
  return probe.ok ? null : probe.reason;
}

async function checkWebGpu({ forced }: { forced: boolean }): Promise<string | null> {
  const probe = await probeGpu('webgpu');
  if (!probe.ok) return probe.reason;
  if (probe.software && !forced) {
    return `only a software adapter (${probe.description}) is present; it is slower than the CPU backends (force it with --backend webgpu)`;
  }
  webGpuDescription = probe.description;
  return null;
}

const RUNGS: Record<BackendName, RungCheck> = {
  'tfjs-node-gpu': {
    check: checkCuda,
    async load() {
      return (await checkCuda()) ?? loadTensorflowBinding('tfjs-node-gpu');
    },
    describe: () => 'TensorFlow C library with CUDA',
  },
  webgpu: {
    check: checkWebGpu,
    async load(opts) {
      const reason = await checkWebGpu(opts);
      if (reason) return reason;
      const dawn = await installDawn();
      if (!dawn.ok) return dawn.reason;
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

/**
 * Whether a rung works here without switching to it for good: GPU rungs ask their child-process probe, the
 * others are loaded and tested here (cheap, and they load no native GPU code).
 */
function judgeRung(name: BackendName, forced: boolean): Promise<string | null> {
  const rung = RUNGS[name];
  return rung.check ? rung.check({ forced }) : tryRung(name, { forced });
}

/** Puts tfjs back on a backend after probing. */
async function restore(name: BackendName | null): Promise<void> {
  if (!name) return;
  if (tf.getBackend() !== TFJS_NAME[name]) await tf.setBackend(TFJS_NAME[name]);
  activeName = name;
}

/**
 * Every rung with whether it works here and why (for `doctor` and the UI). Loads no GPU driver here; leaves
 * tfjs on the backend selected before, else on the best rung that runs without a GPU driver.
 */
export async function probeBackends(): Promise<BackendStatus[]> {
  const previous = currentBackend();
  const statuses: BackendStatus[] = [];
  for (const name of BACKEND_LADDER) {
    const reason = await judgeRung(name, false);
    statuses.push({ name, available: reason === null, reason: reason ?? RUNGS[name].describe() });
  }
  await restore(previous ?? statuses.find((s) => s.available && !RUNGS[s.name].check)?.name ?? null);
  return statuses;
}

/**
 * Switches tfjs to a backend. `preferred` (a name, or 'auto'/undefined) falls back to the STM_BACKEND
 * environment variable, then the best rung of the ladder; `origin` says where a named preference came from
 * (it goes into the reason). A named backend that does not work is an `unavailable` error: we never silently
 * run on something slower than asked.
 */
export async function selectBackend(preferred?: BackendName | 'auto', origin?: PreferenceOrigin): Promise<BackendSelection> {
  const selection = await choose(preferred, origin, (name, forced) => tryRung(name, { forced }));
  activeName = selection.name;
  return selection;
}

/**
 * The backend `selectBackend` would choose, and why, without loading a GPU driver in this process (GPU rungs
 * are judged by their child-process probe) and leaving tfjs where it was: for the UI and the app setting.
 */
export async function planBackend(preferred?: BackendName | 'auto', origin?: PreferenceOrigin): Promise<BackendSelection> {
  const previous = currentBackend();
  try {
    return await choose(preferred, origin, judgeRung);
  } finally {
    await restore(previous);
  }
}

async function choose(
  preferred: BackendName | 'auto' | undefined,
  origin: PreferenceOrigin | undefined,
  attempt: (name: BackendName, forced: boolean) => Promise<string | null>,
): Promise<BackendSelection> {
  const requested = resolvePreference(preferred, origin);
  if (requested.name !== 'auto') {
    const { name } = requested;
    const reason = await attempt(name, true);
    const asked = requested.origin === 'default' ? '' : ` (${REQUESTED_BY[requested.origin]})`;
    if (reason) throw new UserError('unavailable', `The ${name} backend${asked} is not available: ${reason}`);
    return { name, reason: `${REQUESTED_BY[requested.origin]} (${RUNGS[name].describe()})`, skipped: [] };
  }
  const skipped: BackendStatus[] = [];
  for (const name of BACKEND_LADDER) {
    const reason = await attempt(name, false);
    if (reason === null) return { name, reason: `best available (${RUNGS[name].describe()})`, skipped };
    skipped.push({ name, available: false, reason });
  }
  throw new UserError('unavailable', 'No compute backend works in this process (even plain JavaScript failed).');
}

function resolvePreference(
  preferred: BackendName | 'auto' | undefined,
  origin: PreferenceOrigin | undefined,
): { name: BackendName | 'auto'; origin: PreferenceOrigin } {
  if (preferred && preferred !== 'auto') return { name: preferred, origin: origin ?? 'default' };
  const fromEnv = process.env[BACKEND_ENV]?.trim();
  if (!fromEnv || fromEnv === 'auto') return { name: 'auto', origin: 'default' };
  if (!isBackendName(fromEnv)) {
    throw new UserError('invalid_input', `${BACKEND_ENV}=${fromEnv} is not a backend; use auto or one of ${BACKEND_LADDER.join(', ')}.`);
  }
  return { name: fromEnv, origin: 'env' };
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
