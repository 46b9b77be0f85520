import type { HandlersFor } from '../handler-types.ts';
import type { mediaRequests } from '../contract/media.ts';

export const mediaHandlers: HandlersFor<typeof mediaRequests> = {};
