/**
 * The Redis that holds the worker queue: one URL (redis://[user:pass@]host:port[/db] or rediss:// for TLS),
 * shown everywhere without its password, and connections that reconnect on their own when Redis restarts.
 */
import { Redis } from 'ioredis';
import { UserError } from '../../errors.ts';

/** The BullMQ queue every STM Studio worker listens on. */
export const SHARD_QUEUE = 'stm-studio-shards';

/** Parses and checks a queue URL; the message of a bad one says what a good one looks like. */
export function parseQueueUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new UserError('invalid_input', `"${redactQueueUrl(text)}" is not a queue URL; use redis://[user:password@]host:port or rediss:// for TLS.`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UserError('invalid_input', `The queue URL must start with redis:// or rediss:// (TLS), got ${url.protocol}//.`);
  }
  if (!url.hostname) throw new UserError('invalid_input', `The queue URL ${redactQueueUrl(text)} names no host.`);
  return url;
}

/** The URL with its password replaced by *** (for logs, job views and error messages). */
export function redactQueueUrl(text: string): string {
  try {
    const url = new URL(text.trim());
    if (url.password) url.password = '***';
    return url.toString().replace(/\/$/, '');
  } catch {
    return text.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  }
}

export interface QueueConnectionOptions {
  /** Workers block on Redis and must wait out a restart (null); the coordinator wants errors it can report. */
  blocking: boolean;
  /** Called with a line when the connection drops or comes back. */
  onStatus?: (line: string) => void;
}

/** An ioredis connection to the queue URL that keeps reconnecting (1 s, 2 s, … up to 5 s apart). */
export function connectQueue(text: string, options: QueueConnectionOptions): Redis {
  const url = parseQueueUrl(text);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new UserError('invalid_input', `The queue URL ${redactQueueUrl(text)} names database "${url.pathname.slice(1)}"; use a number.`);
  const redis = new Redis({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 6379,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    db,
    ...(url.protocol === 'rediss:' ? { tls: { servername: url.hostname } } : {}),
    maxRetriesPerRequest: options.blocking ? null : 1,
    retryStrategy: (times) => Math.min(times * 1000, 5000),
    lazyConnect: false,
  });
  let down = false;
  const where = redactQueueUrl(text);
  const lost = (why: string) => {
    if (down) return;
    down = true;
    options.onStatus?.(`queue ${where} unreachable (${why}); reconnecting`);
  };
  redis.on('error', (err: Error) => lost(err.message));
  redis.on('reconnecting', () => lost('connection lost'));
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    options.onStatus?.(`queue ${where} reachable again`);
  });
  return redis;
}

/** Waits until Redis answers, or fails with a message naming the URL (a wrong host or password). */
export async function checkQueueReachable(redis: Redis, text: string, timeoutMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    throw new UserError('unavailable', `Cannot reach the worker queue at ${redactQueueUrl(text)}: ${(err as Error).message}.`);
  } finally {
    clearTimeout(timer);
  }
}
