import { requests, type RequestName } from './contract.ts';
import type { ApiContext } from './context.ts';
import type { Envelope } from './client.ts';
import { handlers } from './handlers/index.ts';
import { quoted, toErrorPayload, UserError } from '../core/errors.ts';

function isRequestName(name: string): name is RequestName {
  return Object.prototype.hasOwnProperty.call(requests, name);
}

/**
 * The single entry point of every host: validates params against the contract, runs the handler and
 * wraps the outcome in an envelope. Never throws.
 */
export async function dispatch(ctx: ApiContext, name: string, rawParams: unknown): Promise<Envelope> {
  try {
    if (!isRequestName(name)) throw new UserError('bad_request', `Unknown request ${quoted(name)}`);
    const parsed = requests[name].params.safeParse(rawParams ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`);
      throw new UserError('bad_request', `Invalid params for "${name}": ${issues.join('; ')}`, issues);
    }
    const handler = handlers[name] as (p: unknown, c: ApiContext) => unknown;
    const result = await runPatiently(ctx, () => handler(parsed.data, ctx));
    return { ok: true, result: result ?? null };
  } catch (err) {
    const payload = toErrorPayload(err);
    if (payload.code === 'internal' && process.env.STM_STUDIO_DEBUG) console.error(err);
    return { ok: false, error: payload };
  }
}

/**
 * A host that serves clients never waits for the project lock in its event loop: the edits of a request
 * (its synchronous part) wait in the project's PatientWriter while another process holds the project.
 * Handlers that write after an `await` write through `project.writes` themselves. A CLI keeps SQLite's wait.
 */
function runPatiently<T>(ctx: ApiContext, run: () => T): T | Promise<T> {
  if (!ctx.servesClients || !ctx.session.hasProject) return run();
  return ctx.session.project.writes.request(run);
}
