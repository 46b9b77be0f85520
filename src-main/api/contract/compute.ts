import { z } from 'zod';
import { request, event, type RequestMap, type EventMap } from '../define.ts';
import type { BackendName, BackendSelection, BackendStatus } from '../../core/compute/backends.ts';

const backendChoice = z.enum(['auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']);

export interface ComputeBackends {
  /** Every rung of the ladder, best first, with whether it works on this machine and why (not). */
  ladder: BackendStatus[];
  /** The app setting ('auto' = best available). */
  setting: BackendName | 'auto';
  /** What jobs will ask for, and where that came from (STM_BACKEND overrides the setting). */
  preference: BackendName | 'auto';
  source: 'flag' | 'env' | 'setting' | 'default';
  /** The backend jobs will run on now, with the reasons higher rungs were skipped; null with `problem` when the preference cannot be met. */
  selection: BackendSelection | null;
  problem: string | null;
}

export const computeRequests = {
  /** Probes the backend ladder (doctor and the UI's backend badge). */
  'compute.backends': request(z.object({}).strict()).returns<ComputeBackends>(),
  /** Stores the app setting; a named backend must work here, else an `unavailable` error says why. */
  'compute.setBackend': request(z.object({ backend: backendChoice }).strict()).returns<ComputeBackends>(),
} satisfies RequestMap;

export const computeEvents = {
  /** The backend setting changed. */
  'compute.changed': event<{ setting: BackendName | 'auto' }>(),
} satisfies EventMap;
