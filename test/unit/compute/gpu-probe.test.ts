import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeGpu, runGpuProbe } from '../../../src-main/core/compute/gpu-probe.ts';

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);
const bin = join(import.meta.dirname, '../../../bin/stm-studio.mjs');

describe('GPU probe in a child process', () => {
  it('turns a driver that crashes its process into a reason with the driver message', async () => {
    const probe = await runGpuProbe('webgpu', { script: fixture('crashing-driver.mjs') });
    expect(probe.ok).toBe(false);
    if (probe.ok) return;
    expect(probe.reason).toMatch(/^Dawn \(WebGPU\) crashed while looking for a GPU \(the probe process was killed by SIGSEGV\)/);
    expect(probe.reason).toContain('Vulkan: device lost while creating the instance');
    expect(probe.reason).not.toContain('XDG_RUNTIME_DIR');
  });

  it('stops a driver that hangs after the timeout and says so', async () => {
    const started = Date.now();
    const probe = await runGpuProbe('tfjs-node-gpu', { script: fixture('hanging-driver.mjs'), timeoutMs: 1500 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(probe).toEqual({
      ok: false,
      reason: '@tensorflow/tfjs-node-gpu did not answer within 2 s (a hanging GPU driver); the probe was stopped: Vulkan: waiting for the device to respond',
    });
  });

  it('answers the real webgpu probe once per process', async () => {
    const first = probeGpu('webgpu');
    expect(probeGpu('webgpu')).toBe(first);
    const probe = await first;
    if (probe.ok) expect(probe.description.length).toBeGreaterThan(0);
    else expect(probe.reason).toMatch(/Dawn/);
  });
});

describe('stm-studio doctor', () => {
  it('prints the ladder without native driver output or the TensorFlow.js banner', async () => {
    const home = mkdtempSync(join(tmpdir(), 'stm-doctor-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, STM_STUDIO_HOME: home };
      delete env.STM_BACKEND;
      delete env.STM_STUDIO_GPU_PROBES;
      const ran = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [bin, 'doctor'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(ran.stderr).toBe('');
      expect(ran.stdout).toMatch(/^ {2}[✓✗] webgpu {9}\S/m);
      expect(ran.stdout).not.toMatch(/Hi, looks like|BackendType::|XDG_RUNTIME_DIR/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
