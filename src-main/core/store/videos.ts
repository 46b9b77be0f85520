import { basename } from 'node:path';
import { UserError } from '../errors.ts';
import type { History } from './history.ts';
import { blobToFloat64, nowIso, typedToBlob, writeTx, type Db, type SqlRow, stmt } from './sql.ts';

/**
 * `changed`: a different file now lies at the video's path (its fingerprint differs from the one taken when
 * it was added); shown and refused, never stored (the stored status stays `ok` until the file is relinked).
 */
export type VideoStatus = 'ok' | 'missing' | 'changed';

/** A video as listed (without its per-frame timestamps, which can be large). */
export interface VideoInfo {
  id: number;
  path: string;
  name: string;
  fingerprint: string | null;
  sizeBytes: number | null;
  durationS: number | null;
  frameCount: number | null;
  fps: number | null;
  width: number | null;
  height: number | null;
  displayWidth: number | null;
  displayHeight: number | null;
  rotation: number;
  codec: string | null;
  hasAudio: boolean;
  proxyPath: string | null;
  status: VideoStatus;
  addedAt: string;
}

export interface VideoRecord extends VideoInfo {
  /** Presentation time in seconds of every decoded frame, in decode order; null until probed. */
  framePts: Float64Array | null;
}

export type NewVideo = Omit<Partial<VideoRecord>, 'id' | 'addedAt'> & { path: string };
export type VideoPatch = Omit<Partial<VideoRecord>, 'id' | 'addedAt'>;

const columns: Record<keyof Omit<VideoRecord, 'id' | 'addedAt'>, string> = {
  path: 'path',
  name: 'name',
  fingerprint: 'fingerprint',
  sizeBytes: 'size_bytes',
  durationS: 'duration_s',
  frameCount: 'frame_count',
  fps: 'fps',
  width: 'width',
  height: 'height',
  displayWidth: 'display_width',
  displayHeight: 'display_height',
  rotation: 'rotation',
  codec: 'codec',
  hasAudio: 'has_audio',
  framePts: 'frame_pts',
  proxyPath: 'proxy_path',
  status: 'status',
};

const INFO_COLUMNS =
  'id, path, name, fingerprint, size_bytes, duration_s, frame_count, fps, width, height, display_width, ' +
  'display_height, rotation, codec, has_audio, proxy_path, status, added_at';

function toInfo(r: SqlRow): VideoInfo {
  return {
    id: Number(r.id),
    path: String(r.path),
    name: String(r.name),
    fingerprint: (r.fingerprint as string | null) ?? null,
    sizeBytes: (r.size_bytes as number | null) ?? null,
    durationS: (r.duration_s as number | null) ?? null,
    frameCount: (r.frame_count as number | null) ?? null,
    fps: (r.fps as number | null) ?? null,
    width: (r.width as number | null) ?? null,
    height: (r.height as number | null) ?? null,
    displayWidth: (r.display_width as number | null) ?? null,
    displayHeight: (r.display_height as number | null) ?? null,
    rotation: Number(r.rotation ?? 0),
    codec: (r.codec as string | null) ?? null,
    hasAudio: Boolean(r.has_audio),
    proxyPath: (r.proxy_path as string | null) ?? null,
    status: r.status as VideoStatus,
    addedAt: String(r.added_at),
  };
}

function toSqlValue(key: keyof typeof columns, value: unknown): unknown {
  if (key === 'framePts') return typedToBlob(value as Float64Array | null);
  if (key === 'hasAudio') return value ? 1 : 0;
  return value ?? null;
}

export class VideosRepo {
  constructor(
    private readonly db: Db,
    private readonly history: History,
  ) {}

  insert(video: NewVideo): VideoRecord {
    const full: NewVideo = { name: basename(video.path), ...video };
    const keys = (Object.keys(full) as Array<keyof typeof columns>).filter((k) => k in columns && full[k] !== undefined);
    const sql =
      `INSERT INTO videos (${keys.map((k) => columns[k]).join(', ')}, added_at) ` +
      `VALUES (${keys.map(() => '?').join(', ')}, ?)`;
    try {
      const info = writeTx(this.db, () =>
        stmt(this.db, sql).run(...keys.map((k) => toSqlValue(k, full[k])), nowIso()),
      );
      return this.get(Number(info.lastInsertRowid))!;
    } catch (err) {
      if (err instanceof Error && /UNIQUE constraint failed: videos.path/.test(err.message)) {
        throw new UserError('conflict', `The video ${video.path} is already in the project.`);
      }
      throw err;
    }
  }

  get(id: number): VideoRecord | null {
    const row = stmt(this.db, `SELECT ${INFO_COLUMNS}, frame_pts FROM videos WHERE id = ?`).get(id) as SqlRow | undefined;
    return row ? { ...toInfo(row), framePts: blobToFloat64(row.frame_pts) } : null;
  }

  /** The video or a not_found error naming the id. */
  require(id: number): VideoRecord {
    const video = this.get(id);
    if (!video) throw new UserError('not_found', `No video with id ${id} in this project.`);
    return video;
  }

  list(): VideoInfo[] {
    return (stmt(this.db, `SELECT ${INFO_COLUMNS} FROM videos ORDER BY name, id`).all() as SqlRow[]).map(toInfo);
  }

  framePts(id: number): Float64Array | null {
    const row = stmt(this.db, 'SELECT frame_pts FROM videos WHERE id = ?').get(id) as SqlRow | undefined;
    return row ? blobToFloat64(row.frame_pts) : null;
  }

  update(id: number, patch: VideoPatch): VideoRecord {
    const keys = (Object.keys(patch) as Array<keyof typeof columns>).filter((k) => k in columns && patch[k] !== undefined);
    if (keys.length > 0) {
      const sql = `UPDATE videos SET ${keys.map((k) => `${columns[k]} = ?`).join(', ')} WHERE id = ?`;
      writeTx(this.db, () => stmt(this.db, sql).run(...keys.map((k) => toSqlValue(k, patch[k])), id));
    }
    return this.require(id);
  }

  /**
   * Removes the video with its clips as one undoable edit (undo brings both back); its predictions and
   * probe results, which a job can recompute, go for good.
   */
  remove(id: number): void {
    const video = this.require(id);
    this.history.edit(`Remove video ${video.name}`, (track) => {
      const clipIds = stmt(this.db, 'SELECT id FROM clips WHERE video_id = ?').pluck().all(id) as number[];
      for (const clipId of clipIds) track.touch('clips', clipId);
      track.touch('videos', id);
      stmt(this.db, 'DELETE FROM videos WHERE id = ?').run(id);
    });
  }

  findByFingerprint(fingerprint: string): VideoInfo | null {
    const row = stmt(this.db, `SELECT ${INFO_COLUMNS} FROM videos WHERE fingerprint = ? ORDER BY id LIMIT 1`).get(fingerprint) as
      | SqlRow
      | undefined;
    return row ? toInfo(row) : null;
  }

  /**
   * The video an imported row means: exact path first, then the file name (case-insensitive, without folders).
   * Returns null when nothing matches or the name is ambiguous.
   */
  findByPathOrName(pathOrName: string): VideoInfo | null {
    const byPath = stmt(this.db, `SELECT ${INFO_COLUMNS} FROM videos WHERE path = ?`).get(pathOrName) as SqlRow | undefined;
    if (byPath) return toInfo(byPath);
    const name = basename(pathOrName.replace(/\\/g, '/'));
    const byName = stmt(this.db, `SELECT ${INFO_COLUMNS} FROM videos WHERE name = ? COLLATE NOCASE LIMIT 2`).all(name) as SqlRow[];
    return byName.length === 1 ? toInfo(byName[0]!) : null;
  }
}
