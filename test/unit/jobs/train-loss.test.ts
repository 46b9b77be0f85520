/**
 * The training loss a user sees is the data loss (cross-entropy), comparable with the validation loss and with
 * chance (ln 2 for two classes); the weight-decay penalty is reported on its own.
 */
import { describe, expect, it } from 'vitest';
import { trainingTestbed } from './project-fixture.ts';

const { fixture, trainInProcess } = trainingTestbed();

describe('training loss', () => {
  it('leaves the weight-decay penalty out of the training loss and reports it apart', async () => {
    const f = await fixture();
    // No update (learning rate 0), so both runs see the same weights and clips; only the decay differs.
    const plain = await trainInProcess(f, { epochs: 1, lr: 0, weightDecay: 0 }).run;
    const decayed = trainInProcess(f, { epochs: 1, lr: 0, weightDecay: 0.5 });
    const heavy = await decayed.run;
    const trainLoss = (outcome: typeof plain) => Number(outcome.figures.train_loss);
    expect(Number(heavy.figures.weight_decay_penalty)).toBeGreaterThan(1);
    expect(plain.figures.weight_decay_penalty).toBe(0);
    expect(Math.abs(trainLoss(heavy) - trainLoss(plain))).toBeLessThan(0.2);
    // An untrained two-class network sits near chance, not above it by the penalty.
    expect(trainLoss(heavy)).toBeLessThan(1.2);
    expect(decayed.hooks.lines.join('\n')).toMatch(/epoch 1: train loss \d+\.\d{4} \(weight-decay penalty \d+\.\d{4} apart\)/);
  }, 120_000);
});
