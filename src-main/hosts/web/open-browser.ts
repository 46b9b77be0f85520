import { spawn } from 'node:child_process';

/**
 * Opens the system browser when the platform has an opener; returns whether one was started.
 * STM_STUDIO_NO_BROWSER=1 turns this off (headless servers, tests).
 */
export function openInBrowser(url: string): boolean {
  if (process.env.STM_STUDIO_NO_BROWSER === '1') return false;
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false;
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
