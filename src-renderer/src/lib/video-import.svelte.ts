import { api } from './api.ts';
import { wb } from './workbench.svelte.ts';
import { project } from './project.svelte.ts';

export interface PendingVideo {
  name: string;
  progress: number | null;
  error: string | null;
}

/** Adding, relinking and removing videos, with per-file progress while the core probes them. */
class VideoImport {
  pending = $state<PendingVideo[]>([]);

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

  async remove(id: number): Promise<void> {
    const v = project.videos.find((x) => x.id === id);
    if (!confirm(`Remove ${v?.name ?? 'this video'} and its clips from the project? The file on disk is kept.`)) return;
    try {
      await api.call('videos.remove', { id });
      if (project.videoId === id) project.videoId = null;
      await project.loadVideos();
    } catch (err) {
      wb.fail(err);
    }
  }
}

export const videoImport = new VideoImport();
