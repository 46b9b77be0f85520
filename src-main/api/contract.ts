/**
 * The one contract between the UI (or CLI) and the core: every request (name → params → result) and
 * every event the core pushes. Each domain declares its part in ./contract/<domain>.ts.
 */
import type { ParamsIn, ResultOf, PayloadOf } from './define.ts';
import { systemRequests, systemEvents } from './contract/system.ts';
import { projectRequests, projectEvents } from './contract/project.ts';
import { mediaRequests, mediaEvents } from './contract/media.ts';
import { modelRequests, modelEvents } from './contract/model.ts';
import { jobsRequests, jobsEvents } from './contract/jobs.ts';
import { computeRequests, computeEvents } from './contract/compute.ts';
import { uiRequests, uiEvents } from './contract/ui.ts';
import { weightsRequests, weightsEvents } from './contract/weights.ts';

export const requests = {
  ...systemRequests,
  ...projectRequests,
  ...mediaRequests,
  ...modelRequests,
  ...jobsRequests,
  ...computeRequests,
  ...uiRequests,
  ...weightsRequests,
};

export const events = {
  ...systemEvents,
  ...projectEvents,
  ...mediaEvents,
  ...modelEvents,
  ...jobsEvents,
  ...computeEvents,
  ...uiEvents,
  ...weightsEvents,
};

export type Requests = typeof requests;
export type Events = typeof events;
export type RequestName = keyof Requests & string;
export type EventName = keyof Events & string;
export type Params<K extends RequestName> = ParamsIn<Requests[K]>;
export type Result<K extends RequestName> = ResultOf<Requests[K]>;
export type EventPayload<K extends EventName> = PayloadOf<Events[K]>;

export const requestNames = Object.keys(requests) as RequestName[];
export const eventNames = Object.keys(events) as EventName[];
