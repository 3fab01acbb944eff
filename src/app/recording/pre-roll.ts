import { errorMessage } from '../../core/errors';
import type { Frame } from '../../core/frame';
import type { Logger } from '../../core/log';
import type { Sink, SinkDescription, StreamInfo } from '../../core/sink';
import type { Track } from '../../core/track';
import type { Registry } from '../../hub/registry';
import type { FrameSource } from './recorder';

interface Attached {
  readonly sink: Sink;
  started: boolean;
}

/**
 * The last `seconds` of one stream kept in memory (whole GOPs, bounded in bytes) for event
 * recordings of paths whose plan asks for `preRoll`. It is a hub reader itself; an event
 * recorder subscribes here and gets the kept frames from the keyframe at or before
 * `now - preSeconds`, then the live ones.
 */
export class PreRollBuffer implements Sink, FrameSource {
  private frames: Frame[] = [];
  private bytes = 0;
  private info: StreamInfo | undefined;
  private readonly attached = new Set<Attached>();
  private subscription: { close(reason?: string): void } | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    private readonly seconds: number,
    private readonly maxBytes: number,
    private readonly registry: Registry,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.closed) return;
    this.registry.subscribe(this.path, this).then(
      (sub) => (this.closed ? sub.close('pre-roll stopped') : (this.subscription = sub)),
      () => this.again(),
    );
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.subscription?.close('pre-roll stopped');
    this.frames = [];
    this.bytes = 0;
  }

  /** Seconds of media held now. */
  get heldSeconds(): number {
    const first = this.frames[0];
    const last = this.frames.at(-1);
    return first && last ? (last.dts - first.dts) / 90_000 : 0;
  }

  /** FrameSource for an event recorder: replays from `preSeconds` back, then goes live. */
  subscribeFrom(preSeconds: number): FrameSource {
    return { subscribe: (_path, sink) => this.attach(sink, preSeconds) };
  }

  subscribe(_path: string, sink: Sink): Promise<{ close(reason?: string): void }> {
    return this.attach(sink, this.seconds);
  }

  onStart(info: StreamInfo): void {
    this.info = info;
  }

  onTracks(tracks: readonly Track[]): void {
    if (this.info) this.info = { ...this.info, tracks };
    for (const a of this.attached) if (a.started) this.safe(a, () => a.sink.onTracks(tracks));
  }

  onFrame(frame: Frame): void {
    this.frames.push(frame);
    this.bytes += frame.byteLength;
    this.trim();
    for (const a of this.attached) if (a.started) this.safe(a, () => a.sink.onFrame(frame));
  }

  onEnd(reason: string): void {
    this.subscription = undefined;
    this.frames = [];
    this.bytes = 0;
    for (const a of [...this.attached]) this.safe(a, () => a.sink.onEnd(reason));
    this.attached.clear();
    this.again();
  }

  pendingBytes(): number {
    return 0;
  }

  describe(): SinkDescription {
    return { protocol: 'record', bytesOut: 0 };
  }

  private attach(sink: Sink, preSeconds: number): Promise<{ close(reason?: string): void }> {
    if (!this.info || !this.subscription) return Promise.reject(new Error(`no pre-roll of ${this.path} yet (the stream is not playing)`));
    const entry: Attached = { sink, started: false };
    this.attached.add(entry);
    this.safe(entry, () => {
      sink.onStart(this.info!);
      for (const frame of this.replayFrom(preSeconds)) sink.onFrame(frame);
    });
    entry.started = true;
    return Promise.resolve({ close: () => void this.attached.delete(entry) });
  }

  /** Frames from the last video keyframe at or before `newest - preSeconds` (or the oldest kept). */
  private replayFrom(preSeconds: number): Frame[] {
    const last = this.frames.at(-1);
    if (!last) return [];
    const limit = last.dts - preSeconds * 90_000;
    let start = 0;
    for (let i = 0; i < this.frames.length; i++) {
      const f = this.frames[i]!;
      if (f.dts > limit) break;
      if (f.keyframe && (f.codec === 'h264' || f.codec === 'h265')) start = i;
    }
    return this.frames.slice(start);
  }

  /** Drops whole GOPs from the front while the second keyframe is still old enough. */
  private trim(): void {
    const last = this.frames.at(-1)!;
    const keep = last.dts - this.seconds * 90_000;
    while (this.frames.length > 1) {
      const next = this.frames.findIndex((f, i) => i > 0 && f.keyframe && (f.codec === 'h264' || f.codec === 'h265'));
      const overBytes = this.bytes > this.maxBytes;
      if (next <= 0) {
        // No second keyframe (audio only, or one long GOP): drop single frames by age, and
        // everything at twice the byte cap, so memory stays bounded either way.
        const head = this.frames[0]!;
        if (this.bytes > 2 * this.maxBytes || ((head.codec === 'aac' || head.codec === 'g711a' || head.codec === 'g711u') && head.dts < keep)) {
          this.frames.shift();
          this.bytes -= head.byteLength;
          continue;
        }
        break;
      }
      if (!overBytes && this.frames[next]!.dts > keep) break;
      for (const f of this.frames.splice(0, next)) this.bytes -= f.byteLength;
    }
  }

  private again(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.start();
    }, 2000);
  }

  private safe(entry: Attached, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'pre-roll reader failed: detached');
      this.attached.delete(entry);
    }
  }
}
