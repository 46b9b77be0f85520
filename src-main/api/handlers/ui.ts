import type { HandlersFor } from '../handler-types.ts';
import type { uiRequests } from '../contract/ui.ts';
import { browseFolder, prepareExportPath } from './ui-browse.ts';
import { rejectWindow, restoreWindow } from '../../core/results/review.ts';
import { trainSteps } from '../../core/jobs/train-steps.ts';

export const uiHandlers: HandlersFor<typeof uiRequests> = {
  'ui.browse': ({ dir }) => browseFolder(dir),
  'ui.prepareExportPath': ({ file }, ctx) => ({ file: prepareExportPath(file, ctx.session.projectDir) }),
  'review.reject': (params, ctx) => {
    const result = rejectWindow(ctx.session.project, params);
    ctx.emit('review.changed', { modelId: params.modelId, ...result });
    return result;
  },
  'review.restore': (params, ctx) => {
    const result = restoreWindow(ctx.session.project, params);
    ctx.emit('review.changed', { modelId: params.modelId, ...result });
    return result;
  },
  'metrics.steps': ({ jobId }, ctx) => trainSteps(ctx.session.project, jobId),
};
