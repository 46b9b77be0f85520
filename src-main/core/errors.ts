/**
 * Errors a user can act on. Every failure that reaches a host as a message is a UserError with a stable
 * code; anything else is a bug and is reported as `internal`.
 */
export type ErrorCode =
  | 'bad_request' // params failed validation at the contract boundary
  | 'not_found' // a project, video, clip, class, model or job that does not exist
  | 'invalid_input' // a file or value the user supplied is wrong (names the file/line and the problem)
  | 'conflict' // the edit contradicts the current state (duplicate name, overlapping split, ...)
  | 'unavailable' // a backend, binary or resource is missing on this machine
  | 'cancelled'
  | 'internal';

export class UserError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'UserError';
    this.code = code;
    this.details = details;
  }
}

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export function toErrorPayload(err: unknown): ErrorPayload {
  if (err instanceof UserError) return { code: err.code, message: err.message, details: err.details };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message };
}

/** Longest piece of user input quoted back in a message: a 10 MB field must not come back whole. */
const MAX_QUOTED = 80;

/** `text` in quotes for a message, cut to MAX_QUOTED characters with its full length noted. */
export function quoted(text: string): string {
  return text.length <= MAX_QUOTED ? `"${text}"` : `"${text.slice(0, MAX_QUOTED)}…" (${text.length} characters)`;
}
