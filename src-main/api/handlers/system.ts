import type { HandlersFor } from '../handler-types.ts';
import type { systemRequests } from '../contract/system.ts';
import { appVersion } from '../../core/app-info.ts';
import { runDoctor } from '../../core/doctor.ts';

export const systemHandlers: HandlersFor<typeof systemRequests> = {
  'app.info': (_p, ctx) => ({
    name: 'STM Studio',
    version: appVersion(),
    host: ctx.host,
    projectDir: ctx.session.projectDir,
  }),
  'app.doctor': () => runDoctor(),
};
