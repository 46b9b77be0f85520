/**
 * Downloads a catalogue entry into the per-user cache: streamed into `<file>.partial` while hashing, resumed
 * with an HTTP Range request after a cut connection (a few retries) or in a later run, cancellable (the
 * partial file is kept for the next attempt), checked against the catalogue's size and sha256 before the
 * rename that puts it in the cache. A mismatch deletes the file. HTTP(S)_PROXY and NO_PROXY are honoured
 * through undici's EnvHttpProxyAgent (Node's own fetch ignores them).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvHttpProxyAgent, fetch } from 'undici';
import { UserError } from '../errors.ts';
import { downloadUrlOf, hashMatches, isFullHash, type CatalogueEntry } from './catalogue.ts';
import {
  cachedEntry, cachedPathOf, fileIntoCache, partialPathOf, removeFromCache, sha256File, writeSmallFileAtomically, type CachedWeights,
} from './cache.ts';

export interface DownloadProgress {
  name: string;
  phase: 'downloading' | 'retrying' | 'verifying';
  /** Bytes on disk so far (a resumed download starts above 0). */
  done: number;
  /** Whole size, once the server has said it (or the catalogue knows it). */
  total: number | null;
  /** Bytes per second over the last few seconds. */
  rate: number;
  /** Seconds left at that rate; null while unknown. */
  etaS: number | null;
  note?: string;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** Attempts after a cut connection before giving up (the partial file stays for a later run). */
  retries?: number;
  env?: NodeJS.ProcessEnv;
}

const MB = 1024 * 1024;
const mb = (n: number): string => `${(n / MB).toFixed(1)} MB`;

/** Rate over a sliding window of recent samples, so a stall shows at once and a burst does not linger. */
class RateMeter {
  private samples: Array<[number, number]> = [];
  add(done: number): number {
    const now = performance.now();
    this.samples.push([now, done]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 3000) this.samples.shift();
    const [t0, d0] = this.samples[0];
    return now - t0 > 0 ? ((done - d0) * 1000) / (now - t0) : 0;
  }
}

/** What a partial file belongs to: a resume only continues the same URL and expected hash. */
interface PartialRecord {
  url: string;
  sha256: string;
}

function readPartialRecord(path: string): PartialRecord | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PartialRecord;
  } catch {
    return null;
  }
}

async function hashExisting(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Takes `<partial>.lock` for this process, so that two processes (the app and a CLI run) never append to one
 * partial file; a lock left by a process that no longer runs is taken over.
 */
function lockDownload(entry: CatalogueEntry, lock: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new UserError('unavailable', `Cannot write ${lock}: ${(err as Error).message}`);
      const pid = Number(readFileSync(lock, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) {
        throw new UserError('conflict', `${entry.name} is being downloaded by another STM Studio process (pid ${pid}); wait for it, or stop it and run again.`);
      }
      rmSync(lock, { force: true });
    }
  }
  throw new UserError('conflict', `Cannot take the download lock ${lock}.`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Downloads and verifies one entry (or returns it at once when it is already in the cache). */
export async function downloadEntry(entry: CatalogueEntry, options: DownloadOptions = {}): Promise<CachedWeights> {
  const cached = cachedEntry(entry);
  if (cached) return cached;
  const target = cachedPathOf(entry);
  mkdirSync(dirname(target), { recursive: true });
  const unlock = lockDownload(entry, `${partialPathOf(target)}.lock`);
  try {
    // A file renamed into place whose record was never written (the process stopped in between) is kept if it checks out.
    if (existsSync(target)) {
      const sha256 = await sha256File(target);
      const bytes = statSync(target).size;
      if (hashMatches(entry, sha256) && (entry.bytes === null || entry.bytes === bytes)) {
        removeFromCache(target, { keepFile: true });
        return fileIntoCache(target, target, { name: entry.name, sha256, bytes, origin: downloadUrlOf(entry, options.env), addedAt: new Date().toISOString() });
      }
      removeFromCache(target);
    }
    return await transfer(entry, target, options);
  } finally {
    unlock();
  }
}

async function transfer(entry: CatalogueEntry, target: string, options: DownloadOptions): Promise<CachedWeights> {
  const env = options.env ?? process.env;
  const url = downloadUrlOf(entry, env);
  const partial = partialPathOf(target);
  const partialRecordPath = `${partial}.json`;
  const previous = readPartialRecord(partialRecordPath);
  if (existsSync(partial) && (!previous || previous.url !== url || previous.sha256 !== entry.sha256)) rmSync(partial, { force: true });

  let hash = createHash('sha256');
  let done = 0;
  if (existsSync(partial)) {
    await hashExisting(partial, hash);
    done = statSync(partial).size;
  }
  let total: number | null = entry.bytes;
  const meter = new RateMeter();
  let lastReport = 0;
  const report = (phase: DownloadProgress['phase'], force = false, note?: string) => {
    const now = performance.now();
    const rate = meter.add(done);
    if (!force && now - lastReport < 200) return;
    lastReport = now;
    const etaS = total !== null && rate > 0 ? Math.max(0, (total - done) / rate) : null;
    options.onProgress?.({ name: entry.name, phase, done, total, rate, etaS, note });
  };
  const cancelled = () =>
    new UserError('cancelled', `Download of ${entry.name} cancelled; ${mb(done)} kept in ${partial}: "stm-studio weights get ${entry.name}" resumes it.`);

  const dispatcher = new EnvHttpProxyAgent();
  const retries = options.retries ?? 4;
  let attempt = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) throw cancelled();
      let response;
      try {
        response = await fetch(url, { dispatcher, signal: options.signal, headers: done > 0 ? { range: `bytes=${done}-` } : {} });
      } catch (err) {
        if (options.signal?.aborted) throw cancelled();
        if (++attempt > retries) throw new UserError('unavailable', `Cannot reach ${url}: ${causeOf(err)}.${done > 0 ? ` ${mb(done)} kept; run again to resume.` : ''} Offline? Download the file elsewhere and use "stm-studio weights import FILE".`);
        report('retrying', true, `connection failed (${causeOf(err)}), retry ${attempt}/${retries}`);
        await sleep(250 * attempt, options.signal);
        continue;
      }
      if (response.status === 416 && done > 0) {
        // The partial file already holds everything the server has: verify it as it is.
        await response.body?.cancel();
        break;
      }
      if (response.status !== 200 && response.status !== 206) {
        await response.body?.cancel();
        const hint = response.status === 404 ? ` The catalogue entry "${entry.name}" may have moved; fetch the file by hand and use "stm-studio weights import FILE".` : '';
        throw new UserError(response.status === 404 ? 'not_found' : 'unavailable', `${url}: HTTP ${response.status} ${response.statusText}.${hint}`);
      }
      const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
      if (response.status === 206 && (!range || Number(range[1]) !== done)) {
        await response.body?.cancel();
        throw new UserError('unavailable', `${url}: the server resumed at the wrong place (${response.headers.get('content-range') ?? 'no Content-Range'}); delete ${partial} and try again.`);
      }
      if (response.status === 200 && done > 0) {
        // The server ignored the Range header and sends the whole file: start over.
        rmSync(partial, { force: true });
        hash = createHash('sha256');
        done = 0;
      }
      const length = Number(response.headers.get('content-length'));
      if (range && range[2] !== '*') total = Number(range[2]);
      else if (Number.isFinite(length) && length > 0) total = done + length;
      writeSmallFileAtomically(partialRecordPath, JSON.stringify({ url, sha256: entry.sha256 } satisfies PartialRecord));
      const file: FileHandle = await open(partial, 'a');
      const startedAt = done;
      let cut: unknown = null;
      try {
        report('downloading', true);
        if (!response.body) throw new Error('empty response body');
        for await (const chunk of response.body) {
          const bytes = chunk as Uint8Array;
          try {
            await file.write(bytes);
          } catch (err) {
            throw writeFailure(err, partial, done);
          }
          hash.update(bytes);
          done += bytes.length;
          report('downloading');
        }
        await file.sync();
      } catch (err) {
        // A failed write is not a cut connection: retrying would not help.
        if (err instanceof UserError) throw err;
        cut = err;
      } finally {
        await file.close();
      }
      if (cut === null && (total === null || done >= total)) break;
      if (options.signal?.aborted) throw cancelled();
      // Retries count cuts in a row: a flaky link that keeps making progress is never given up on.
      if (done > startedAt) attempt = 0;
      if (++attempt > retries) {
        throw new UserError('unavailable', `The connection to ${url} was cut ${attempt} time${attempt === 1 ? '' : 's'} in a row; ${mb(done)} of ${total === null ? '?' : mb(total)} kept in ${partial}: run again to resume.`);
      }
      report('retrying', true, `connection cut at ${mb(done)}, resuming (${attempt}/${retries})`);
      await sleep(250 * attempt, options.signal);
    }
  } finally {
    await dispatcher.close();
  }

  report('verifying', true);
  const sha256 = hash.digest('hex');
  const size = statSync(partial).size;
  const wrongSize = entry.bytes !== null && size !== entry.bytes;
  if (wrongSize || !hashMatches(entry, sha256)) {
    removePartial(partial);
    const expected = isFullHash(entry) ? entry.sha256 : `${entry.sha256}… (published prefix)`;
    const what = wrongSize ? `${size} bytes instead of ${entry.bytes}, sha256 ${sha256}` : `sha256 ${sha256}`;
    throw new UserError('invalid_input', `${url}: checksum mismatch for ${entry.name}: expected sha256 ${expected}, got ${what}. The downloaded file was deleted; nothing was added to the cache.`);
  }
  const result = fileIntoCache(partial, target, { name: entry.name, sha256, bytes: size, origin: url, addedAt: new Date().toISOString() });
  rmSync(partialRecordPath, { force: true });
  options.onProgress?.({ name: entry.name, phase: 'verifying', done: size, total: size, rate: 0, etaS: 0, note: 'verified' });
  return result;
}

function writeFailure(err: unknown, partial: string, done: number): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  const what = code === 'ENOSPC' || code === 'EDQUOT' ? 'Disk full' : `Cannot write (${(err as Error).message})`;
  return new UserError('unavailable', `${what} while downloading into ${partial}; ${mb(done)} kept: free some space and run again to resume.`);
}

function removePartial(partial: string): void {
  rmSync(partial, { force: true });
  rmSync(`${partial}.json`, { force: true });
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
