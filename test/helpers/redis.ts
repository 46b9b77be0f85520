/**
 * A real Debian redis-server for tests: a free loopback port, a temporary data folder (append-only file, so
 * a restart keeps the queue as a lab's Redis would), a password, and a second, TLS port with a certificate
 * made by openssl; stopped and removed after the test.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  port: number;
  password: string;
  /** redis://:password@127.0.0.1:port */
  url: string;
  /** rediss://:password@localhost:tlsPort (certificate for "localhost", signed by `caFile`) */
  tlsUrl: string;
  /** The certificate a TLS client must trust (NODE_EXTRA_CA_CERTS). */
  caFile: string;
  /**
   * Stops the server (SIGTERM: it writes its data) and starts it again on the same port and folder; with
   * `forget`, its data is deleted in between, as a Redis without persistence loses it.
   */
  restart(pauseMs?: number, options?: { forget?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'stm-redis-'));
  const port = await freePort();
  const tlsPort = await freePort();
  const password = 'lab-secret';
  const caFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  let child: ChildProcess | null = null;

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const proc = spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '',
        '--requirepass', password, '--daemonize', 'no', '--loglevel', 'warning',
        '--tls-port', String(tlsPort), '--tls-cert-file', caFile, '--tls-key-file', keyFile, '--tls-ca-cert-file', caFile, '--tls-auth-clients', 'no',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port}: ${out}`)), 10_000);
      const poll = setInterval(() => {
        const probe = spawn('redis-cli', ['-p', String(port), '-a', password, '--no-auth-warning', 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] });
        let answer = '';
        probe.stdout.on('data', (d) => (answer += d));
        probe.on('close', () => {
          if (answer.includes('PONG')) {
            clearInterval(poll);
            clearTimeout(timer);
            resolve();
          }
        });
      }, 100);
      proc.stdout!.on('data', (d) => (out += d));
      proc.stderr!.on('data', (d) => (out += d));
      proc.once('exit', (code) => {
        clearInterval(poll);
        clearTimeout(timer);
        if (child === proc) child = null;
        if (code !== 0 && code !== null) reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });

  const halt = () =>
    new Promise<void>((resolve) => {
      const proc = child;
      if (!proc || proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });

  await launch();
  return {
    port,
    password,
    url: `redis://:${password}@127.0.0.1:${port}`,
    tlsUrl: `rediss://:${password}@localhost:${tlsPort}`,
    caFile,
    async restart(pauseMs = 500, options = {}) {
      await halt();
      if (options.forget) for (const name of ['appendonlydir', 'dump.rdb']) rmSync(join(dir, name), { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, pauseMs));
      await launch();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
