import type { HandlersFor } from '../handler-types.ts';
import type { modelRequests } from '../contract/model.ts';

export const modelHandlers: HandlersFor<typeof modelRequests> = {};
