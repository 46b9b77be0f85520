/**
 * The training curve inside an epoch: every few batches the job records the mean loss and top-1 of the
 * batches since the previous point, sends it with its progress event and keeps it in the project, so a page
 * opened later (or a run that was stopped) still draws the whole curve.
 */
import type { Project } from '../store/project.ts';
import type { TrainStepPoint } from '../store/results.ts';

export type { TrainStepPoint };

/** About this many points per epoch, whatever the number of batches. */
const POINTS_PER_EPOCH = 50;

/** Accumulates batches and hands out a point every few of them (and at the end of the epoch). */
export class StepCurve {
  private readonly every: number;
  private lossSum = 0;
  private correct = 0;
  private clips = 0;

  constructor(
    private readonly epoch: number,
    private readonly steps: number,
  ) {
    this.every = Math.max(1, Math.ceil(steps / POINTS_PER_EPOCH));
  }

  /** Adds one batch (mean loss over its clips); returns a point when one is due. */
  add(step: number, meanLoss: number, correct: number, clips: number): TrainStepPoint | null {
    this.lossSum += meanLoss * clips;
    this.correct += correct;
    this.clips += clips;
    if (step % this.every !== 0 && step !== this.steps) return null;
    const point = { epoch: this.epoch, step, steps: this.steps, loss: this.lossSum / this.clips, top1: this.correct / this.clips };
    this.lossSum = 0;
    this.correct = 0;
    this.clips = 0;
    return point;
  }
}

export function recordTrainStep(project: Project, jobId: number, p: TrainStepPoint): void {
  project.trainingSteps.record(jobId, p);
}

/** Drops the points of `epoch` and later (a resumed run trains that epoch again from its start). */
export function clearTrainStepsFrom(project: Project, jobId: number, epoch: number): void {
  project.trainingSteps.clearFrom(jobId, epoch);
}

export function trainSteps(project: Project, jobId: number): TrainStepPoint[] {
  project.jobs.require(jobId);
  return project.trainingSteps.list(jobId);
}
