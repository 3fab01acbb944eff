import type { Frame } from './frame';
import type { Track } from './track';

/** The kind of a publisher that is an internal pull between two workers of one gateway (app/cluster). */
export const INTERNAL_PULL_KIND = 'cluster';

/** Where a stream's jobs run when the gateway has several worker processes (app/cluster). */
export interface JobPlacement {
  /**
   * A path's job that runs in one process of the gateway (an always-on proxy, a keepSource
   * push): `start` is called when the job lands in this process and returns what stops it when
   * it moves to another. Returns the job's end here: the placement forgets it (the caller stops
   * what it started).
   */
  runJob(path: string, start: () => () => void): () => void;
  /** This process runs the path's record plans (the process owning its stream). */
  runsHere(path: string): boolean;
  /** Paths with a publisher in any process. */
  livePaths(): string[];
}

/** A job through `placement`, or (a single process) started here now. */
export function runJob(placement: Pick<JobPlacement, 'runJob'> | undefined, path: string, start: () => () => void): () => void {
  if (placement) return placement.runJob(path, start);
  start();
  return () => undefined;
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
