/**
 * The GPU's limits and failures as a job meets them: batches split to fit the adapter's largest buffer, a clip
 * that cannot fit refused with the numbers, and a lost device failing the job with its reason.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { clipsPerRun, largestBufferPerClip, watchGpuDevice, whileDeviceAlive } from '../../../src-main/core/compute/webgpu-device.ts';
import { archOf, saveCheckpointAtomically } from '../../../src-main/core/jobs/model-files.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { useSwiftShader } from '../../helpers/swiftshader.ts';
import { recordingHooks, trainingTestbed } from '../jobs/project-fixture.ts';

const { fixture, openApi, trainInProcess } = trainingTestbed();
const STM_R50 = { frames: 8, inputSize: 224, baseWidth: 64 };
const MiB = 2 ** 20;

describe('batches sized from the adapter’s buffer limits', () => {
  it('splits an STM-R50 batch into parts whose largest buffer fits, and says so with the numbers', () => {
    // The stem's output padded for max-pooling: 8 frames × 114² × 64 channels × 4 bytes.
    expect(largestBufferPerClip(STM_R50)).toBe(8 * 114 * 114 * 64 * 4);
    const run = clipsPerRun(STM_R50, 16, { maxBufferSize: 256 * MiB, maxStorageBufferBindingSize: 128 * MiB });
    expect(run.clips).toBe(5);
    expect(run.note).toBe(
      'batch of 16 clips runs in parts of at most 5: one clip (8 frames of 224×224, width 64) needs a 25 MiB buffer and this GPU adapter allows 128 MiB per buffer (maxBufferSize 256 MiB, maxStorageBufferBindingSize 128 MiB)',
    );
    expect(clipsPerRun(STM_R50, 2, { maxBufferSize: 4096 * MiB, maxStorageBufferBindingSize: 4096 * MiB })).toEqual({ clips: 2, note: null });
  });

  it('refuses a clip no buffer of the adapter can hold', () => {
    expect(() => clipsPerRun(STM_R50, 1, { maxBufferSize: 16 * MiB, maxStorageBufferBindingSize: 16 * MiB })).toThrow(
      'One clip (8 frames of 224×224, width 64) needs a 25 MiB GPU buffer, but this GPU adapter allows 16 MiB per buffer',
    );
  });

  it('leaves the CPU backends’ batches whole', () => {
    expect(clipsPerRun(STM_R50, 64, null)).toEqual({ clips: 64, note: null });
  });
});

describe('webgpu jobs at the adapter’s limits (SwiftShader)', () => {
  it('fails a predict job whose clips cannot fit the adapter’s buffers, naming the sizes', async () => {
    useSwiftShader();
    const f = await fixture();
    // 4 frames of 4096² at width 16: the padded stem output alone is 4 × 2050² × 16 × 4 bytes, past SwiftShader's 1 GiB.
    const network = createStmNetwork({ variant: 'stm', layers: [1, 1, 1, 1], baseWidth: 16, frames: 4, classes: 2, inputSize: 4096 }, { seed: 3 });
    const model = f.project.models.insert({ name: 'huge frames', arch: archOf(network.config), classes: ['red', 'blue'] });
    await saveCheckpointAtomically(join(f.dir, 'models', `${model.id}.safetensors`), network, ['red', 'blue']);
    network.dispose();
    f.project.models.update(model.id, { weightsPath: join('models', `${model.id}.safetensors`) });
    const api = openApi(f.dir);
    const job = await api.client.call('predict.start', {
      modelId: model.id, videoIds: [f.videoIds[0]], window: { value: 12, unit: 'frames' }, stride: { value: 12, unit: 'frames' }, backend: 'webgpu',
    });
    const done = await api.client.call('jobs.wait', { id: job.id });
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/One clip \(4 frames of 4096×4096, width 16\) needs a 1026 MiB GPU buffer, but this GPU adapter allows 1024 MiB per buffer/);
  });

  it('turns an error the GPU reports during a pass into a failure with its message, not a read of zeros', async () => {
    useSwiftShader();
    const tf = await import('@tensorflow/tfjs');
    await selectBackend('webgpu');
    watchGpuDevice();
    const device = (tf.backend() as unknown as { device: { createBuffer(d: { size: number; usage: number }): unknown } }).device;
    const x = tf.ones([4]);
    device.createBuffer({ size: 4, usage: 0 }); // invalid: the driver reports it asynchronously, to nobody in particular
    await expect(whileDeviceAlive(x.data())).rejects.toThrow('The GPU reported an error: Buffer usages must not be 0; the job stopped.');
    x.dispose();
  });

  it('fails a training job with the device’s reason when the GPU is lost mid-job', async () => {
    useSwiftShader();
    const f = await fixture();
    const tf = await import('@tensorflow/tfjs');
    let destroyed = false;
    const hooks = recordingHooks({
      onReport: (update) => {
        // Lose the device as the first epoch starts (the driver resetting, the GPU unplugged).
        if (!destroyed && update.phase === 'training') {
          destroyed = true;
          (tf.backend() as unknown as { device: { destroy(): void } }).device.destroy();
        }
      },
    });
    const { run } = trainInProcess(f, { backend: 'webgpu', epochs: 1, batch: 2 }, hooks);
    await expect(run).rejects.toThrow(/The GPU device was lost \(destroyed\)/);
    expect(destroyed).toBe(true);
  }, 300_000);
});
