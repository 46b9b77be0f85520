import { pathToFileURL } from 'node:url';

/** Where the app's own renderer is loaded from: the dev server in development, else the built index.html. */
export type RendererOrigin = { kind: 'dev-server'; url: string } | { kind: 'file'; indexHtml: string };

/**
 * Whether a frame at `frameUrl` is the app's own renderer, the only caller the main process answers.
 * A file: URL must be exactly the built index.html (any query or hash); a dev-server URL must share its
 * origin. Anything else (another file, a remote page, an iframe's about:blank) is refused.
 */
export function isOwnRenderer(frameUrl: string, origin: RendererOrigin): boolean {
  let url: URL;
  try {
    url = new URL(frameUrl);
  } catch {
    return false;
  }
  if (origin.kind === 'dev-server') return url.origin === new URL(origin.url).origin;
  const expected = pathToFileURL(origin.indexHtml);
  return url.protocol === 'file:' && url.host === '' && url.pathname === expected.pathname;
}
