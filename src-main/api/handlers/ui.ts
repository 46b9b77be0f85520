import type { HandlersFor } from '../handler-types.ts';
import type { uiRequests } from '../contract/ui.ts';

export const uiHandlers: HandlersFor<typeof uiRequests> = {};
