import { quoted, UserError } from '../errors.ts';
import type { EditTracker, History } from './history.ts';
import { nowIso, type Db, type SqlRow, stmt } from './sql.ts';

export interface ClassRecord {
  id: number;
  name: string;
  /** #RRGGBB */
  color: string;
  hotkey: string | null;
  /** The class the reversed action looks like ("open lid" ↔ "close lid"); always symmetric. */
  reverseOf: number | null;
  /** Horizontal flip keeps this class (false for "push left" and the like). */
  flipSafe: boolean;
  archived: boolean;
  /** Set when the class was merged into another one. */
  mergedInto: number | null;
  sortOrder: number;
  createdAt: string;
  /** Clips labelled with this class. */
  clipCount: number;
}

export interface NewClass {
  name: string;
  color?: string;
  hotkey?: string | null;
  reverseOf?: number | null;
  flipSafe?: boolean;
}

export interface ClassPatch {
  name?: string;
  color?: string;
  hotkey?: string | null;
  reverseOf?: number | null;
  flipSafe?: boolean;
  archived?: boolean;
  sortOrder?: number;
}

/** Distinct colours handed out in turn to classes created without one. */
export const CLASS_PALETTE = [
  '#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4',
  '#f032e6', '#bfef45', '#fabed4', '#469990', '#dcbeff', '#9a6324',
  '#fffac8', '#800000', '#aaffc3', '#808000', '#ffd8b1', '#000075',
] as const;

const COLOR_RE = /^#[0-9a-fA-F]{6}$/;
/** Longest class name: it is a label on a timeline and a CSV column header, not a document. */
export const MAX_CLASS_NAME = 200;

function toClass(r: SqlRow): ClassRecord {
  return {
    id: Number(r.id),
    name: String(r.name),
    color: String(r.color),
    hotkey: (r.hotkey as string | null) ?? null,
    reverseOf: r.reverse_of === null ? null : Number(r.reverse_of),
    flipSafe: Boolean(r.flip_safe),
    archived: Boolean(r.archived),
    mergedInto: r.merged_into === null ? null : Number(r.merged_into),
    sortOrder: Number(r.sort_order),
    createdAt: String(r.created_at),
    clipCount: Number(r.clip_count ?? 0),
  };
}

const SELECT =
  'SELECT c.*, (SELECT count(*) FROM clips WHERE class_id = c.id) AS clip_count FROM classes c';

export class ClassesRepo {
  constructor(
    private readonly db: Db,
    private readonly history: History,
  ) {}

  list(opts: { includeArchived?: boolean } = {}): ClassRecord[] {
    const where = opts.includeArchived ? '' : ' WHERE c.archived = 0';
    return (stmt(this.db, `${SELECT}${where} ORDER BY c.sort_order, c.id`).all() as SqlRow[]).map(toClass);
  }

  get(id: number): ClassRecord | null {
    const row = stmt(this.db, `${SELECT} WHERE c.id = ?`).get(id) as SqlRow | undefined;
    return row ? toClass(row) : null;
  }

  require(id: number): ClassRecord {
    const found = this.get(id);
    if (!found) throw new UserError('not_found', `No class with id ${id} in this project.`);
    return found;
  }

  /**
   * The active class with this name (case-insensitive), without its clip count: imports call this for
   * every row, and counting a class's clips in a 1M-clip project costs milliseconds each time.
   */
  findByName(name: string): Omit<ClassRecord, 'clipCount'> | null {
    const row = stmt(this.db, 'SELECT * FROM classes WHERE name = ? COLLATE NOCASE AND archived = 0').get(name.trim()) as
      | SqlRow
      | undefined;
    if (!row) return null;
    const { clipCount: _uncounted, ...found } = toClass(row);
    return found;
  }

  add(input: NewClass): ClassRecord {
    return this.history.edit(`Add class "${input.name.trim()}"`, (track) => this.addWith(input, track));
  }

  /** Adds a class as part of a larger edit (an import) recorded by `track`. */
  addWith(input: NewClass, track: EditTracker): ClassRecord {
    const name = this.checkName(input.name, null);
    const count = stmt(this.db, 'SELECT count(*) FROM classes').pluck().get() as number;
    const color = input.color ?? CLASS_PALETTE[count % CLASS_PALETTE.length]!;
    this.checkColor(color);
    const hotkey = this.checkHotkey(input.hotkey ?? null, null);
    const order = stmt(this.db, 'SELECT coalesce(max(sort_order), -1) + 1 FROM classes').pluck().get() as number;
    const info = stmt(this.db, 'INSERT INTO classes (name, color, hotkey, flip_safe, sort_order, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(name, color, hotkey, input.flipSafe === false ? 0 : 1, order, nowIso());
    const id = Number(info.lastInsertRowid);
    track.inserted('classes', id);
    if (input.reverseOf != null) this.link(id, input.reverseOf, track);
    return this.require(id);
  }

  update(id: number, patch: ClassPatch): ClassRecord {
    return this.history.edit(describePatch(this.require(id).name, patch), (track) => {
      const current = this.require(id); // re-read inside the transaction: another process may have changed it
      track.touch('classes', id);
      const sets: string[] = [];
      const values: unknown[] = [];
      const willBeActive = patch.archived === undefined ? !current.archived : !patch.archived;
      if (patch.name !== undefined || (willBeActive && current.archived)) {
        sets.push('name = ?');
        values.push(this.checkName(patch.name ?? current.name, id));
      }
      if (patch.color !== undefined) {
        this.checkColor(patch.color);
        sets.push('color = ?');
        values.push(patch.color);
      }
      if (patch.hotkey !== undefined || (willBeActive && current.archived && current.hotkey)) {
        sets.push('hotkey = ?');
        values.push(this.checkHotkey(patch.hotkey === undefined ? current.hotkey : patch.hotkey, id));
      }
      if (patch.flipSafe !== undefined) {
        sets.push('flip_safe = ?');
        values.push(patch.flipSafe ? 1 : 0);
      }
      if (patch.sortOrder !== undefined) {
        sets.push('sort_order = ?');
        values.push(patch.sortOrder);
      }
      if (patch.archived !== undefined) {
        sets.push('archived = ?');
        values.push(patch.archived ? 1 : 0);
        if (!patch.archived) sets.push('merged_into = NULL');
      }
      if (sets.length > 0) stmt(this.db, `UPDATE classes SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
      if (patch.reverseOf !== undefined) {
        if (patch.reverseOf === null) this.unlink(id, track);
        else this.link(id, patch.reverseOf, track);
      }
      return this.require(id);
    });
  }

  /** Hides the class from pickers; its clips keep their label and it can be restored with `update`. */
  archive(id: number): ClassRecord {
    return this.update(id, { archived: true });
  }

  /** Relabels every clip of `sourceId` as `targetId` and archives the source (undoable like any edit). */
  merge(sourceId: number, targetId: number): ClassRecord {
    if (sourceId === targetId) throw new UserError('conflict', 'Cannot merge a class into itself.');
    return this.history.edit(`Merge class "${this.require(sourceId).name}" into "${this.require(targetId).name}"`, (track) => {
      const source = this.require(sourceId);
      const target = this.require(targetId);
      if (target.archived) throw new UserError('conflict', `Class "${target.name}" is archived; restore it before merging into it.`);
      const clipIds = stmt(this.db, 'SELECT id FROM clips WHERE class_id = ?').pluck().all(sourceId) as number[];
      for (const clipId of clipIds) track.touch('clips', clipId);
      stmt(this.db, 'UPDATE clips SET class_id = ?, updated_at = ? WHERE class_id = ?').run(targetId, nowIso(), sourceId);
      if (source.reverseOf !== null && target.reverseOf === null && source.reverseOf !== targetId) {
        this.link(targetId, source.reverseOf, track);
      } else {
        this.unlink(sourceId, track);
      }
      track.touch('classes', sourceId);
      stmt(this.db, 'UPDATE classes SET archived = 1, merged_into = ?, reverse_of = NULL WHERE id = ?').run(targetId, sourceId);
      return this.require(targetId);
    });
  }

  /** Sets a ↔ b, dropping whatever either was paired with before. */
  private link(a: number, b: number, track: EditTracker): void {
    if (a === b) throw new UserError('conflict', 'A class cannot be its own reverse; leave reverse_of empty instead.');
    const other = this.require(b);
    if (other.archived) throw new UserError('conflict', `Class "${other.name}" is archived and cannot be a reverse.`);
    this.unlink(a, track);
    this.unlink(b, track);
    track.touch('classes', a);
    track.touch('classes', b);
    stmt(this.db, 'UPDATE classes SET reverse_of = ? WHERE id = ?').run(b, a);
    stmt(this.db, 'UPDATE classes SET reverse_of = ? WHERE id = ?').run(a, b);
  }

  private unlink(id: number, track: EditTracker): void {
    const partner = stmt(this.db, 'SELECT reverse_of FROM classes WHERE id = ?').pluck().get(id) as number | null | undefined;
    if (partner == null) return;
    track.touch('classes', id);
    track.touch('classes', partner);
    stmt(this.db, 'UPDATE classes SET reverse_of = NULL WHERE id IN (?, ?)').run(id, partner);
  }

  private checkName(raw: string, selfId: number | null): string {
    const name = raw.trim();
    if (name.length === 0) throw new UserError('invalid_input', 'A class name cannot be empty.');
    if (name.length > MAX_CLASS_NAME) {
      throw new UserError('invalid_input', `Class name ${quoted(name)} is longer than ${MAX_CLASS_NAME} characters.`);
    }
    if (/[\r\n]/.test(name)) throw new UserError('invalid_input', `Class name ${quoted(name)} contains a line break.`);
    const clash = this.findByName(name);
    if (clash && clash.id !== selfId) throw new UserError('conflict', `A class named "${clash.name}" already exists.`);
    return name;
  }

  private checkColor(color: string): void {
    if (!COLOR_RE.test(color)) throw new UserError('invalid_input', `Colour ${quoted(color)} is not of the form #RRGGBB.`);
  }

  private checkHotkey(hotkey: string | null, selfId: number | null): string | null {
    if (hotkey === null || hotkey === '') return null;
    if ([...hotkey].length !== 1 || /\s/.test(hotkey)) {
      throw new UserError('invalid_input', `Hotkey ${quoted(hotkey)} must be a single visible character.`);
    }
    const clash = stmt(this.db, 'SELECT name FROM classes WHERE hotkey = ? AND archived = 0 AND id IS NOT ?')
      .pluck()
      .get(hotkey, selfId) as string | undefined;
    if (clash) throw new UserError('conflict', `Hotkey "${hotkey}" is already used by class "${clash}".`);
    return hotkey;
  }
}

function describePatch(name: string, patch: ClassPatch): string {
  if (patch.archived === true) return `Archive class "${name}"`;
  if (patch.archived === false) return `Restore class "${name}"`;
  if (patch.name !== undefined) return `Rename class "${name}" to "${patch.name.trim()}"`;
  if (patch.color !== undefined) return `Recolour class "${name}"`;
  if (patch.hotkey !== undefined) return `Set hotkey of class "${name}"`;
  if (patch.reverseOf !== undefined) return `Set reverse of class "${name}"`;
  return `Edit class "${name}"`;
}
