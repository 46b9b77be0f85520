import type { HandlersFor } from '../handler-types.ts';
import type { projectRequests } from '../contract/project.ts';

export const projectHandlers: HandlersFor<typeof projectRequests> = {};
