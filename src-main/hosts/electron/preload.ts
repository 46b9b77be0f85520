import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { requestNames, eventNames } from '../../api/contract-names.ts';

const allowedRequests = new Set<string>(requestNames);
const allowedEvents = new Set<string>(eventNames);

/** window.api: the contract (and dropped files' paths), nothing else of Node or Electron. */
contextBridge.exposeInMainWorld('api', {
  call(name: string, params: unknown) {
    if (!allowedRequests.has(name)) return Promise.resolve({ ok: false, error: { code: 'bad_request', message: `Unknown request "${name}"` } });
    return ipcRenderer.invoke('api:call', name, params);
  },
  on(name: string, listener: (payload: unknown) => void) {
    if (!allowedEvents.has(name)) throw new Error(`Unknown event "${name}"`);
    const wrapped = (_e: unknown, eventName: string, payload: unknown) => {
      if (eventName === name) listener(payload);
    };
    ipcRenderer.on('api:event', wrapped);
    return () => ipcRenderer.off('api:event', wrapped);
  },
  mediaBase: 'stm-media://media',
  /** The real paths of files dropped on the window (the page itself only sees their names). */
  pathsForFiles(files: File[]): string[] {
    return Array.from(files, (file) => webUtils.getPathForFile(file));
  },
});
