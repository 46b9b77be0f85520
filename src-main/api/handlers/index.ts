import type { HandlersFor } from '../handler-types.ts';
import type { Requests } from '../contract.ts';
import { systemHandlers } from './system.ts';
import { projectHandlers } from './project.ts';
import { mediaHandlers } from './media.ts';
import { modelHandlers } from './model.ts';
import { jobsHandlers } from './jobs.ts';
import { computeHandlers } from './compute.ts';
import { uiHandlers } from './ui.ts';
import { weightsHandlers } from './weights.ts';

export const handlers: HandlersFor<Requests> = {
  ...systemHandlers,
  ...projectHandlers,
  ...mediaHandlers,
  ...modelHandlers,
  ...jobsHandlers,
  ...computeHandlers,
  ...uiHandlers,
  ...weightsHandlers,
};
