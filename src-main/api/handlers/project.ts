import { resolve } from 'node:path';
import type { HandlersFor } from '../handler-types.ts';
import type { projectRequests } from '../contract/project.ts';
import { rememberProject } from '../startup.ts';
import { registerSessionService } from '../session.ts';
import { importLabels } from '../../core/export/labels-import.ts';
import { exportLabels } from '../../core/export/labels-export.ts';
import { requireFfmpegTools } from '../../core/media/locate.ts';

/** How often an open project is checked for edits made by other processes. */
const EXTERNAL_CHANGE_POLL_MS = 1000;

// Tell clients when another process (the CLI, a second window) edits the open project.
registerSessionService((session) => {
  let timer: NodeJS.Timeout | null = null;
  session.onProjectOpened((project) => {
    let stamp = project.externalChangeStamp();
    timer = setInterval(() => {
      const next = project.externalChangeStamp();
      if (next !== stamp) {
        stamp = next;
        session.emit('project.changed', { what: 'all' });
      }
    }, EXTERNAL_CHANGE_POLL_MS);
    timer.unref();
  });
  session.onProjectClosing(() => {
    if (timer) clearInterval(timer);
    timer = null;
  });
});

export const projectHandlers: HandlersFor<typeof projectRequests> = {
  'project.open': ({ dir, create }, ctx) => {
    const project = ctx.session.open(resolve(dir), { create });
    // The app (Electron or web) reopens it next start; a CLI run is not the app's choice of project.
    if (ctx.host !== 'cli') rememberProject(project.dir);
    return project.summary();
  },
  'project.close': (_p, ctx) => {
    const closed = ctx.session.hasProject;
    ctx.session.close();
    return { closed };
  },
  'project.summary': (_p, ctx) => ctx.session.project.summary(),

  'classes.list': ({ includeArchived }, ctx) => ctx.session.project.classes.list({ includeArchived }),
  'classes.add': (params, ctx) => {
    const added = ctx.session.project.classes.add(params);
    ctx.emit('project.changed', { what: 'classes', ids: [added.id] });
    return added;
  },
  'classes.update': ({ id, ...patch }, ctx) => {
    const updated = ctx.session.project.classes.update(id, patch);
    ctx.emit('project.changed', { what: 'classes', ids: [id] });
    return updated;
  },
  'classes.merge': ({ sourceId, targetId }, ctx) => {
    const target = ctx.session.project.classes.merge(sourceId, targetId);
    ctx.emit('project.changed', { what: 'classes', ids: [sourceId, targetId] });
    ctx.emit('project.changed', { what: 'clips' });
    return target;
  },
  'classes.archive': ({ id, archived }, ctx) => {
    const updated = ctx.session.project.classes.update(id, { archived });
    ctx.emit('project.changed', { what: 'classes', ids: [id] });
    return updated;
  },

  'clips.list': (query, ctx) => ctx.session.project.clips.list(query),
  'clips.create': (params, ctx) => {
    const clip = ctx.session.project.clips.create(params);
    ctx.emit('project.changed', { what: 'clips', ids: [clip.id], videoId: clip.videoId });
    return clip;
  },
  'clips.update': ({ id, ...patch }, ctx) => {
    const clip = ctx.session.project.clips.update(id, patch);
    ctx.emit('project.changed', { what: 'clips', ids: [id], videoId: clip.videoId });
    return clip;
  },
  'clips.delete': ({ ids }, ctx) => {
    const clips = ctx.session.project.clips;
    const videoIds = new Set(ids.map((id) => clips.require(id).videoId));
    if (ids.length === 1) clips.delete(ids[0]!);
    else clips.deleteMany(ids);
    ctx.emit('project.changed', { what: 'clips', ids, ...(videoIds.size === 1 ? { videoId: [...videoIds][0]! } : {}) });
    return { deleted: ids.length };
  },
  'clips.split': ({ id, atFrame }, ctx) => {
    const [first, second] = ctx.session.project.clips.split(id, atFrame);
    ctx.emit('project.changed', { what: 'clips', ids: [first.id, second.id], videoId: first.videoId });
    return { first, second };
  },

  'history.undo': (_p, ctx) => {
    const history = ctx.session.project.history;
    const label = history.undo();
    if (label !== null) ctx.emit('project.changed', { what: 'history' });
    return { label, state: history.state() };
  },
  'history.redo': (_p, ctx) => {
    const history = ctx.session.project.history;
    const label = history.redo();
    if (label !== null) ctx.emit('project.changed', { what: 'history' });
    return { label, state: history.state() };
  },
  'history.state': (_p, ctx) => ctx.session.project.history.state(),

  'labels.import': ({ file, ...options }, ctx) => {
    const result = importLabels(ctx.session.project, resolve(file), options);
    if (result.createdClasses.length > 0) ctx.emit('project.changed', { what: 'classes' });
    if (result.imported > 0) ctx.emit('project.changed', { what: 'clips' });
    return result;
  },
  'labels.export': async ({ file, format, videoIds }, ctx) => {
    const tools = format === 'mmaction' ? await requireFfmpegTools() : undefined;
    return exportLabels(ctx.session.project, resolve(file), {
      format,
      videoIds,
      tools,
      onProgress: (progress) => ctx.emit('labels.exportProgress', progress),
    });
  },
};
