import { z } from 'zod';
import { request, event, type RequestMap, type EventMap } from '../define.ts';
import type { ProjectSummary } from '../../core/store/project.ts';
import type { ClassRecord } from '../../core/store/classes.ts';
import type { ClipRecord } from '../../core/store/clips.ts';
import type { HistoryState } from '../../core/store/history.ts';
import type { LabelImportResult } from '../../core/export/labels-import.ts';
import type { LabelExportResult } from '../../core/export/labels-export.ts';
import type { RecentProject } from '../recent-projects.ts';

export type { ProjectSummary, ClassRecord, ClipRecord, HistoryState, LabelImportResult, LabelExportResult, RecentProject };

const id = z.number().int().positive();
const frame = z.number().int().min(0);
const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'colour must be #RRGGBB');
const split = z.enum(['train', 'val']).nullable();
const empty = z.object({}).strict();

export interface HistoryStep {
  /** The edit undone or redone, or null when there was none. */
  label: string | null;
  state: HistoryState;
}

/** What changed in the open project; others (media, jobs, models) emit it too. */
export interface ProjectChanged {
  /**
   * `history`: an undo/redo, which may have changed classes and clips alike.
   * `all`: another process (a CLI run, a second window) edited the project; refetch everything.
   */
  what: 'classes' | 'clips' | 'videos' | 'models' | 'jobs' | 'history' | 'all';
  /** The rows concerned, when known. */
  ids?: number[];
  /** The video whose clips changed, when it is one video. */
  videoId?: number;
}

export const projectRequests = {
  'project.open': request(z.object({ dir: z.string().min(1), create: z.boolean().optional() }).strict()).returns<ProjectSummary>(),
  /** A new, empty project in `dir`; refused when that folder already exists with anything in it. */
  'project.create': request(z.object({ dir: z.string().min(1) }).strict()).returns<ProjectSummary>(),
  'project.close': request(empty).returns<{ closed: boolean }>(),
  /** The projects the app opened, newest first; folders gone since are marked `missing`. */
  'project.recent': request(empty).returns<RecentProject[]>(),
  /** Takes a project off the recent list (nothing is deleted). Returns the list left. */
  'project.forgetRecent': request(z.object({ dir: z.string().min(1) }).strict()).returns<RecentProject[]>(),
  'project.summary': request(empty).returns<ProjectSummary>(),

  'classes.list': request(z.object({ includeArchived: z.boolean().optional() }).strict()).returns<ClassRecord[]>(),
  'classes.add': request(
    z
      .object({
        name: z.string().min(1),
        color: color.optional(),
        hotkey: z.string().nullable().optional(),
        reverseOf: id.nullable().optional(),
        flipSafe: z.boolean().optional(),
      })
      .strict(),
  ).returns<ClassRecord>(),
  /** Rename, recolour, hotkey, reverse_of (symmetric), flip-safe, order, archive/restore. */
  'classes.update': request(
    z
      .object({
        id,
        name: z.string().min(1).optional(),
        color: color.optional(),
        hotkey: z.string().nullable().optional(),
        reverseOf: id.nullable().optional(),
        flipSafe: z.boolean().optional(),
        archived: z.boolean().optional(),
        sortOrder: z.number().int().optional(),
      })
      .strict(),
  ).returns<ClassRecord>(),
  /** Relabels every clip of `sourceId` as `targetId` and archives the source. Returns the target. */
  'classes.merge': request(z.object({ sourceId: id, targetId: id }).strict()).returns<ClassRecord>(),
  'classes.archive': request(z.object({ id, archived: z.boolean().default(true) }).strict()).returns<ClassRecord>(),

  'clips.list': request(
    z
      .object({
        videoId: id.optional(),
        classId: id.optional(),
        split: z.enum(['train', 'val', 'none']).optional(),
        source: z.enum(['manual', 'imported', 'prediction']).optional(),
        fromFrame: frame.optional(),
        toFrame: frame.optional(),
        limit: z.number().int().positive().optional(),
        offset: z.number().int().min(0).optional(),
      })
      .strict(),
  ).returns<ClipRecord[]>(),
  'clips.create': request(
    z
      .object({
        videoId: id,
        classId: id,
        startFrame: frame,
        endFrame: frame,
        split: split.optional(),
        source: z.enum(['manual', 'imported', 'prediction']).optional(),
      })
      .strict(),
  ).returns<ClipRecord>(),
  /** Resize, move, relabel or set the split of a clip. */
  'clips.update': request(
    z.object({ id, classId: id.optional(), startFrame: frame.optional(), endFrame: frame.optional(), split: split.optional() }).strict(),
  ).returns<ClipRecord>(),
  'clips.delete': request(z.object({ ids: z.array(id).min(1) }).strict()).returns<{ deleted: number }>(),
  /** Cuts a clip at `atFrame`: [start, at) and a new clip [at, end). */
  'clips.split': request(z.object({ id, atFrame: frame }).strict()).returns<{ first: ClipRecord; second: ClipRecord }>(),

  'history.undo': request(empty).returns<HistoryStep>(),
  'history.redo': request(empty).returns<HistoryStep>(),
  'history.state': request(empty).returns<HistoryState>(),

  'labels.import': request(
    z
      .object({
        file: z.string().min(1),
        format: z.enum(['auto', 'stm', 'via', 'boris', 'labelstudio']).default('auto'),
        createClasses: z.boolean().default(false),
      })
      .strict(),
  ).returns<LabelImportResult>(),
  'labels.export': request(z.object({ file: z.string().min(1), videoIds: z.array(id).optional() }).strict()).returns<LabelExportResult>(),
} satisfies RequestMap;

export const projectEvents = {
  /** Something in the open project changed; clients refetch what `what` names. */
  'project.changed': event<ProjectChanged>(),
} satisfies EventMap;
