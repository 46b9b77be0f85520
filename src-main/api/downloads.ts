/**
 * Files a browser may download from the web host: only those an export request of this session wrote, each
 * under a random id, so a download link can name nothing else on the server.
 */
import { randomUUID } from 'node:crypto';
import type { Session } from './session.ts';

const offered = new WeakMap<Session, Map<string, string>>();

/** Offers a written file for download; returns the id the browser fetches it by. */
export function offerDownload(session: Session, file: string): string {
  const files = offered.get(session) ?? new Map<string, string>();
  offered.set(session, files);
  const id = randomUUID();
  files.set(id, file);
  return id;
}

/** The file offered under `id`, or null. */
export function offeredDownload(session: Session, id: string): string | null {
  return offered.get(session)?.get(id) ?? null;
}
