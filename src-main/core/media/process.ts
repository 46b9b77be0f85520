import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { basename } from 'node:path';
import { UserError } from '../errors.ts';

/** Output of a finished tool run. */
export interface ToolOutput {
  stdout: Buffer;
  stderr: string;
  code: number | null;
}

/** Runs a tool to completion, collecting stdout and the tail of stderr. Rejects only if it cannot start or is aborted. */
export function runTool(path: string, args: string[], opts: { signal?: AbortSignal } = {}): Promise<ToolOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { windowsHide: true, signal: opts.signal });
    const chunks: Buffer[] = [];
    const stderr = stderrTail(child);
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', (err) => reject(opts.signal?.aborted ? new UserError('cancelled', `${basename(path)} was cancelled.`) : err));
    child.on('close', (code) => resolve({ stdout: Buffer.concat(chunks), stderr: stderr(), code }));
  });
}

/** Keeps the last few KiB of a child's stderr (ffmpeg's reason for failing is at the end). */
export function stderrTail(child: ChildProcessWithoutNullStreams, limit = 8192): () => string {
  let text = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    text = (text + chunk).slice(-limit);
  });
  return () => text;
}

/** The last meaningful line ffmpeg/ffprobe printed, for error messages. */
export function lastLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.at(-1) ?? 'no message';
}

/**
 * Reads a child's stdout as fixed-size records (one raw frame each) without copying more than needed.
 * Yields each record as its own Buffer.
 */
export async function* fixedRecords(stream: NodeJS.ReadableStream, recordBytes: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let offset = 0;
    while (offset < chunk.length) {
      const need = recordBytes - pendingBytes;
      const take = Math.min(need, chunk.length - offset);
      if (pendingBytes === 0 && take === recordBytes) {
        yield chunk.subarray(offset, offset + take);
      } else {
        pending.push(chunk.subarray(offset, offset + take));
        pendingBytes += take;
        if (pendingBytes === recordBytes) {
          yield Buffer.concat(pending, recordBytes);
          pending = [];
          pendingBytes = 0;
        }
      }
      offset += take;
    }
  }
}
