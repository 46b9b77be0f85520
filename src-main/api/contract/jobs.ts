import { z } from 'zod';
import { request, event, type RequestMap, type EventMap } from '../define.ts';

export const jobsRequests = {} satisfies RequestMap;

export const jobsEvents = {} satisfies EventMap;

// Keep the imports referenced until the domain declares its requests.
void z; void request; void event;
