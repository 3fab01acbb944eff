import { errorMessage } from '../core/errors';
import { shiftFrame, type Frame } from '../core/frame';
import type { Publisher, Source } from '../core/source';
import type { Track } from '../core/track';
import type { Registry } from '../hub/registry';

/**
 * Publishes into the hub only when the first frame or track arrives, so that a receiver that
 * never gets media leaves no empty stream behind (its viewers get the reason instead). Frames
 * are shifted to continue after a stream in its reconnect grace (a re-INVITE keeps the viewers
 * and their timeline).
 */
export class LazyPublisher {
  private publisher: Publisher | undefined;
  private offset = 0;
  failed: string | undefined;
  readonly resumeDts = 0;

  constructor(
    private readonly registry: Registry,
    private readonly path: string,
    private readonly source: Source,
    private readonly onFirst: () => void,
    private readonly onFail: (reason: string) => void,
  ) {}

  get published(): Publisher | undefined {
    return this.publisher;
  }

  setTracks(tracks: readonly Track[]): void {
    this.ensure()?.setTracks(tracks);
  }

  write(frame: Frame): void {
    this.ensure()?.write(this.offset ? shiftFrame(frame, frame.dts + this.offset, frame.pts + this.offset) : frame);
  }

  addBytesIn(bytes: number): void {
    this.ensure()?.addBytesIn(bytes);
  }

  end(reason: string): void {
    this.publisher?.end(reason);
  }

  private ensure(): Publisher | undefined {
    if (this.publisher || this.failed) return this.publisher;
    try {
      this.publisher = this.registry.publish(this.path, this.source);
    } catch (err) {
      this.failed = errorMessage(err);
      const reason = this.failed;
      setImmediate(() => this.onFail(reason));
      return undefined;
    }
    this.offset = this.publisher.resumeDts;
    this.onFirst();
    return this.publisher;
  }
}
