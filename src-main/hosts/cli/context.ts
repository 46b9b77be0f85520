import { resolve } from 'node:path';
import { createLocalApi, type LocalApi } from '../../api/local-client.ts';
import { ApiError } from '../../api/client.ts';
import { UserError } from '../../core/errors.ts';

/** Wrong use of the command line (exit code 2). */
export class UsageError extends Error {}

/**
 * Run `fn` against the contract with the project in `dir` open, closing it afterwards.
 * `create: true` makes the project if the folder has none.
 */
export async function withProject<T>(
  dir: string,
  fn: (local: LocalApi) => Promise<T>,
  opts: { create?: boolean } = {},
): Promise<T> {
  const local = createLocalApi('cli');
  local.context.session.open(resolve(dir), opts);
  try {
    return await fn(local);
  } finally {
    local.context.session.close();
  }
}

/** The contract without an open project (doctor, model info, ...). */
export function withoutProject(): LocalApi {
  return createLocalApi('cli');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Exit code for an error that reached the top of a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return 2;
  if (err instanceof ApiError && err.code === 'bad_request') return 2;
  if (err instanceof UserError && err.code === 'bad_request') return 2;
  return 1;
}

export function describeError(err: unknown): string {
  if (err instanceof ApiError || err instanceof UserError || err instanceof UsageError) return err.message;
  if (err instanceof Error) return process.env.STM_STUDIO_DEBUG ? (err.stack ?? err.message) : err.message;
  return String(err);
}

/** Parse an integer option or fail with a usage error naming the option. */
export function intOption(name: string, min = Number.MIN_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer${min > Number.MIN_SAFE_INTEGER ? ` ≥ ${min}` : ''}, got "${value}"`);
    return n;
  };
}

export function floatOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new UsageError(`${name} must be a number, got "${value}"`);
    return n;
  };
}
