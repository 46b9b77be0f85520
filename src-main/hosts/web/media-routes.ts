import type { Session } from '../../api/session.ts';

/** A file on disk that a media URL stands for. */
export interface MediaFile {
  path: string;
  contentType: string;
}

/**
 * Which file `/media/<kind>/<id>` serves for the open project, or null (404). Only files registered in
 * the project are ever served. Filled in by the media engine.
 */
export async function resolveMediaFile(_session: Session, _kind: string, _id: string): Promise<MediaFile | null> {
  return null;
}
