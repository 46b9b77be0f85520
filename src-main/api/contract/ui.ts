import { z } from 'zod';
import { request, event, type RequestMap, type EventMap } from '../define.ts';

/** Requests that exist only to serve the UI (view state, aggregates for drawing). */
export const uiRequests = {} satisfies RequestMap;

export const uiEvents = {} satisfies EventMap;

// Keep the imports referenced until the domain declares its requests.
void z; void request; void event;
