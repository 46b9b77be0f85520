import { resolve } from 'node:path';
import type { HandlersFor } from '../handler-types.ts';
import type { weightsRequests } from '../contract/weights.ts';
import { findEntry, loadCatalogue } from '../../core/weights/catalogue.ts';
import { cancelWeightsDownload, fetchWeights } from '../../core/weights/downloads.ts';
import { listStartingPoints, suggestFineTune } from '../../core/weights/starting-points.ts';

export const weightsHandlers: HandlersFor<typeof weightsRequests> = {
  'weights.list': () => listStartingPoints(loadCatalogue()),
  'weights.get': (p, ctx) => fetchWeights(findEntry(loadCatalogue(), p.name), (progress) => ctx.emit('weights.progress', progress)),
  'weights.cancel': (p) => ({ cancelled: cancelWeightsDownload(p.name) }),
  'weights.import': async (p) => {
    // The loading checks build a network: tfjs is loaded only when a file needs them.
    const { importWeightsFile } = await import('../../core/weights/import.ts');
    return importWeightsFile(resolve(p.file), loadCatalogue());
  },
  'weights.suggest': (p, ctx) => {
    const classes = ctx.session.project.classes.list();
    const reversePairs = classes.filter((c) => c.reverseOf !== null).length / 2;
    return suggestFineTune(listStartingPoints(loadCatalogue()), { reversePairs: Math.ceil(reversePairs), onGpu: p.onGpu });
  },
};
