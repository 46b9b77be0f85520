import { UserError } from '../errors.ts';
import type { EditTracker, History } from './history.ts';
import { nowIso, type Db, type SqlRow, stmt } from './sql.ts';

export type ClipSplit = 'train' | 'val';
export type ClipSource = 'manual' | 'imported' | 'prediction';

/** A label: frames [startFrame, endFrame) of a video carry a class. Clips of different classes may overlap. */
export interface ClipRecord {
  id: number;
  videoId: number;
  classId: number;
  startFrame: number;
  endFrame: number;
  split: ClipSplit | null;
  source: ClipSource;
  /** Who does the action (animal, person, track id); null when the project does not track subjects. */
  subject: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewClip {
  videoId: number;
  classId: number;
  startFrame: number;
  endFrame: number;
  split?: ClipSplit | null;
  source?: ClipSource;
  subject?: string | null;
}

export interface ClipPatch {
  classId?: number;
  startFrame?: number;
  endFrame?: number;
  split?: ClipSplit | null;
  subject?: string | null;
}

export interface ClipQuery {
  videoId?: number;
  classId?: number;
  split?: ClipSplit | 'none';
  source?: ClipSource;
  /** Only clips that overlap frames [fromFrame, toFrame). */
  fromFrame?: number;
  toFrame?: number;
  limit?: number;
  offset?: number;
}

function toClip(r: SqlRow): ClipRecord {
  return {
    id: Number(r.id),
    videoId: Number(r.video_id),
    classId: Number(r.class_id),
    startFrame: Number(r.start_frame),
    endFrame: Number(r.end_frame),
    split: (r.split as ClipSplit | null) ?? null,
    source: r.source as ClipSource,
    subject: (r.subject as string | null) ?? null,
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}

export class ClipsRepo {
  constructor(
    private readonly db: Db,
    private readonly history: History,
  ) {}

  get(id: number): ClipRecord | null {
    const row = stmt(this.db, 'SELECT * FROM clips WHERE id = ?').get(id) as SqlRow | undefined;
    return row ? toClip(row) : null;
  }

  require(id: number): ClipRecord {
    const clip = this.get(id);
    if (!clip) throw new UserError('not_found', `No clip with id ${id} in this project.`);
    return clip;
  }

  list(query: ClipQuery = {}): ClipRecord[] {
    const where: string[] = [];
    const values: unknown[] = [];
    if (query.videoId !== undefined) (where.push('video_id = ?'), values.push(query.videoId));
    if (query.classId !== undefined) (where.push('class_id = ?'), values.push(query.classId));
    if (query.split === 'none') where.push('split IS NULL');
    else if (query.split !== undefined) (where.push('split = ?'), values.push(query.split));
    if (query.source !== undefined) (where.push('source = ?'), values.push(query.source));
    if (query.toFrame !== undefined) (where.push('start_frame < ?'), values.push(query.toFrame));
    if (query.fromFrame !== undefined) (where.push('end_frame > ?'), values.push(query.fromFrame));
    const sql =
      `SELECT * FROM clips${where.length ? ' WHERE ' + where.join(' AND ') : ''} ` +
      `ORDER BY video_id, start_frame, id LIMIT ? OFFSET ?`;
    values.push(query.limit ?? -1, query.offset ?? 0);
    return (stmt(this.db, sql).all(...values) as SqlRow[]).map(toClip);
  }

  count(query: Pick<ClipQuery, 'videoId' | 'classId'> = {}): number {
    return stmt(this.db, 'SELECT count(*) FROM clips WHERE (? IS NULL OR video_id = ?) AND (? IS NULL OR class_id = ?)')
      .pluck()
      .get(query.videoId ?? null, query.videoId ?? null, query.classId ?? null, query.classId ?? null) as number;
  }

  create(input: NewClip): ClipRecord {
    return this.history.edit('Add clip', (track) => this.insertWith(input, track));
  }

  /** Adds many clips as one edit (one undo step), all or nothing. */
  createMany(inputs: readonly NewClip[], label = `Add ${inputs.length} clips`): ClipRecord[] {
    return this.history.edit(label, (track) => inputs.map((input) => this.insertWith(input, track)));
  }

  /** Resize, move, relabel or change the split of a clip. */
  update(id: number, patch: ClipPatch): ClipRecord {
    return this.history.edit(describePatch(patch), (track) => {
      const current = this.require(id);
      const next = {
        videoId: current.videoId,
        classId: patch.classId ?? current.classId,
        startFrame: patch.startFrame ?? current.startFrame,
        endFrame: patch.endFrame ?? current.endFrame,
        split: patch.split === undefined ? current.split : patch.split,
        subject: patch.subject === undefined ? current.subject : normalizeSubject(patch.subject),
      };
      this.check(next, patch.classId !== undefined && patch.classId !== current.classId);
      track.touch('clips', id);
      stmt(this.db, 'UPDATE clips SET class_id = ?, start_frame = ?, end_frame = ?, split = ?, subject = ?, updated_at = ? WHERE id = ?')
        .run(next.classId, next.startFrame, next.endFrame, next.split, next.subject, nowIso(), id);
      return this.require(id);
    });
  }

  delete(id: number): void {
    this.history.edit('Delete clip', (track) => {
      this.require(id);
      track.touch('clips', id);
      stmt(this.db, 'DELETE FROM clips WHERE id = ?').run(id);
    });
  }

  deleteMany(ids: readonly number[]): void {
    this.history.edit(`Delete ${ids.length} clips`, (track) => {
      for (const id of ids) {
        this.require(id);
        track.touch('clips', id);
        stmt(this.db, 'DELETE FROM clips WHERE id = ?').run(id);
      }
    });
  }

  /** Cuts a clip at `atFrame`: it keeps [start, at) and a new clip of the same class gets [at, end). */
  split(id: number, atFrame: number): [ClipRecord, ClipRecord] {
    return this.history.edit('Split clip', (track) => {
      const clip = this.require(id);
      if (!Number.isInteger(atFrame) || atFrame <= clip.startFrame || atFrame >= clip.endFrame) {
        throw new UserError(
          'invalid_input',
          `Cannot split clip ${id} at frame ${atFrame}: the frame must lie strictly inside [${clip.startFrame}, ${clip.endFrame}).`,
        );
      }
      track.touch('clips', id);
      stmt(this.db, 'UPDATE clips SET end_frame = ?, updated_at = ? WHERE id = ?').run(atFrame, nowIso(), id);
      const second = this.insertWith({ ...clip, startFrame: atFrame, endFrame: clip.endFrame }, track);
      return [this.require(id), second];
    });
  }

  /** True when a clip with exactly this video, class, frames and subject exists. */
  exists(videoId: number, classId: number, startFrame: number, endFrame: number, subject: string | null = null): boolean {
    return (
      stmt(this.db, 'SELECT 1 FROM clips WHERE video_id = ? AND start_frame = ? AND end_frame = ? AND class_id = ? AND subject IS ? LIMIT 1')
        .get(videoId, startFrame, endFrame, classId, normalizeSubject(subject)) !== undefined
    );
  }

  /** The distinct subjects named by clips (of one video), sorted. */
  subjects(videoId?: number): string[] {
    return stmt(this.db, 'SELECT DISTINCT subject FROM clips WHERE subject IS NOT NULL AND (? IS NULL OR video_id = ?) ORDER BY subject')
      .pluck()
      .all(videoId ?? null, videoId ?? null) as string[];
  }

  /** Adds a clip as part of a larger edit recorded by `track`. */
  insertWith(input: NewClip, track: EditTracker): ClipRecord {
    const split = input.split ?? null;
    const subject = normalizeSubject(input.subject);
    this.check({ ...input, split }, true);
    const now = nowIso();
    const info = stmt(this.db,
        'INSERT INTO clips (video_id, class_id, start_frame, end_frame, split, source, subject, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(input.videoId, input.classId, input.startFrame, input.endFrame, split, input.source ?? 'manual', subject, now, now);
    const id = Number(info.lastInsertRowid);
    track.inserted('clips', id);
    return {
      id,
      videoId: input.videoId,
      classId: input.classId,
      startFrame: input.startFrame,
      endFrame: input.endFrame,
      split,
      source: input.source ?? 'manual',
      subject,
      createdAt: now,
      updatedAt: now,
    };
  }

  private check(clip: Omit<NewClip, 'source'>, classChanged: boolean): void {
    const { startFrame, endFrame } = clip;
    if (!Number.isInteger(startFrame) || !Number.isInteger(endFrame)) {
      throw new UserError('invalid_input', `Clip frames must be whole numbers (got ${startFrame}–${endFrame}).`);
    }
    if (startFrame < 0) throw new UserError('invalid_input', `Clip start frame ${startFrame} is negative.`);
    if (endFrame <= startFrame) {
      throw new UserError('invalid_input', `Clip end frame ${endFrame} must be after its start frame ${startFrame}.`);
    }
    const video = stmt(this.db, 'SELECT name, frame_count FROM videos WHERE id = ?').get(clip.videoId) as
      | { name: string; frame_count: number | null }
      | undefined;
    if (!video) throw new UserError('not_found', `No video with id ${clip.videoId} in this project.`);
    if (video.frame_count !== null && endFrame > video.frame_count) {
      throw new UserError(
        'invalid_input',
        `Clip end frame ${endFrame} is past the end of ${video.name} (${video.frame_count} frames).`,
      );
    }
    const cls = stmt(this.db, 'SELECT name, archived FROM classes WHERE id = ?').get(clip.classId) as
      | { name: string; archived: number }
      | undefined;
    if (!cls) throw new UserError('not_found', `No class with id ${clip.classId} in this project.`);
    if (classChanged && cls.archived) {
      throw new UserError('conflict', `Class "${cls.name}" is archived; restore it to label new clips with it.`);
    }
  }
}

/** Blank subjects are no subject; names are kept as written, trimmed. */
export function normalizeSubject(subject: string | null | undefined): string | null {
  const trimmed = subject?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

function describePatch(patch: ClipPatch): string {
  if (patch.subject !== undefined && Object.keys(patch).length === 1) return 'Set clip subject';
  if (patch.classId !== undefined) return 'Relabel clip';
  if (patch.startFrame !== undefined && patch.endFrame !== undefined) return 'Move clip';
  if (patch.startFrame !== undefined || patch.endFrame !== undefined) return 'Resize clip';
  if (patch.split !== undefined) return 'Set clip split';
  return 'Edit clip';
}
