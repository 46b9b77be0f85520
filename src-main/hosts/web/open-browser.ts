import { spawn } from 'node:child_process';

/**
 * Opens the system browser when the platform has an opener; returns whether one was started. $BROWSER
 * names the browser command to use instead (as for many command-line tools); STM_STUDIO_NO_BROWSER=1
 * turns this off (headless servers, tests). The URL lands on a command line that every local user can
 * read (`ps`), so callers pass a one-time link, never the token.
 */
export function openInBrowser(url: string): boolean {
  if (process.env.STM_STUDIO_NO_BROWSER === '1') return false;
  const chosen = process.env.BROWSER?.trim();
  const cmd = chosen || (process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open');
  const args = !chosen && process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  if (!chosen && process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false;
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
