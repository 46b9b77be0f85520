import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';

/**
 * A fetch Response for a media file, honouring a `Range: bytes=…` header (206 / 416), so the stm-media://
 * protocol lets <video> seek without reading the whole file, as the web host's /media route does.
 */
export function mediaResponse(path: string, contentType: string, range: string | null): Response {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return new Response('file missing on disk', { status: 404 });
  }
  const headers: Record<string, string> = { 'content-type': contentType, 'accept-ranges': 'bytes', 'cache-control': 'no-cache' };
  const match = range ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
  if (!match || (!match[1] && !match[2])) {
    return new Response(body(path, 0, size - 1, size), { status: 200, headers: { ...headers, 'content-length': String(size) } });
  }
  const start = Math.max(0, match[1] ? Number(match[1]) : size - Number(match[2]));
  const end = Math.min(match[1] && match[2] ? Number(match[2]) : size - 1, size - 1);
  if (start > end || start >= size) return new Response(null, { status: 416, headers: { 'content-range': `bytes */${size}` } });
  return new Response(body(path, start, end, size), {
    status: 206,
    headers: { ...headers, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': String(end - start + 1) },
  });
}

function body(path: string, start: number, end: number, size: number): ReadableStream<Uint8Array> | null {
  if (size === 0) return null;
  return Readable.toWeb(createReadStream(path, { start, end })) as ReadableStream<Uint8Array>;
}
