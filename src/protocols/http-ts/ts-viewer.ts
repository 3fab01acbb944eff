import type { TsChunk, TsConsumer } from '../../formats/mpegts/ts-feed';

/**
 * Writes a stream's TS chunks to one viewer. Chunks that arrive before `open()` (the feed's
 * cache, replayed on attach) wait for it. While the viewer's backlog is over `maxPendingBytes`
 * chunks are dropped until the next random access point finds it drained: the same rule the hub
 * applies to FLV viewers, so a slow viewer never grows memory or slows anyone else; one that
 * stays behind longer than `maxLagMs` is ended (hub rule 4).
 */
export class TsViewerWriter implements TsConsumer {
  private write: ((data: Buffer) => void) | undefined;
  private held: Buffer[] = [];
  private skipping = false;
  private bytes = 0;
  private dropped = 0;
  private lagSince: number | undefined;

  constructor(
    private readonly backlog: () => number,
    private readonly maxPendingBytes: number,
    private readonly onEnded: (reason: string) => void,
    private readonly maxLagMs = Number.POSITIVE_INFINITY,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get bytesOut(): number {
    return this.bytes;
  }

  get chunksDropped(): number {
    return this.dropped;
  }

  /** Starts writing (after the response head): held chunks go first. */
  open(write: (data: Buffer) => void): void {
    this.write = write;
    const held = this.held;
    this.held = [];
    for (const data of held) this.send(data);
  }

  onChunk(chunk: TsChunk): void {
    if (!this.write) {
      this.held.push(chunk.data);
      return;
    }
    if (this.backlog() > this.maxPendingBytes) {
      this.skipping = true;
      this.dropped++;
      this.lagSince ??= this.now();
      if (this.now() - this.lagSince > this.maxLagMs) this.onEnded(`viewer too slow: lagging for more than ${this.maxLagMs} ms`);
      return;
    }
    this.lagSince = undefined;
    if (this.skipping && !chunk.randomAccess) {
      this.dropped++;
      return;
    }
    this.skipping = false;
    this.send(chunk.data);
  }

  onEnd(reason: string): void {
    this.held = [];
    this.onEnded(reason);
  }

  private send(data: Buffer): void {
    this.bytes += data.length;
    this.write!(data);
  }
}
