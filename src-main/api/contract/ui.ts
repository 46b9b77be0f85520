import { z } from 'zod';
import { request, event, type RequestMap, type EventMap } from '../define.ts';
import type { TrainStepPoint } from '../../core/jobs/train-steps.ts';

export type { TrainStepPoint };

/** One entry of a folder listing for the "Add videos" browser (the web host has no native file dialog). */
export interface BrowseEntry {
  name: string;
  path: string;
  kind: 'dir' | 'video';
  sizeBytes: number | null;
  /** A folder holding an STM Studio project. */
  project?: boolean;
}

export interface BrowseResult {
  dir: string;
  parent: string | null;
  home: string;
  /** The folder itself holds an STM Studio project. */
  project: boolean;
  entries: BrowseEntry[];
}

const id = z.number().int().positive();
const reviewWindow = z.object({ modelId: id, videoId: id, windowIndex: z.number().int().min(0) }).strict();

/** Requests that exist only to serve the UI (view state, aggregates for drawing). */
export const uiRequests = {
  /** Folders (projects marked) and video files of one folder on the machine running the core (default: the home folder). */
  'ui.browse': request(z.object({ dir: z.string().optional() }).strict()).returns<BrowseResult>(),
  /**
   * Where an export dialog will write: the absolute path, relative names taken inside the project folder,
   * with its folder created so the writer can put the file there.
   */
  'ui.prepareExportPath': request(z.object({ file: z.string().min(1) }).strict()).returns<{ file: string }>(),
  /** Keeps a predicted window out of the review queue (for every client, kept in the project). */
  'review.reject': request(reviewWindow).returns<{ rejected: number }>(),
  /** Puts a rejected window back in the review queue. */
  'review.restore': request(reviewWindow).returns<{ rejected: number }>(),
  /** The in-epoch training curve of a training job (mean loss / top-1 every few batches). */
  'metrics.steps': request(z.object({ jobId: id }).strict()).returns<TrainStepPoint[]>(),
} satisfies RequestMap;

export const uiEvents = {
  /** A window of a model's review queue was rejected or restored; clients reload that queue. */
  'review.changed': event<{ modelId: number; rejected: number }>(),
} satisfies EventMap;
