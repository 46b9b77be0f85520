// Runs in a short-lived child process (gpu-probe.ts): GPU drivers print to stderr, crash or hang while they
// initialise, and none of that may reach the app. Prints one JSON line: {ok, description, software} or {ok:false}.
import { execFileSync } from 'node:child_process';

const rung = process.argv[2];

/** Ones convolved with ones, 'same' padding: 4 corners see 4 taps, 8 edge cells 6, 4 inner cells 9. */
async function testConvolution(tf, backendName) {
  if (!(await tf.setBackend(backendName))) return `tfjs could not initialise the ${backendName} backend`;
  await tf.ready();
  const sum = tf.tidy(() => tf.conv2d(tf.ones([1, 4, 4, 1]), tf.ones([3, 3, 1, 1]), 1, 'same').sum());
  const value = (await sum.data())[0];
  return value === 100 ? null : `a test convolution gave ${value} instead of 100`;
}

const gib = (bytes) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * WebGPU does not tell how much memory a GPU has; NVIDIA's driver does (nvidia-smi), the others are described
 * by their largest buffer alone.
 */
function memoryOf(vendor) {
  if (!/nvidia/i.test(vendor ?? '')) return '';
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=memory.total,memory.free', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    const [total, free] = out.trim().split('\n')[0].split(',').map((n) => Number(n) * 2 ** 20);
    return Number.isFinite(total) && Number.isFinite(free) ? `${gib(total)} memory (${gib(free)} free), ` : '';
  } catch {
    return '';
  }
}

async function probeWebGpu() {
  const dawn = await import('webgpu');
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { ok: false };
  const info = adapter.info;
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown adapter';
  const software = Boolean(info.isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe|software/i.test(name);
  const description = `${name}, ${memoryOf(info.vendor)}largest buffer ${gib(Math.min(adapter.limits.maxBufferSize, adapter.limits.maxStorageBufferBindingSize))}`;
  if (software) return { ok: true, description, software };
  Object.assign(globalThis, dawn.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-webgpu');
  const problem = await testConvolution(tf, 'webgpu');
  return problem ? { ok: false, problem } : { ok: true, description, software };
}

async function probeTensorflowGpu() {
  const tf = await import('@tensorflow/tfjs-node-gpu');
  const problem = await testConvolution(tf, 'tensorflow');
  return problem ? { ok: false, problem } : { ok: true, description: 'TensorFlow C library with CUDA', software: false };
}

let result;
try {
  result = rung === 'webgpu' ? await probeWebGpu() : await probeTensorflowGpu();
} catch (err) {
  result = { ok: false, problem: String(err instanceof Error ? err.message : err).split('\n')[0] };
}
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
