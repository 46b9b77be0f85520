import { api } from './api.ts';
import { wb } from './workbench.svelte.ts';
import { Playback } from './playback.svelte.ts';
import type { ClassRecord, ClipRecord, HistoryState, ProjectChanged } from '../../../src-main/api/contract/project.ts';
import type { VideoListItem } from '../../../src-main/api/contract/media.ts';
import type { Lane } from './timeline-types.ts';
import type { Params } from '../../../src-main/api/contract.ts';
import { CLIPS_PAGE } from '../../../src-main/api/contract/paging.ts';

/** Clips matching `query`, page by page (the host answers other requests between pages), at most `cap`. */
async function listClips(query: Omit<Params<'clips.list'>, 'limit' | 'offset'>, cap = Infinity): Promise<ClipRecord[]> {
  const clips: ClipRecord[] = [];
  for (;;) {
    const page = await api.call('clips.list', { ...query, limit: Math.min(CLIPS_PAGE, cap - clips.length), offset: clips.length });
    for (const clip of page) clips.push(clip);
    if (page.length < CLIPS_PAGE || clips.length >= cap) return clips;
  }
}

/**
 * The open project as the Label view sees it: videos, classes, the clips of the current video, the
 * labeling state (class, in/out, selection) and the history. Every edit goes to the core at once.
 */
export class ProjectState {
  videos = $state<VideoListItem[]>([]);
  classes = $state<ClassRecord[]>([]);
  /** Clips of the current video; raw so the timeline can draw 10k of them without proxies. */
  clips = $state.raw<ClipRecord[]>([]);
  history = $state<HistoryState | null>(null);

  videoId = $state<number | null>(null);
  /** Frame timestamps of the current video (seconds). */
  pts = $state.raw<Float64Array>(new Float64Array(0));
  activeClassId = $state<number | null>(null);
  /** The subject new clips get (picked with a subject lane); null: none. */
  activeSubject = $state<string | null>(null);
  selectedClipId = $state<number | null>(null);
  inFrame = $state<number | null>(null);
  outFrame = $state<number | null>(null);

  readonly playback = new Playback();

  readonly video = $derived(this.videos.find((v) => v.id === this.videoId) ?? null);
  readonly activeClasses = $derived(this.classes.filter((c) => !c.archived));
  readonly selectedClip = $derived(this.clips.find((c) => c.id === this.selectedClipId) ?? null);
  /** Subjects named by the current video's clips, sorted; lanes split by subject when there are several. */
  readonly subjects = $derived([...new Set(this.clips.map((c) => c.subject).filter((s): s is string => s !== null))].sort());
  readonly lanes: Lane[] = $derived.by(() => {
    const split = this.subjects.length > 1 || (this.subjects.length === 1 && this.clips.some((c) => c.subject === null));
    const rows: Array<string | null> = split ? [...this.subjects, ...(this.clips.some((c) => c.subject === null) ? [null] : [])] : [null];
    const byLane = new Map<string, ClipRecord[]>();
    const keyOf = (classId: number, subject: string | null) => (split ? `${classId}:${subject ?? ''}` : String(classId));
    for (const c of this.clips) {
      const key = keyOf(c.classId, c.subject);
      const list = byLane.get(key) ?? [];
      list.push(c);
      byLane.set(key, list);
    }
    return this.activeClasses.flatMap((cls, i) =>
      rows.map((subject, row) => ({
        key: keyOf(cls.id, subject),
        classId: cls.id,
        subject: split ? subject : null,
        name: split ? `${cls.name} · ${subject ?? 'no subject'}` : cls.name,
        color: cls.color,
        // The class's key sits on its first lane only.
        hotkey: row === 0 ? (cls.hotkey ?? (i < 9 ? String(i + 1) : null)) : '',
        clips: (byLane.get(keyOf(cls.id, subject)) ?? []).map((c) => ({ id: c.id, startFrame: c.startFrame, endFrame: c.endFrame })).sort((a, b) => a.startFrame - b.startFrame),
      })),
    );
  });

  async start(): Promise<void> {
    api.on('project.changed', (e) => void this.onChanged(e));
    // Filmstrips and proxies finish in the background; refresh the list when one does.
    api.on('videos.mediaProgress', (e) => {
      if (e.state === 'done' || e.state === 'failed') void this.loadVideos();
    });
    await Promise.all([this.loadVideos(), this.loadClasses(), this.loadHistory()]);
    if (this.videoId === null && this.videos.length) await this.openVideo(this.videos[0].id);
  }

  private async onChanged(e: ProjectChanged): Promise<void> {
    // Clip edits change the classes' clip counts too.
    if (e.what === 'classes' || e.what === 'history' || e.what === 'clips') await this.loadClasses();
    if (e.what === 'clips' || e.what === 'history' || e.what === 'classes') {
      await this.loadClips();
      if (this.allClips) await this.loadAllClips();
    }
    if (e.what === 'videos') await this.loadVideos();
    await this.loadHistory();
  }

  async loadVideos(): Promise<void> {
    this.videos = await guard(api.call('videos.list', {}), this.videos);
    if (this.videoId === null && this.videos.length) await this.openVideo(this.videos[0].id);
  }

  async loadClasses(): Promise<void> {
    this.classes = await guard(api.call('classes.list', { includeArchived: true }), this.classes);
    if (this.activeClassId !== null && !this.activeClasses.some((c) => c.id === this.activeClassId)) this.activeClassId = null;
  }

  async loadClips(): Promise<void> {
    const id = this.videoId;
    if (id === null) {
      this.clips = [];
      return;
    }
    const clips = await guard(listClips({ videoId: id }), this.clips);
    if (id === this.videoId) this.clips = clips;
  }

  async loadHistory(): Promise<void> {
    this.history = await guard(api.call('history.state', {}), this.history);
  }

  async openVideo(id: number): Promise<void> {
    this.videoId = id;
    // The old video's frame times must not stand for the new one while its own load (the player would
    // attach the new file to them and spend a pending jump there).
    this.pts = new Float64Array(0);
    this.selectedClipId = null;
    this.inFrame = null;
    this.outFrame = null;
    const info = await guard(api.call('videos.frameInfo', { id }), null);
    if (this.videoId !== id) return;
    this.pts = info ? Float64Array.from(info.framePts) : new Float64Array(0);
    await this.loadClips();
  }

  /** Number keys pick the n-th active class; letters pick the class with that hotkey. */
  pickClassByKey(key: string): boolean {
    const k = key.toLowerCase();
    const byHotkey = this.activeClasses.find((c) => c.hotkey?.toLowerCase() === k);
    const byNumber = /^[1-9]$/.test(k) ? this.activeClasses[Number(k) - 1] : undefined;
    const cls = byHotkey ?? byNumber;
    if (!cls) return false;
    this.pickClass(cls.id);
    return true;
  }

  pickClass(id: number): void {
    this.activeClassId = id;
    // With a clip selected, picking a class relabels it (the one-key relabel of the review flow too).
    const clip = this.selectedClip;
    if (clip && clip.classId !== id) void this.edit(api.call('clips.update', { id: clip.id, classId: id }));
  }

  markIn(): void {
    this.inFrame = this.playback.frame;
    if (this.outFrame !== null && this.outFrame < this.inFrame) this.outFrame = null;
  }

  markOut(): void {
    this.outFrame = this.playback.frame;
    if (this.inFrame !== null && this.inFrame > this.outFrame) this.inFrame = null;
  }

  /** Enter: a clip of the active class from In to Out (both frames included; Out defaults to the playhead). */
  async createClip(): Promise<void> {
    if (this.videoId === null) return wb.fail(new Error('Add a video first.'));
    if (this.activeClassId === null) return wb.fail(new Error('Pick a class first (number keys 1–9 or the class hotkey).'));
    if (this.inFrame === null) return wb.fail(new Error('Set the In point with I first.'));
    const out = this.outFrame ?? this.playback.frame;
    const start = Math.min(this.inFrame, out);
    const end = Math.max(this.inFrame, out) + 1;
    const clip = await this.edit(
      api.call('clips.create', { videoId: this.videoId, classId: this.activeClassId, startFrame: start, endFrame: end, subject: this.activeSubject }),
    );
    if (clip) {
      // Not selected: the next number key picks the class of the next clip instead of relabelling this one.
      this.selectedClipId = null;
      this.inFrame = null;
      this.outFrame = null;
      wb.say(`Clip ${this.classes.find((c) => c.id === clip.classId)?.name ?? ''} ${clip.startFrame}–${clip.endFrame - 1} saved.`);
    }
  }

  /** Picking a lane picks its class and, on a subject lane, the subject of the next clips. */
  pickLane(classId: number, subject: string | null): void {
    this.activeClassId = classId;
    this.activeSubject = subject;
  }

  async setSubject(id: number, subject: string): Promise<void> {
    await this.edit(api.call('clips.update', { id, subject: subject.trim() === '' ? null : subject.trim() }));
  }

  async resizeClip(id: number, startFrame: number, endFrame: number): Promise<void> {
    await this.edit(api.call('clips.update', { id, startFrame, endFrame }));
  }

  async deleteClips(ids: number[]): Promise<void> {
    if (!ids.length) return;
    if (await this.edit(api.call('clips.delete', { ids }))) {
      if (this.selectedClipId !== null && ids.includes(this.selectedClipId)) this.selectedClipId = null;
    }
  }

  async undo(): Promise<void> {
    const step = await this.edit(api.call('history.undo', {}));
    if (step) wb.say(step.label ? `Undid: ${step.label}` : 'Nothing to undo.');
  }

  async redo(): Promise<void> {
    const step = await this.edit(api.call('history.redo', {}));
    if (step) wb.say(step.label ? `Redid: ${step.label}` : 'Nothing to redo.');
  }

  async addClass(name: string): Promise<boolean> {
    const cls = await this.edit(api.call('classes.add', { name }));
    if (!cls) return false;
    await this.loadClasses();
    if (this.activeClassId === null) this.activeClassId = cls.id;
    return true;
  }

  /** Clips of every video, for the Clips panel's "All videos" scope (loaded when asked for). */
  allClips = $state.raw<ClipRecord[] | null>(null);

  async loadAllClips(): Promise<void> {
    this.allClips = await guard(listClips({}, 20_000), this.allClips);
  }

  /** Selects a clip and puts the playhead on its first frame, opening its video first when needed. */
  async jumpTo(clip: ClipRecord): Promise<void> {
    this.playback.pause();
    if (clip.videoId !== this.videoId) {
      this.playback.startAt = clip.startFrame;
      await this.openVideo(clip.videoId);
    } else {
      this.playback.seek(clip.startFrame);
    }
    this.selectedClipId = clip.id;
  }

  /** Runs an edit; the core's `project.changed` event refreshes the lists. Errors go to the status bar. */
  async edit<T>(call: Promise<T>): Promise<T | null> {
    try {
      const result = await call;
      await Promise.all([this.loadClips(), this.loadHistory()]);
      return result;
    } catch (err) {
      wb.fail(err);
      return null;
    }
  }
}

async function guard<T, F>(call: Promise<T>, fallback: F): Promise<T | F> {
  try {
    return await call;
  } catch (err) {
    wb.fail(err);
    return fallback;
  }
}

export const project = new ProjectState();
