/**
 * Most clips one `clips.list` call returns (also its default `limit`): a large project is read in pages
 * (`offset`), so one client's listing never holds the host for seconds. A page shorter than `limit` is
 * the last. Plain constants (no zod), so the renderer can import them.
 */
export const CLIPS_PAGE = 10_000;
