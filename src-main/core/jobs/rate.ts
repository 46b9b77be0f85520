/** Rate and ETA of a phase, smoothed so one slow step does not swing the estimate (DeepEthogram once said 299 h). */
export class RateMeter {
  private phase = '';
  private startedAt = 0;
  private startDone = 0;
  private smoothed: number | null = null;
  private lastAt = 0;
  private lastDone = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Feeds a report; returns units per second and the seconds left, or nulls while not yet measurable. */
  update(phase: string, done: number, total: number): { rate: number | null; etaSeconds: number | null } {
    const t = this.now();
    if (phase !== this.phase || done < this.lastDone) {
      this.phase = phase;
      this.startedAt = this.lastAt = t;
      this.startDone = this.lastDone = done;
      this.smoothed = null;
      return { rate: null, etaSeconds: null };
    }
    const dt = (t - this.lastAt) / 1000;
    if (done > this.lastDone && dt > 0) {
      const instant = (done - this.lastDone) / dt;
      const overall = (done - this.startDone) / ((t - this.startedAt) / 1000);
      // Blend the phase average with the latest step: steady, yet follows a real change of speed.
      this.smoothed = this.smoothed === null ? overall : 0.7 * this.smoothed + 0.3 * instant;
      this.lastAt = t;
      this.lastDone = done;
    }
    const rate = this.smoothed;
    return { rate, etaSeconds: rate && rate > 0 ? Math.max(0, (total - done) / rate) : null };
  }
}
