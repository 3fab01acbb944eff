import type { Logger } from '../../core/log';
import type { Reader } from '../../hub/reader';
import type { Registry } from '../../hub/registry';
import { ipOf } from '../shared/sockets';

/** Session ids we hand out and accept back (a client may resume with an expired one). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * One HLS viewer, known by the session id in its playlist and segment URLs and alive until
 * `closeAfter` passed without a request from it. While alive it is a hub reader (a reader
 * handle: counted for demand and as `hls` in readers.byProtocol, hub rules 7 and 10), whether
 * the stream is up or not; its bytes come from the stream's HLS muxer, never from the hub.
 */
export class HlsSession {
  lastSeen: number;
  /** Requests being answered (a waiting first playlist): the session does not expire meanwhile. */
  inFlight = 0;
  bytesOut = 0;
  remote: string;
  /** The client IP at creation: what `hls.maxSessionsPerClient` counts. */
  readonly client: string;
  private readonly reader: Reader;
  private closed = false;

  constructor(
    readonly id: string,
    readonly path: string,
    remote: string,
    now: number,
    registry: Registry,
    private readonly log: Logger,
  ) {
    this.remote = remote;
    this.client = ipOf(remote);
    this.lastSeen = now;
    this.reader = registry.reader(path, { protocol: 'hls', remote, bytesOut: () => this.bytesOut, onClose: (reason) => this.close(reason) });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A request of this viewer: keeps it alive. */
  touch(now: number, remote: string): void {
    this.lastSeen = now;
    this.remote = remote;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.close();
    this.log.debug({ session: this.id, path: this.path, reason, bytesOut: this.bytesOut }, 'hls session closed');
  }
}
