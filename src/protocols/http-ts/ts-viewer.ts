import type { Sink, SinkDescription } from '../../core/sink';
import type { TsChunk, TsConsumer } from '../../formats/mpegts/ts-feed';

/**
 * A TS viewer's own hub subscription. The TS bytes come from the stream's shared feed; this
 * sink ignores frames and exists so that the hub counts the viewer as a reader (`http-ts`,
 * `ws-ts`), sees its socket backlog (closing it when it lags too long, hub rule 4) and tells it
 * when the stream ends.
 */
export class TsViewerSink implements Sink {
  constructor(
    private readonly protocol: 'http-ts' | 'ws-ts',
    private readonly remote: string,
    private readonly backlog: () => number,
    private readonly bytesOut: () => number,
    private readonly onClosed: (reason: string) => void,
  ) {}

  onStart(): void {}
  onTracks(): void {}
  onFrame(): void {}

  onEnd(reason: string): void {
    this.onClosed(reason);
  }

  pendingBytes(): number {
    return this.backlog();
  }

  describe(): SinkDescription {
    return { protocol: this.protocol, remote: this.remote, bytesOut: this.bytesOut() };
  }
}

/**
 * Writes a stream's TS chunks to one viewer. Chunks that arrive before `open()` (the feed's
 * cache, replayed on attach) wait for it. While the viewer's backlog is over `maxPendingBytes`
 * chunks are dropped until the next random access point finds it drained: the same rule the hub
 * applies to FLV viewers, so a slow viewer never grows memory or slows anyone else.
 */
export class TsViewerWriter implements TsConsumer {
  private write: ((data: Buffer) => void) | undefined;
  private held: Buffer[] = [];
  private skipping = false;
  private bytes = 0;
  private dropped = 0;

  constructor(
    private readonly backlog: () => number,
    private readonly maxPendingBytes: number,
    private readonly onEnded: (reason: string) => void,
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
      return;
    }
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
