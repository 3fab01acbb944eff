import type { Frame } from './frame';
import type { Track } from './track';

/**
 * A per-stream output built once per frame and shared by its consumers (hub rule 9): FLV tags,
 * RTMP chunks, WebSocket frames, and the ones recording and relays add. The stream creates the
 * value on the first `info.feed(key)` and closes it (`close(value)`, else `value.close()`) when
 * its last consumer leaves or the stream ends. Keys are compared by identity: define one const
 * per feed (and variant) next to the value's class.
 */
export interface FeedKey<T> {
  readonly name: string;
  create(path: string): T;
  close?(value: T): void;
}

/** What a sink learns when its stream is ready (track gate passed). */
export interface StreamInfo {
  /** `app/stream` */
  readonly path: string;
  /**
   * Ready tracks only (tracks that never became ready were dropped by the track gate), and of
   * those only the ones this subscription selected.
   */
  readonly tracks: readonly Track[];
  /** The stream's shared feed for `key`, leased to this sink until it ends. */
  feed<T>(key: FeedKey<T>): T;
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
  /** The GOP cache replayed after onStart is over: the frames that follow are live (a shared feed that starts its consumers at different points waits for this). */
  onCacheReplayed?(): void;
  /** The stream ended or the hub closed this sink (lagging, kicked). Release the connection. */
  onEnd(reason: string): void;
  /** Bytes queued towards the peer and not yet sent: the hub's backpressure signal. */
  pendingBytes(): number;
  describe(): SinkDescription;
}

/** Which tracks a subscription wants (hub rule 10): a TS feed leaves G.711 out, an audio feed video. */
export type TrackSelector = (track: Track) => boolean;
