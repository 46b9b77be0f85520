/**
 * Models travel through Redis once, content-addressed: the coordinator stores the weights file under its
 * sha256 (if not there already), workers fetch it once, check the hash and keep it in their cache folder.
 * The weights are data (safetensors), never code.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { UserError } from '../../errors.ts';
import { writeFileAtomic } from '../../files/atomic-write.ts';
import type { ModelRef } from './shards.ts';

/** Models stay on the queue this long after their last use. */
const MODEL_TTL_SECONDS = 30 * 24 * 3600;

const modelKey = (sha256: string) => `stm-studio:model:${sha256}`;

export function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The worker's model cache: $XDG_CACHE_HOME/stm-studio/models (~/.cache/… by default). */
export function defaultModelCache(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'stm-studio', 'models');
}

/** Stores the weights file on the queue unless a copy with the same hash is there; refreshes its lifetime. */
export async function publishModel(redis: Redis, weightsPath: string, name: string): Promise<ModelRef> {
  const bytes = readFileSync(weightsPath);
  const sha256 = sha256Of(bytes);
  const key = modelKey(sha256);
  const stored = await redis.set(key, bytes, 'EX', MODEL_TTL_SECONDS, 'NX');
  if (stored === null) await redis.expire(key, MODEL_TTL_SECONDS);
  return { sha256, bytes: bytes.length, name };
}

/** The path of the model in the worker's cache, fetched from the queue the first time. */
export async function fetchModel(redis: Redis, ref: ModelRef, cacheDir: string): Promise<{ path: string; fetched: boolean }> {
  const path = join(cacheDir, `${ref.sha256}.safetensors`);
  if (existsSync(path) && statSync(path).size === ref.bytes) return { path, fetched: false };
  const bytes = await redis.getBuffer(modelKey(ref.sha256));
  if (!bytes) throw new UserError('not_found', `Model ${ref.sha256.slice(0, 12)} ("${ref.name}") is no longer on the queue; start the job again from the app.`);
  if (bytes.length !== ref.bytes || sha256Of(bytes) !== ref.sha256) {
    throw new UserError('invalid_input', `Model ${ref.sha256.slice(0, 12)} ("${ref.name}") on the queue does not match its hash; refusing it.`);
  }
  mkdirSync(cacheDir, { recursive: true });
  writeFileAtomic(path, bytes, 'cached model');
  return { path, fetched: true };
}
