import { api } from './api.ts';
import { wb } from './workbench.svelte.ts';
import { project } from './project.svelte.ts';

export interface PendingVideo {
  name: string;
  progress: number | null;
  error: string | null;
}

/** How long a removed video can be brought back before it leaves the project. */
const REMOVE_UNDO_MS = 8000;

/** Adding, relinking and removing videos, with per-file progress while the core probes them. */
class VideoImport {
  pending = $state<PendingVideo[]>([]);
  /** The removal the confirm dialog asks about. */
  removing = $state<{ id: number; name: string; clips: number } | null>(null);
  /** Videos removed in the list whose removal is still waiting out its undo period. */
  hidden = $state<Set<number>>(new Set());
  private timers = new Map<number, ReturnType<typeof setTimeout>>();

  async add(paths: string[]): Promise<void> {
    const names = paths.map((p) => p.split(/[\\/]/).pop() ?? p);
    this.pending = [...this.pending, ...names.map((name) => ({ name, progress: null, error: null }))];
    try {
      const results = await api.call('videos.add', { paths });
      this.pending = this.pending.filter((p) => !names.includes(p.name));
      const added = results.flatMap((r) => (r.ok ? [r.video] : []));
      const failed = results.flatMap((r) => (r.ok ? [] : [`${r.path}: ${r.error.message}`]));
      if (failed.length) wb.fail(new Error(failed.join(' · ')));
      else wb.say(`Added ${added.length} video${added.length === 1 ? '' : 's'}.`);
      await project.loadVideos();
      if (added.length) await project.openVideo(added[0].id);
    } catch (err) {
      this.pending = this.pending.filter((p) => !names.includes(p.name));
      wb.fail(err);
    }
  }

  /** Follows `videos.probeProgress`: files before `done` are probed, the next one is under way. */
  listen(): () => void {
    return api.on('videos.probeProgress', ({ path }) => {
      const name = path.split(/[\\/]/).pop() ?? path;
      this.pending = this.pending.map((p) => (p.name === name ? { ...p, progress: 1 } : p));
    });
  }

  async relink(id: number, path: string): Promise<void> {
    try {
      await api.call('videos.relink', { id, path });
      await project.loadVideos();
      wb.say('Video relinked.');
    } catch (err) {
      wb.fail(err);
    }
  }

  /** Asks first (the app's dialog), saying how many clips go with the video. */
  async remove(id: number): Promise<void> {
    const v = project.videos.find((x) => x.id === id);
    const clips = await api.call('clips.list', { videoId: id }).then((c) => c.length, () => 0);
    this.removing = { id, name: v?.name ?? `video ${id}`, clips };
  }

  /**
   * The video leaves the list at once and the project after a few seconds, while the status bar offers Undo;
   * closing the app meanwhile keeps it.
   */
  confirmRemove(): void {
    const target = this.removing;
    this.removing = null;
    if (!target) return;
    this.hidden = new Set([...this.hidden, target.id]);
    if (project.videoId === target.id) project.videoId = null;
    this.timers.set(target.id, setTimeout(() => void this.commitRemove(target.id), REMOVE_UNDO_MS));
    wb.offer(`Removed ${target.name}${target.clips ? ` and its ${target.clips} clip${target.clips === 1 ? '' : 's'}` : ''}.`, 'Undo', () => this.undoRemove(target.id), REMOVE_UNDO_MS);
  }

  undoRemove(id: number): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    this.hidden = new Set([...this.hidden].filter((h) => h !== id));
    wb.say(`Kept ${project.videos.find((v) => v.id === id)?.name ?? 'the video'}.`);
  }

  private async commitRemove(id: number): Promise<void> {
    this.timers.delete(id);
    try {
      await api.call('videos.remove', { id });
      await project.loadVideos();
    } catch (err) {
      wb.fail(err);
    } finally {
      this.hidden = new Set([...this.hidden].filter((h) => h !== id));
    }
  }
}

export const videoImport = new VideoImport();
