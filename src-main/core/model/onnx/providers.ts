import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

export interface ProviderStatus {
  available: boolean;
  /** Why the provider cannot be used (null when available). */
  reason: string | null;
}

export interface OnnxRuntimeStatus {
  version: string;
  cpu: ProviderStatus;
  cuda: ProviderStatus;
}

/** Session options for the CPU: `threads` inside each operation, operations one after another, every graph optimisation. */
export function cpuSessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
}

/** ONNX Runtime's version and which of its providers this machine can use (for the doctor report). */
export function onnxRuntimeStatus(): OnnxRuntimeStatus {
  return { version: ort.env.versions.node ?? ort.env.versions.common, cpu: { available: true, reason: null }, cuda: cudaProviderStatus() };
}

/** Shared libraries ONNX Runtime loads for its CUDA execution provider; npm does not ship them. */
const CUDA_LIBRARIES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

/**
 * Whether onnxruntime-node can try its CUDA provider here: Linux, and the provider libraries installed next
 * to the binding (`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` fetches them; they need
 * CUDA 12 and cuDNN 9 at run time). Checked on disk first, so asking never makes ONNX Runtime log an error.
 */
export function cudaProviderStatus(): ProviderStatus {
  if (process.platform !== 'linux') return { available: false, reason: `onnxruntime-node has no CUDA provider for ${process.platform}` };
  const folder = bindingFolder();
  if (!folder) return { available: false, reason: 'onnxruntime-node binaries for this platform were not found' };
  const missing = CUDA_LIBRARIES.filter((name) => !existsSync(join(folder, name)));
  if (missing.length > 0) {
    return {
      available: false,
      reason: `onnxruntime-node's CUDA provider is not installed (${missing.join(', ')} missing in ${folder}); ` +
        'install it with ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node (needs CUDA 12 and cuDNN 9)',
    };
  }
  return { available: true, reason: null };
}

/** bin/napi-v*\/<platform>/<arch> inside the onnxruntime-node package. */
function bindingFolder(): string | null {
  const packageRoot = dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
  const bin = join(packageRoot, 'bin');
  if (!existsSync(bin)) return null;
  for (const napi of readdirSync(bin)) {
    const folder = join(bin, napi, process.platform, process.arch);
    if (existsSync(folder)) return folder;
  }
  return null;
}
