/**
 * Who may talk to the web host. The token is the whole of a user's power over their files (browse folders,
 * create projects, write exports anywhere), so it travels only in the URL the user was given and in the
 * page's own requests: never in a cookie (cookies are not port-scoped, every local server would receive
 * it), never on a command line (`serve --open` hands the browser a one-time code instead), and never to a
 * request addressed to a name other than this machine's own (DNS rebinding).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** How long a one-time code from `serve --open` can be exchanged for the session. */
const CODE_LIFETIME_MS = 120_000;

export function sameSecret(a: string | null | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The request target as a URL on this host, or null when it cannot be parsed (`//a:b/api`, control bytes). */
export function requestUrl(req: IncomingMessage): URL | null {
  const target = req.url ?? '/';
  try {
    // Prefixing keeps `//x/y` a path instead of a protocol-relative URL naming another host.
    return new URL(`http://localhost${target.startsWith('/') ? '' : '/'}${target}`);
  } catch {
    return null;
  }
}

/** The token a request carries: `?token=` or `Authorization: Bearer`. */
export function tokenOf(req: IncomingMessage, url: URL): string | null {
  const fromQuery = url.searchParams.get('token');
  if (fromQuery) return fromQuery;
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice(7) : null;
}

/**
 * Whether the Host header names this server by address: an IP literal or `localhost`, on our port. A page
 * on a rebound domain (evil.example resolving to 127.0.0.1) sends its own name and is refused.
 */
export function hostAllowed(hostHeader: string | undefined, port: number): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(hostHeader.trim());
  if (!m) return false;
  const name = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  if (name.toLowerCase() !== 'localhost' && isIP(name) === 0) return false;
  return Number(m[2] ?? 80) === port;
}

/** One-time codes that `serve --open` puts in the browser's command line in place of the token. */
export class OneTimeCodes {
  private readonly codes = new Map<string, number>();

  issue(now = Date.now()): string {
    for (const [code, expires] of this.codes) if (expires <= now) this.codes.delete(code);
    const code = randomBytes(18).toString('base64url');
    this.codes.set(code, now + CODE_LIFETIME_MS);
    return code;
  }

  /** True once per issued code, within its lifetime. */
  redeem(code: string | null, now = Date.now()): boolean {
    if (!code) return false;
    for (const [known, expires] of this.codes) {
      if (sameSecret(code, known)) {
        this.codes.delete(known);
        return expires > now;
      }
    }
    return false;
  }
}
