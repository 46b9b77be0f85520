import { z } from 'zod';
import { request, event, type RequestMap, type EventMap } from '../define.ts';
import type { DoctorReport } from '../../core/doctor.ts';

export type { DoctorReport };

export interface AppInfo {
  name: string;
  version: string;
  host: 'electron' | 'web' | 'cli';
  /** The project folder open in this session, or null. */
  projectDir: string | null;
}

export const systemRequests = {
  'app.info': request(z.object({}).strict()).returns<AppInfo>(),
  'app.doctor': request(z.object({}).strict()).returns<DoctorReport>(),
} satisfies RequestMap;

export const systemEvents = {
  /** The open project changed (another project opened, or it was closed). */
  'session.changed': event<{ projectDir: string | null }>(),
} satisfies EventMap;
