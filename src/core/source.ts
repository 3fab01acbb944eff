import type { Frame } from './frame';
import type { Track } from './track';

/** The kind of a publisher that is an internal pull between two workers of one gateway (app/cluster). */
export const INTERNAL_PULL_KIND = 'cluster';

/** Where a stream's jobs run when the gateway has several worker processes (app/cluster). */
export interface JobPlacement {
  /** This process runs the path's always-on proxy, keepSource push and record plans. */
  runsHere(path: string): boolean;
  /** Paths with a publisher in any process. */
  livePaths(): string[];
}

/** Who feeds a stream, as shown by the API. */
export interface SourceDescription {
  /** rtmp, gb28181, rtsp, rtp, test ... */
  readonly kind: string;
  /** Peer address or URL of the source. */
  readonly remote?: string;
}

/** The handle a stream keeps of its source, so that the API can kick it. */
export interface Source extends SourceDescription {
  /** Stop feeding: disconnect the publisher, tear down the pull. Idempotent. */
  close(reason: string): void;
}

/**
 * What `registry.publish(path, source)` returns: the only way frames enter the hub.
 * Frames written here must already be normalised (dts non-decreasing per track, 90 kHz).
 */
export interface Publisher {
  readonly path: string;
  /** Declare (or update) the tracks. Tracks not ready yet are awaited by the track gate. */
  setTracks(tracks: readonly Track[]): void;
  write(frame: Frame): void;
  /** The source is gone. Viewers stay for the reconnect grace period. Idempotent. */
  end(reason: string): void;
  /** The dts the next frame should continue from (after a reconnect), in 90 kHz ticks. */
  readonly resumeDts: number;
  /** Count bytes received by the source, for the API. */
  addBytesIn(bytes: number): void;
}
