import { z } from 'zod';
import { request, event, type RequestMap, type EventMap } from '../define.ts';
import type { ProjectSummary } from '../../core/store/project.ts';
import type { ClassRecord } from '../../core/store/classes.ts';
import type { ClipRecord } from '../../core/store/clips.ts';
import type { HistoryState } from '../../core/store/history.ts';
import type { LabelFormat, LabelImportResult } from '../../core/export/labels-import.ts';
import type { LabelExportFormat, LabelExportResult } from '../../core/export/labels-export.ts';
import { CLIPS_PAGE } from './paging.ts';

export type { ProjectSummary, ClassRecord, ClipRecord, HistoryState, LabelImportResult, LabelExportResult };

const id = z.number().int().positive();
const frame = z.number().int().min(0);
const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'colour must be #RRGGBB');
const split = z.enum(['train', 'val']).nullable();
/** Who does the action (animal, person, track id); null or blank: none. */
const subject = z.string().max(200).nullable();
const empty = z.object({}).strict();

/** Label files `labels.import` reads (`auto`: recognised from the content). */
export const LABEL_IMPORT_FORMATS = ['auto', 'stm', 'boris', 'via', 'labelstudio', 'per-frame', 'elan'] as const satisfies readonly LabelFormat[];
/** What `labels.export` writes. */
export const LABEL_EXPORT_FORMATS = ['stm', 'boris', 'per-frame', 'mmaction'] as const satisfies readonly LabelExportFormat[];

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
  'project.close': request(empty).returns<{ closed: boolean }>(),
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
        limit: z.number().int().positive().max(CLIPS_PAGE).default(CLIPS_PAGE),
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
        subject: subject.optional(),
      })
      .strict(),
  ).returns<ClipRecord>(),
  /** Resize, move, relabel, set the split or the subject (null: none) of a clip. */
  'clips.update': request(
    z
      .object({ id, classId: id.optional(), startFrame: frame.optional(), endFrame: frame.optional(), split: split.optional(), subject: subject.optional() })
      .strict(),
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
        format: z.enum(LABEL_IMPORT_FORMATS).default('auto'),
        createClasses: z.boolean().default(false),
        /** Label Studio: the labelling project's <Video framerate> (default 24). */
        fps: z.number().positive().max(1000).optional(),
        /** BORIS project: observations to import (default: every media observation whose videos are in the project). */
        observations: z.array(z.string().min(1)).optional(),
        /** Per-frame CSV and ELAN: the project video the file labels. */
        video: z.string().min(1).optional(),
        /** ELAN: tiers to import (default: all). */
        tiers: z.array(z.string().min(1)).optional(),
      })
      .strict(),
  ).returns<LabelImportResult>(),
  /**
   * Writes the labels as our CSV (`stm`), BORIS (`boris`: a project when `file` ends in .boris, else tabular events TSV), per-frame 0/1 tables
   * (`per-frame`, a folder of `<video>_labels.csv`) or mmaction2 lists with every clip cut out (`mmaction`, a folder).
   */
  'labels.export': request(
    z
      .object({ file: z.string().min(1), format: z.enum(LABEL_EXPORT_FORMATS).default('stm'), videoIds: z.array(id).optional() })
      .strict(),
  ).returns<LabelExportResult>(),
} satisfies RequestMap;

export const projectEvents = {
  /** Something in the open project changed; clients refetch what `what` names. */
  'project.changed': event<ProjectChanged>(),
  /** mmaction export: clips cut so far. */
  'labels.exportProgress': event<{ done: number; total: number; clip: string }>(),
} satisfies EventMap;
