import { z } from 'zod';
import { request, event, type RequestMap, type EventMap } from '../define.ts';

export const computeRequests = {} satisfies RequestMap;

export const computeEvents = {} satisfies EventMap;

// Keep the imports referenced until the domain declares its requests.
void z; void request; void event;
