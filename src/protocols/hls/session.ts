import type { Logger } from '../../core/log';
import type { Sink, SinkDescription } from '../../core/sink';
import type { Registry, Subscription } from '../../hub/registry';

/** Session ids we hand out and accept back (a client may resume with an expired one). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * The hub reader of one HLS viewer: it ignores frames (the bytes come from the stream's HLS
 * muxer) and exists so that the hub counts the viewer (`hls` in readers.byProtocol), which keeps
 * on-demand sources up while someone watches over HLS (hub rule 7).
 */
class HlsReaderSink implements Sink {
  constructor(
    private readonly session: HlsSession,
    private readonly onEnded: () => void,
  ) {}

  onStart(): void {}
  onTracks(): void {}
  onFrame(): void {}

  onEnd(): void {
    this.onEnded();
  }

  pendingBytes(): number {
    return 0;
  }

  describe(): SinkDescription {
    return { protocol: 'hls', remote: this.session.remote, bytesOut: this.session.bytesOut };
  }
}

/**
 * One HLS viewer, known by the session id in its playlist and segment URLs and alive until
 * `closeAfter` passed without a request from it. While alive it holds a hub subscription; if the
 * stream ends (or is not there yet) the next request subscribes again.
 */
export class HlsSession {
  lastSeen: number;
  /** Requests being answered (a waiting first playlist): the session does not expire meanwhile. */
  inFlight = 0;
  bytesOut = 0;
  remote: string;
  private subscription: Subscription | undefined;
  private subscribing = false;
  private closed = false;

  constructor(
    readonly id: string,
    readonly path: string,
    remote: string,
    now: number,
    private readonly registry: Registry,
    private readonly log: Logger,
  ) {
    this.remote = remote;
    this.lastSeen = now;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A request of this viewer: keeps it alive and makes sure the hub counts it. */
  touch(now: number, remote: string): void {
    this.lastSeen = now;
    this.remote = remote;
    this.ensureReader();
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.subscription?.close(reason);
    this.subscription = undefined;
    this.log.debug({ session: this.id, path: this.path, reason, bytesOut: this.bytesOut }, 'hls session closed');
  }

  private ensureReader(): void {
    if (this.closed || this.subscription || this.subscribing) return;
    this.subscribing = true;
    const sink = new HlsReaderSink(this, () => {
      this.subscription = undefined;
    });
    this.registry.subscribe(this.path, sink).then(
      (subscription) => {
        this.subscribing = false;
        if (this.closed) subscription.close('hls session closed');
        else this.subscription = subscription;
      },
      () => {
        this.subscribing = false; // the muxer reports why; the next request tries again
      },
    );
  }
}
