/**
 * Job parameters are one type from the contract to the job: what each start request's schema produces is what
 * the queue stores and the job reads (checked by the compiler: `npm run typecheck`), and the defaults the
 * contract fills in are the job's own.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { predictStartParams, probeStartParams, trainStartParams } from '../../../src-main/api/contract/jobs.ts';
import {
  DEFAULT_PREDICT_PARAMS, DEFAULT_PROBE_PARAMS, DEFAULT_TRAIN_PARAMS, type JobParams, type PredictParams, type ProbeParams, type TrainParams,
} from '../../../src-main/core/jobs/params.ts';
import type { JobQueue } from '../../../src-main/core/jobs/queue.ts';

/** A request's params as the queue stores them: the handler adds where the backend choice came from. */
type Submitted<P> = Omit<P, 'backendSource'>;

describe('job parameters', () => {
  it('are the same type in the contract and in the jobs', () => {
    expectTypeOf<z.output<typeof trainStartParams>>().toEqualTypeOf<Submitted<TrainParams>>();
    expectTypeOf<z.output<typeof predictStartParams>>().toEqualTypeOf<Submitted<PredictParams>>();
    expectTypeOf<z.output<typeof probeStartParams>>().toEqualTypeOf<Submitted<ProbeParams>>();
    const submitPredict = (queue: JobQueue, params: JobParams['predict']) => {
      queue.submit('predict', params);
      // @ts-expect-error a predict job's params are not a training job's
      queue.submit('train', params);
    };
    expectTypeOf(submitPredict).toBeFunction();
  });

  it('default to the jobs own defaults when a request leaves them out', () => {
    expect(trainStartParams.parse({})).toEqual(DEFAULT_TRAIN_PARAMS);
    expect(predictStartParams.parse({ modelId: 1 })).toEqual({ modelId: 1, ...DEFAULT_PREDICT_PARAMS });
    expect(probeStartParams.parse({ modelId: 1 })).toEqual({ modelId: 1, ...DEFAULT_PROBE_PARAMS });
  });

  it('let a request set every training parameter, the learning-rate schedule and precise BatchNorm included', () => {
    const parsed = trainStartParams.parse({ lrSchedule: 'constant', preciseBnBatches: 0 });
    expect(parsed).toMatchObject({ lrSchedule: 'constant', preciseBnBatches: 0 });
    expect(trainStartParams.safeParse({ lrSchedule: 'step' }).success).toBe(false);
  });
});
