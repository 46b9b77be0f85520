import { z } from 'zod';
import { request, type RequestMap, type EventMap } from '../define.ts';

/** One entry of a folder listing for the "Add videos" browser (the web host has no native file dialog). */
export interface BrowseEntry {
  name: string;
  path: string;
  kind: 'dir' | 'video';
  sizeBytes: number | null;
}

export interface BrowseResult {
  dir: string;
  parent: string | null;
  home: string;
  entries: BrowseEntry[];
}

/** Requests that exist only to serve the UI (view state, aggregates for drawing). */
export const uiRequests = {
  /** Folders and video files of one folder on the machine running the core (default: the home folder). */
  'ui.browse': request(z.object({ dir: z.string().optional() }).strict()).returns<BrowseResult>(),
  /**
   * Where an export dialog will write: the absolute path, relative names taken inside the project folder,
   * with its folder created so the writer can put the file there.
   */
  'ui.prepareExportPath': request(z.object({ file: z.string().min(1) }).strict()).returns<{ file: string }>(),
} satisfies RequestMap;

export const uiEvents = {} satisfies EventMap;
