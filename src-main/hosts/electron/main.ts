import { app, BrowserWindow, ipcMain, net, protocol, type WebFrameMain } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLocalApi } from '../../api/local-client.ts';
import { dispatch } from '../../api/router.ts';
import { resolveStartupProject } from '../../api/startup.ts';
import { resolveMediaFile } from '../web/media-routes.ts';

protocol.registerSchemesAsPrivileged([
  { scheme: 'stm-media', privileges: { standard: true, secure: true, stream: true, supportFetchAPI: true } },
]);

const local = createLocalApi('electron');
let window: BrowserWindow | null = null;

/** Only our own renderer may call the contract. */
function isTrustedFrame(frame: WebFrameMain | null): boolean {
  if (!frame) return false;
  const url = frame.url;
  if (process.env.ELECTRON_RENDERER_URL) return url.startsWith(process.env.ELECTRON_RENDERER_URL);
  return url.startsWith('file://') && url.includes('/out/renderer/');
}

function createWindow(): void {
  window = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 1024,
    minHeight: 640,
    title: 'STM Studio',
    backgroundColor: '#14161a',
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  if (process.env.ELECTRON_RENDERER_URL) void window.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void window.loadFile(join(import.meta.dirname, '../renderer/index.html'));
}

app.whenReady().then(async () => {
  ipcMain.handle('api:call', (event, name: unknown, params: unknown) => {
    if (!isTrustedFrame(event.senderFrame)) return { ok: false, error: { code: 'bad_request', message: 'untrusted sender' } };
    return dispatch(local.context, typeof name === 'string' ? name : '', params);
  });
  local.hub.onAny((name, payload) => window?.webContents.send('api:event', name, payload));
  protocol.handle('stm-media', async (request) => {
    const url = new URL(request.url);
    const [, kind, id] = url.pathname.split('/');
    const file = kind && id ? await resolveMediaFile(local.context.session, kind, decodeURIComponent(id)) : null;
    if (!file) return new Response('not found', { status: 404 });
    return net.fetch(pathToFileURL(file.path).toString(), { headers: request.headers });
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
  local.context.session.close();
  if (process.platform !== 'darwin') app.quit();
});
