/** Another process holding a project's write lock, as a long CLI import does. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

export interface HeldLock {
  /** Resolves with the other process's clock (Date.now()) at the moment it let go of the lock. */
  released: Promise<number>;
}

/** Takes the write lock of the SQLite file `file` in another process for `ms`; resolves once it holds it. */
export async function lockElsewhere(file: string, ms: number): Promise<HeldLock> {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const script = `
    const Database = require(${JSON.stringify(sqlite)});
    const db = new Database(${JSON.stringify(file)});
    db.prepare('BEGIN IMMEDIATE').run();
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('held-by-another-process', '1')").run();
    process.stdout.write('locked\\n');
    setTimeout(() => { const at = Date.now(); db.prepare('COMMIT').run(); db.close(); process.stdout.write('released ' + at + '\\n'); }, ${ms});`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += String(d)));
  const released = new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => {
      const at = /released (\d+)/.exec(out);
      if (at) resolve(Number(at[1]));
      else reject(new Error(`the locking process exited with ${code} before releasing the lock`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    const check = () => (out.includes('locked') ? resolve() : undefined);
    child.stdout.on('data', check);
    child.once('exit', () => reject(new Error('the locking process exited before taking the lock')));
  });
  return { released };
}
