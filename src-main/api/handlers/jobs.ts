import type { HandlersFor } from '../handler-types.ts';
import type { jobsRequests } from '../contract/jobs.ts';

export const jobsHandlers: HandlersFor<typeof jobsRequests> = {};
