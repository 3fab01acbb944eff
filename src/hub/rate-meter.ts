/** Turns a growing byte counter into a bit rate, sampled when asked (no timers). */
export class RateMeter {
  private lastBytes = 0;
  private lastAt = performance.now();
  private kbps = 0;

  constructor(private readonly windowMs = 1000) {}

  sample(totalBytes: number, now = performance.now()): number {
    const elapsed = now - this.lastAt;
    if (elapsed >= this.windowMs) {
      this.kbps = Math.round(((totalBytes - this.lastBytes) * 8) / elapsed);
      this.lastBytes = totalBytes;
      this.lastAt = now;
    }
    return this.kbps;
  }
}
