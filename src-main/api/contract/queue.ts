import { z } from 'zod';
import { request, type RequestMap, type EventMap } from '../define.ts';
import { predictStartParams, queueUrl } from './jobs.ts';
import type { ShardTask } from '../../core/jobs/distributed/shards.ts';

export interface QueueSettings {
  /** The worker queue the Predict and Probe dialogs offer; null when none is set. */
  url: string | null;
}

const frame = z.number().int().min(0);
const count = z.number().int().positive();

/**
 * One shard as a worker receives it from the queue. Workers accept nothing else: the job kind must be
 * predict or probe and the data must match this schema exactly, with the settings the contract allows.
 */
export const shardTask = z
  .object({
    version: z.literal(1),
    model: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: count, name: z.string().max(1000) }).strict(),
    video: z
      .object({
        path: z.string().min(1).max(4096),
        name: z.string().max(1000),
        displayWidth: count,
        displayHeight: count,
        framePts: z.array(z.number().finite()).min(1),
      })
      .strict(),
    spans: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('windows'), window: count, stride: count, first: frame, count }).strict(),
      z.object({
        kind: z.literal('clips'),
        clips: z.array(z.object({ startFrame: frame, endFrame: count }).strict().refine((c) => c.endFrame > c.startFrame, 'a clip ends after it starts')).min(1),
      }).strict(),
    ]),
    directions: z.array(z.enum(['forward', 'reversed'])).min(1).max(2),
    batch: z.number().int().min(1).max(1024),
    backend: predictStartParams.shape.backend,
    engine: predictStartParams.shape.engine,
  })
  .strict() satisfies z.ZodType<ShardTask>;

export const queueRequests = {
  /** The worker queue URL kept in the app's settings. */
  'queue.settings': request(z.object({}).strict()).returns<QueueSettings>(),
  /** Stores (or with null, forgets) the worker queue URL. */
  'queue.setUrl': request(z.object({ url: queueUrl.nullable() }).strict()).returns<QueueSettings>(),
} satisfies RequestMap;

export const queueEvents = {} satisfies EventMap;
