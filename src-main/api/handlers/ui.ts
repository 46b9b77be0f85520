import type { HandlersFor } from '../handler-types.ts';
import type { uiRequests } from '../contract/ui.ts';
import { browseFolder } from './ui-browse.ts';

export const uiHandlers: HandlersFor<typeof uiRequests> = {
  'ui.browse': ({ dir }) => browseFolder(dir),
};
