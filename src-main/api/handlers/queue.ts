import type { HandlersFor } from '../handler-types.ts';
import type { queueRequests } from '../contract/queue.ts';
import { appDataDir } from '../app-state.ts';
import { parseQueueUrl } from '../../core/jobs/distributed/connection.ts';
import { readQueueSetting, writeQueueSetting } from '../../core/jobs/distributed/settings.ts';

export const queueHandlers: HandlersFor<typeof queueRequests> = {
  'queue.settings': () => ({ url: readQueueSetting(appDataDir()) }),
  'queue.setUrl': ({ url }) => {
    if (url) parseQueueUrl(url);
    writeQueueSetting(appDataDir(), url);
    return { url };
  },
};
