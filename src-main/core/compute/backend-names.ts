/**
 * The names of the compute backends and what is said about them, without loading TensorFlow.js: settings,
 * job parameters and the hosts use these; only backends.ts (loaded when a job or a probe needs it) loads tfjs.
 */

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

/** Where a backend preference came from: a job's or command's own option, STM_BACKEND, the app setting. */
export type PreferenceOrigin = 'flag' | 'env' | 'setting' | 'default';

export function isBackendName(value: string): value is BackendName {
  return (BACKEND_LADDER as readonly string[]).includes(value);
}
