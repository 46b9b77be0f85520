// Placeholder until the compute engine lands.
export type BackendName = 'tfjs-node-gpu' | 'webgpu' | 'tfjs-node' | 'wasm' | 'cpu';

export interface BackendStatus {
  name: BackendName;
  available: boolean;
  reason: string;
}

export async function probeBackends(): Promise<BackendStatus[]> {
  return (['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as BackendName[]).map((name) => ({
    name,
    available: false,
    reason: 'not checked yet',
  }));
}
