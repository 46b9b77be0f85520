/** The app setting for the worker queue: its URL, in queue.json of the user's STM Studio data folder (never in a project). */
import { mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../files/atomic-write.ts';
import { join } from 'node:path';
import { UserError } from '../../errors.ts';

const FILE = 'queue.json';

export function readQueueSetting(dataDir: string): string | null {
  const file = join(dataDir, FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const url = (JSON.parse(text) as { url?: unknown }).url;
    return typeof url === 'string' && url ? url : null;
  } catch {
    throw new UserError('invalid_input', `${file} is not valid JSON; delete it or set the queue URL again.`);
  }
}

export function writeQueueSetting(dataDir: string, url: string | null): void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, FILE);
  // Readable by this user only: the URL may carry the Redis password.
  writeFileAtomic(file, `${JSON.stringify({ url }, null, 2)}\n`, 'queue setting', { mode: 0o600 });
}
