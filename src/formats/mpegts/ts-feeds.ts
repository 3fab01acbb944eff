import { GatewayError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Sink, TrackSelector } from '../../core/sink';
import { TsFeed, type TsConsumer, type TsFeedOptions } from './ts-feed';

/** What the feeds need from the hub: `Registry.subscribe` fits (formats may not import the hub). */
export interface TsFeedHub {
  subscribe(path: string, sink: Sink, options: { signal?: AbortSignal; counted?: boolean; tracks?: TrackSelector; historyMs?: number }): Promise<{ close(reason?: string): void }>;
}

/** The codecs this TS carries: G.711 has no MPEG-TS stream type players agree on, so a TS feed never sees it. */
export const carriedInTs: TrackSelector = (track) => track.codec === 'h264' || track.codec === 'h265' || track.codec === 'aac';

export interface TsAttachment {
  readonly feed: TsFeed;
  /** Stops the chunks to this consumer; the last one leaving closes the feed. Idempotent. */
  detach(): void;
}

interface FeedEntry {
  readonly feed: TsFeed;
  readonly started: Promise<void>;
  readonly abort: AbortController;
  subscription?: { close(reason?: string): void };
  released: boolean;
}

/**
 * The TS feeds of every stream: a feed (one hub subscription, one muxer) is created with its
 * first consumer and closed with its last (hub rule 9). HTTP-TS viewers, HLS muxers and the
 * recorder all attach here. The feed's hub subscription is not counted as a reader: each
 * consumer that is a reader (a viewer, an HLS session) holds a `registry.reader` handle.
 */
export class TsFeeds {
  private readonly feeds = new Map<string, FeedEntry>();

  constructor(
    private readonly hub: TsFeedHub,
    private readonly log: Logger,
    private readonly options: TsFeedOptions = {},
  ) {}

  /** The running feed of `path`, if any. */
  get(path: string): TsFeed | undefined {
    return this.feeds.get(path)?.feed;
  }

  get size(): number {
    return this.feeds.size;
  }

  /**
   * Attaches `consumer` to the feed of `path`, creating it (and its hub subscription) if needed.
   * Resolves once the feed started; rejects like `Registry.subscribe` (STREAM_NOT_FOUND,
   * SOURCE_START_*) or UNSUPPORTED_CODEC, in which case the consumer got nothing. `burstMs`: the
   * consumer starts that far back (a TS viewer's burst), within the feeds' `historyMs`.
   */
  async attach(path: string, consumer: TsConsumer, options: { signal?: AbortSignal; burstMs?: number } = {}): Promise<TsAttachment> {
    let entry = this.feeds.get(path);
    if (!entry || entry.feed.ended) entry = this.create(path);
    const current = entry;
    let attached = true;
    const detach = (): void => {
      if (!attached) return;
      attached = false;
      options.signal?.removeEventListener('abort', detach);
      if (current.feed.remove(consumer) === 0) this.release(current, 'no TS consumer left');
    };
    current.feed.add(consumer, Math.min(options.burstMs ?? 0, this.options.historyMs ?? 0));
    options.signal?.addEventListener('abort', detach, { once: true });
    if (options.signal?.aborted) detach();
    try {
      await current.started;
    } catch (err) {
      detach();
      throw current.feed.failure ?? err;
    }
    if (!attached) throw new GatewayError('CLOSED', 'the TS consumer left before the stream started');
    if (current.feed.ended) {
      detach();
      throw new GatewayError('CLOSED', `stream ${path} ended`);
    }
    return { feed: current.feed, detach };
  }

  /** Closes every feed (their consumers get onEnd). */
  close(reason = 'shutting down'): void {
    for (const entry of [...this.feeds.values()]) {
      this.release(entry, reason);
      entry.feed.onEnd(reason);
    }
  }

  private create(path: string): FeedEntry {
    const abort = new AbortController();
    const feed = new TsFeed(path, this.log.child({ stream: path, component: 'ts-feed' }), this.options, (ended) => {
      if (this.feeds.get(path)?.feed === ended) this.feeds.delete(path);
    });
    const entry: FeedEntry = {
      feed,
      abort,
      released: false,
      // Uncounted: the feed's consumers hold their own reader handles (hub rule 10).
      // The hub replays as far back as the longest burst, so the first viewer can have one too.
      started: this.hub.subscribe(path, feed, { signal: abort.signal, counted: false, tracks: carriedInTs, historyMs: this.options.historyMs ?? 0 }).then(
        (subscription) => {
          entry.subscription = subscription;
          if (entry.released) subscription.close('no TS consumer left');
        },
        (err: unknown) => {
          if (this.feeds.get(path) === entry) this.feeds.delete(path);
          throw err;
        },
      ),
    };
    entry.started.catch(() => undefined); // awaited by attach(); never unhandled
    this.feeds.set(path, entry);
    return entry;
  }

  private release(entry: FeedEntry, reason: string): void {
    if (entry.released) return;
    entry.released = true;
    if (this.feeds.get(entry.feed.path) === entry) this.feeds.delete(entry.feed.path);
    entry.abort.abort();
    entry.subscription?.close(reason);
  }
}
