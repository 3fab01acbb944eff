import type { Frame } from './frame';
import type { Track } from './track';

/** What a sink learns when its stream is ready (track gate passed). */
export interface StreamInfo {
  /** `app/stream` */
  readonly path: string;
  /** Ready tracks only: tracks that never became ready were dropped by the track gate. */
  readonly tracks: readonly Track[];
}

export interface SinkDescription {
  /** Protocol of the viewer: rtmp, http-flv, ws-flv, http-ts, ws-ts, hls, record, relay, test. */
  readonly protocol: string;
  /** Peer address `ip:port`, when there is one. */
  readonly remote?: string;
  /** Bytes written to the viewer so far. */
  readonly bytesOut: number;
}

/**
 * A consumer of one stream (viewer, recorder, relay). The hub calls these synchronously, in
 * order: onStart once, then onFrame (starting with the GOP cache), onTracks when a track's
 * config changes mid-stream, onEnd once. An exception thrown by a sink closes that sink only.
 */
export interface Sink {
  onStart(info: StreamInfo): void;
  /** A track changed config (new SPS, new ASC): emit new sequence headers before the next frame. */
  onTracks(tracks: readonly Track[]): void;
  onFrame(frame: Frame): void;
  /** The stream ended or the hub closed this sink (lagging, kicked). Release the connection. */
  onEnd(reason: string): void;
  /** Bytes queued towards the peer and not yet sent: the hub's backpressure signal. */
  pendingBytes(): number;
  describe(): SinkDescription;
}
