import { z } from 'zod';
import { request, event, type RequestMap, type EventMap } from '../define.ts';
import type { CachedWeights } from '../../core/weights/cache.ts';
import type { DownloadProgress } from '../../core/weights/download.ts';
import type { ImportedWeights } from '../../core/weights/import.ts';
import type { FineTuneSuggestion, StartingPoint, WeightsListing } from '../../core/weights/starting-points.ts';

export type { CachedWeights, DownloadProgress, FineTuneSuggestion, ImportedWeights, StartingPoint, WeightsListing };

const name = z.string().min(1);

export const weightsRequests = {
  /** The catalogue of pretrained starting points (downloaded or not) and the custom files of the per-user cache. */
  'weights.list': request(z.object({}).strict()).returns<WeightsListing>(),
  /**
   * Downloads catalogue weights into the per-user cache (resuming an earlier partial download), verifies them
   * and resolves with the cached file; `weights.progress` reports rate and ETA. Resolves at once when cached.
   */
  'weights.get': request(z.object({ name }).strict()).returns<CachedWeights>(),
  /** Stops a download; what it has stays on disk for the next `weights.get` to resume. */
  'weights.cancel': request(z.object({ name }).strict()).returns<{ cancelled: boolean }>(),
  /** Files a weights file into the cache: under its catalogue name when its hash is known, else as custom after the loading checks. */
  'weights.import': request(z.object({ file: z.string().min(1) }).strict()).returns<ImportedWeights>(),
  /** "New fine-tune" defaults for the open project: which cached weights to start from and why, layout, freeze, learning rate. */
  'weights.suggest': request(z.object({ onGpu: z.boolean().default(false) }).strict()).returns<FineTuneSuggestion>(),
} satisfies RequestMap;

export const weightsEvents = {
  /** A download moved on (bytes, rate, ETA), is retrying after a cut connection, or is being verified. */
  'weights.progress': event<DownloadProgress>(),
} satisfies EventMap;
