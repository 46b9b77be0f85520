/**
 * Downloads in progress in this process, by catalogue name: a second request for the same weights joins the
 * first instead of writing the same partial file twice, and any caller can cancel it.
 */
import type { CatalogueEntry } from './catalogue.ts';
import type { CachedWeights } from './cache.ts';
import { downloadEntry, type DownloadProgress } from './download.ts';

interface Running {
  promise: Promise<CachedWeights>;
  controller: AbortController;
  listeners: Set<(progress: DownloadProgress) => void>;
}

const running = new Map<string, Running>();

/** Downloads (or joins the download of) an entry; `onProgress` hears every progress report until it ends. */
export function fetchWeights(entry: CatalogueEntry, onProgress?: (progress: DownloadProgress) => void, signal?: AbortSignal): Promise<CachedWeights> {
  let current = running.get(entry.name);
  if (!current) {
    const controller = new AbortController();
    const listeners = new Set<(progress: DownloadProgress) => void>();
    const promise = downloadEntry(entry, { signal: controller.signal, onProgress: (p) => listeners.forEach((l) => l(p)) }).finally(() => running.delete(entry.name));
    current = { promise, controller, listeners };
    running.set(entry.name, current);
  }
  const joined = current;
  if (onProgress) joined.listeners.add(onProgress);
  const onAbort = () => joined.controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  return joined.promise.finally(() => {
    if (onProgress) joined.listeners.delete(onProgress);
    signal?.removeEventListener('abort', onAbort);
  });
}

/** Cancels the download of `name`; false when none is running. The partial file stays for a later resume. */
export function cancelWeightsDownload(name: string): boolean {
  const current = running.get(name);
  if (!current) return false;
  current.controller.abort();
  return true;
}
