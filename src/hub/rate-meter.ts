/** Buckets per window: the rate covers the last full window, in steps of window / BUCKETS. */
const BUCKETS = 4;

/**
 * A bit rate over the last `windowMs`, from bytes added as they flow (`add`). Reading it
 * (`kbps`) changes nothing: any number of readers, at any cadence, get the same answer. No
 * timers: buckets older than the window are dropped lazily by `add`.
 */
export class RateMeter {
  private readonly stepMs: number;
  private readonly buckets = new Array<number>(BUCKETS + 1).fill(0);
  /** Index (time / stepMs) of the newest bucket written. */
  private newest = -1;

  constructor(private readonly windowMs = 1000) {
    this.stepMs = windowMs / BUCKETS;
  }

  add(bytes: number, now = performance.now()): void {
    const index = Math.floor(now / this.stepMs);
    if (index > this.newest) {
      for (let i = Math.max(this.newest + 1, index - BUCKETS); i <= index; i++) this.buckets[i % (BUCKETS + 1)] = 0;
      this.newest = index;
    }
    if (index > this.newest - BUCKETS - 1) this.buckets[index % (BUCKETS + 1)]! += bytes;
  }

  /** kbit/s over the last full window (the bucket being filled is left out). */
  kbps(now = performance.now()): number {
    const current = Math.floor(now / this.stepMs);
    let bytes = 0;
    for (let i = current - BUCKETS; i < current; i++) {
      if (i > this.newest || i < this.newest - BUCKETS) continue;
      bytes += this.buckets[((i % (BUCKETS + 1)) + BUCKETS + 1) % (BUCKETS + 1)]!;
    }
    return Math.round((bytes * 8) / this.windowMs);
  }

  /**
   * For a byte counter that is only known when read (a pull's socket total): adds what grew
   * since the last call, then reads. Readers share one baseline, so the answer does not depend
   * on how many read.
   */
  sample(totalBytes: number, now = performance.now()): number {
    if (this.lastTotal !== undefined && totalBytes > this.lastTotal) this.add(totalBytes - this.lastTotal, now);
    this.lastTotal = totalBytes;
    return this.kbps(now);
  }

  private lastTotal: number | undefined;
}
