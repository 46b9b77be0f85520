import type { BrowserWindow as AppWindow, IpcMainInvokeEvent } from 'electron';
import { join } from 'node:path';
import { createLocalApi } from '../../api/local-client.ts';
import { dispatch } from '../../api/router.ts';
import { resolveStartupProject } from '../../api/startup.ts';
import { resolveMediaFile } from '../web/media-routes.ts';
import { mediaResponse } from './media-response.ts';
import { isOwnRenderer, type RendererOrigin } from './trust.ts';

type ElectronMain = typeof import('electron');

/**
 * The Electron main process. Electron's API comes in as an argument, imported by out/main/index.js before
 * tsx's loader hooks exist: `import 'electron'` through those hooks fails on Electron versions without
 * electron/electron#51947. Runs while the entry is still evaluating, so before the app is ready.
 */
export function startElectronHost({ app, BrowserWindow, ipcMain, protocol, shell }: ElectronMain): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: 'stm-media', privileges: { standard: true, secure: true, stream: true, supportFetchAPI: true } },
  ]);

  // The built app lives next to package.json (app.getAppPath()); these sources run from src-main via tsx.
  const built = join(app.getAppPath(), 'out');
  const devServer = process.env.ELECTRON_RENDERER_URL;
  const renderer: RendererOrigin = devServer
    ? { kind: 'dev-server', url: devServer }
    : { kind: 'file', indexHtml: join(built, 'renderer', 'index.html') };

  const local = createLocalApi('electron');
  let window: AppWindow | null = null;

  /** Only the main frame of our own window, showing our own renderer, may call the contract. */
  function fromOwnRenderer(event: IpcMainInvokeEvent): boolean {
    const frame = event.senderFrame;
    return !!window && event.sender === window.webContents && !!frame && frame.parent === null && isOwnRenderer(frame.url, renderer);
  }

  function createWindow(): void {
    const win = new BrowserWindow({
      width: 1440,
      height: 900,
      minWidth: 1024,
      minHeight: 640,
      title: 'STM Studio',
      backgroundColor: '#14161a',
      webPreferences: {
        preload: join(built, 'preload', 'preload.cjs'),
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
      },
    });
    window = win;
    win.on('closed', () => {
      if (window === win) window = null;
    });
    // The window only ever shows the app; links to the web open in the system browser.
    win.webContents.on('will-navigate', (event, url) => {
      if (!isOwnRenderer(url, renderer)) event.preventDefault();
    });
    win.webContents.setWindowOpenHandler(({ url }) => {
      if (/^https?:\/\//.test(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
    if (renderer.kind === 'dev-server') void win.loadURL(renderer.url);
    else void win.loadFile(renderer.indexHtml);
  }

  app.whenReady().then(async () => {
    ipcMain.handle('api:call', (event, name: unknown, params: unknown) => {
      if (!fromOwnRenderer(event)) return { ok: false, error: { code: 'bad_request', message: 'untrusted sender' } };
      return dispatch(local.context, typeof name === 'string' ? name : '', params);
    });
    local.hub.onAny((name, payload) => {
      if (window && !window.isDestroyed()) window.webContents.send('api:event', name, payload);
    });
    protocol.handle('stm-media', async (request) => {
      const url = new URL(request.url);
      const [, kind, id] = url.pathname.split('/');
      const file = kind && id ? await resolveMediaFile(local.context.session, kind, id) : null; // ids are digits: nothing to decode
      if (!file) return new Response('not found', { status: 404 });
      return mediaResponse(file.path, file.contentType, request.headers.get('range'));
    });
    try {
      local.context.session.open(await resolveStartupProject(), { create: true });
    } catch (err) {
      console.error(`Could not open the startup project: ${(err as Error).message}`);
    }
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => local.context.session.close());
}
