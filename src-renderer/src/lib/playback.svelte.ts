import { frameAfterSeconds, frameAtTime, seekTimeOf, type FrameTimes } from './frames.ts';

/** Playback speeds J and L step through; K pauses. */
export const SPEEDS = [0.25, 0.5, 1, 2, 4, 8] as const;

/**
 * Frame-exact control of one <video>: the shown frame comes from the decoder's media time mapped onto
 * the video's frame timestamps. Reverse play steps frame by frame (browsers cannot play backwards).
 */
export class Playback {
  frame = $state(0);
  playing = $state(false);
  /** Signed speed: negative plays backwards. */
  speed = $state(1);
  /** Loop [from, to) backwards: the "play reversed" toggle for the current clip. */
  reversedLoop = $state<{ from: number; to: number } | null>(null);

  /** Where the next attached video starts (a jump to a clip of another video). */
  startAt: number | null = null;

  private video: HTMLVideoElement | null = null;
  private pts: FrameTimes = [];
  private duration = 0;
  private reverseTimer: ReturnType<typeof setTimeout> | null = null;
  private frameCallback: number | null = null;
  private pendingSeek: number | null = null;
  private seeking = false;

  get frameCount(): number {
    return this.pts.length;
  }

  attach(video: HTMLVideoElement | null, pts: FrameTimes, duration: number): void {
    this.detach();
    this.seeking = false;
    this.pendingSeek = null;
    this.video = video;
    this.pts = pts;
    this.duration = duration;
    this.frame = 0;
    if (!video) return;
    video.addEventListener('seeked', this.onSeeked);
    video.addEventListener('ended', this.onEnded);
    this.watchFrames();
    if (this.startAt !== null && pts.length) {
      this.seek(this.startAt);
      this.startAt = null;
    }
  }

  detach(): void {
    this.stop();
    const video = this.video;
    if (!video) return;
    video.removeEventListener('seeked', this.onSeeked);
    video.removeEventListener('ended', this.onEnded);
    if (this.frameCallback !== null) video.cancelVideoFrameCallback(this.frameCallback);
    this.frameCallback = null;
    this.video = null;
  }

  seek(frame: number): void {
    const f = Math.max(0, Math.min(this.pts.length - 1, Math.round(frame)));
    this.frame = f;
    if (!this.video) return;
    // Coalesce bursts (scrubbing, held arrow keys): one seek in flight, the latest target next.
    if (this.seeking) {
      this.pendingSeek = f;
      return;
    }
    this.seeking = true;
    this.video.currentTime = seekTimeOf(this.pts, f, this.duration);
  }

  step(frames: number): void {
    this.pause();
    this.seek(this.frame + frames);
  }

  stepSeconds(seconds: number): void {
    this.pause();
    this.seek(frameAfterSeconds(this.pts, this.frame, seconds));
  }

  togglePlay(): void {
    if (this.playing) this.pause();
    else this.play(this.speed === 0 ? 1 : this.speed);
  }

  /** J / L: start in that direction at 1×, or go one speed step faster if already going that way. */
  shuttle(direction: 1 | -1): void {
    const current = this.playing && Math.sign(this.speed) === direction ? Math.abs(this.speed) : 0;
    const next = current === 0 ? 1 : (SPEEDS.find((s) => s > current) ?? SPEEDS[SPEEDS.length - 1]);
    this.play(direction * next);
  }

  play(speed: number): void {
    this.stop();
    this.speed = speed;
    this.playing = true;
    if (!this.video) return;
    if (speed > 0) {
      this.video.playbackRate = speed;
      void this.video.play().catch(() => (this.playing = false));
    } else {
      this.video.pause();
      this.reverseTick();
    }
  }

  pause(): void {
    this.stop();
    this.video?.pause();
    this.playing = false;
    this.reversedLoop = null;
  }

  /** Play [from, to) backwards in a loop until paused. */
  playReversed(from: number, to: number): void {
    this.pause();
    this.reversedLoop = { from, to };
    this.seek(to - 1);
    this.play(-1);
    this.reversedLoop = { from, to };
  }

  private stop(): void {
    if (this.reverseTimer) clearTimeout(this.reverseTimer);
    this.reverseTimer = null;
  }

  private reverseTick = (): void => {
    const fps = this.averageFps();
    const interval = 1000 / (fps * Math.abs(this.speed));
    // Skip frames at high speeds so the wall-clock rate holds even when seeks are slower than the interval.
    const stride = Math.max(1, Math.round(Math.abs(this.speed) * fps / 30));
    let next = this.frame - stride;
    const loop = this.reversedLoop;
    if (loop && next < loop.from) next = loop.to - 1;
    if (!loop && next < 0) {
      this.seek(0);
      this.pause();
      return;
    }
    this.seek(next);
    this.reverseTimer = setTimeout(this.reverseTick, Math.max(interval * stride, 16));
  };

  private onEnded = (): void => {
    this.playing = false;
  };

  private onSeeked = (): void => {
    this.seeking = false;
    if (this.pendingSeek !== null && this.video) {
      const f = this.pendingSeek;
      this.pendingSeek = null;
      this.seeking = true;
      this.video.currentTime = seekTimeOf(this.pts, f, this.duration);
    }
  };

  /** While playing forwards, follow the frames the compositor actually presents. */
  private watchFrames(): void {
    const video = this.video;
    if (!video || !('requestVideoFrameCallback' in video)) return;
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
      if (this.video !== video) return;
      if (this.playing && this.speed > 0) this.frame = frameAtTime(this.pts, meta.mediaTime);
      this.frameCallback = video.requestVideoFrameCallback(onFrame);
    };
    this.frameCallback = video.requestVideoFrameCallback(onFrame);
  }

  private averageFps(): number {
    const n = this.pts.length;
    if (n < 2) return 30;
    const span = this.pts[n - 1] - this.pts[0];
    return span > 0 ? (n - 1) / span : 30;
  }
}
