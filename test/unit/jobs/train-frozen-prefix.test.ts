import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { trainSteps } from '../../../src-main/core/jobs/train-steps.ts';
import { readSafetensors } from '../../../src-main/core/model/safetensors.ts';
import { trainingTestbed } from './project-fixture.ts';

const { fixture, trainInProcess } = trainingTestbed();

/** Two epochs of two batches of 4 clips with the stem and stages 1–3 frozen, precise BatchNorm over one batch. */
const RUN = { epochs: 2, batch: 4, lr: 0.05, optimizer: 'sgd', momentum: 0.9, preciseBnBatches: 1, seed: 6, freeze: 3, trainEngine: 'tfjs' };

describe('frozen prefix on ONNX Runtime', () => {
  it('gives the losses of the plain tfjs path within 1e-3 and keeps the frozen stages as they were', async () => {
    const f = await fixture();
    const onnx = trainInProcess(f, { ...RUN, workers: 1, frozenPrefix: 'onnx' });
    const onnxOutcome = await onnx.run;
    const log = onnx.hooks.lines.join('\n');
    expect(log).toMatch(/frozen stem and stages 1–3 run on ONNX Runtime \(inference mode, BatchNorm folded\); the rest trains on wasm/);
    expect(log).toMatch(/frozen-prefix cache: feature maps of 2 validation clip\(s\) kept across epochs/);
    const plain = trainInProcess(f, { ...RUN, workers: 1, frozenPrefix: 'tfjs' });
    const plainOutcome = await plain.run;
    expect(plain.hooks.lines.join('\n')).toMatch(/frozen stem and stages 1–3 run in inference mode on wasm/);

    const curve = (jobId: number) => trainSteps(f.project, jobId).map((p) => p.loss);
    const [a, b] = [curve(onnx.job.id), curve(plain.job.id)];
    expect(a.length).toBe(4);
    expect(new Set(a.map((l) => l.toFixed(4))).size).toBeGreaterThan(1);
    a.forEach((loss, i) => expect(Math.abs(loss - b[i]), `step ${i + 1}`).toBeLessThan(1e-3));
    const val = (jobId: number) => f.project.metrics.list({ jobId }).filter((m) => m.split === 'val').map((m) => m.loss!);
    val(onnx.job.id).forEach((loss, i) => expect(Math.abs(loss - val(plain.job.id)[i]), `validation, epoch ${i + 1}`).toBeLessThan(1e-3));

    // Both runs start from the same seeded weights: the frozen tensors (BatchNorm statistics too) end as
    // they started, identical in both models, while the head learned the same way.
    const weightsOf = (id: unknown) => readSafetensors(join(f.dir, 'models', `${id}.safetensors`)).tensors;
    const [wa, wb] = [weightsOf(onnxOutcome.figures.model_id), weightsOf(plainOutcome.figures.model_id)];
    for (const name of ['conv1.weight', 'bn1.running_mean', 'layer3.0.bn2.running_var', 'layer3.0.conv3.weight']) {
      expect(wa.get(name)!.data, name).toEqual(wb.get(name)!.data);
    }
    const head = (w: typeof wa) => Array.from(w.get('fc.weight')!.data as Float32Array);
    const drift = Math.max(...head(wa).map((v, i) => Math.abs(v - head(wb)[i])));
    expect(drift).toBeLessThan(1e-4);
  });

  it('trains only the head when every stage is frozen', async () => {
    const f = await fixture();
    const { run, hooks } = trainInProcess(f, { ...RUN, epochs: 1, freeze: 4, workers: 1 });
    const outcome = await run;
    expect(hooks.lines.join('\n')).toMatch(/frozen stem and stages 1–4 run on ONNX Runtime/);
    expect(Number(outcome.figures.train_loss)).toBeGreaterThan(0);
  });
});
