import type { HandlersFor } from '../handler-types.ts';
import type { computeRequests } from '../contract/compute.ts';

export const computeHandlers: HandlersFor<typeof computeRequests> = {};
