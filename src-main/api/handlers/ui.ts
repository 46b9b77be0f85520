import type { HandlersFor } from '../handler-types.ts';
import type { uiRequests } from '../contract/ui.ts';
import { browseFolder, prepareExportPath } from './ui-browse.ts';

export const uiHandlers: HandlersFor<typeof uiRequests> = {
  'ui.browse': ({ dir }) => browseFolder(dir),
  'ui.prepareExportPath': ({ file }, ctx) => ({ file: prepareExportPath(file, ctx.session.projectDir) }),
};
