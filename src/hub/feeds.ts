import { errorMessage } from '../core/errors';
import type { Logger } from '../core/log';
import type { FeedKey } from '../core/sink';

interface Entry {
  readonly value: unknown;
  readonly consumers: Set<object>;
}

/**
 * The typed feeds of one stream (hub rule 9): created on the first lease, closed when the last
 * consumer holding it leaves, or with the stream.
 */
export class StreamFeeds {
  private readonly entries = new Map<FeedKey<unknown>, Entry>();

  constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value of `key`, leased to `consumer` until `releaseAll(consumer)`. */
  lease<T>(key: FeedKey<T>, consumer: object): T {
    let entry = this.entries.get(key as FeedKey<unknown>);
    if (!entry) {
      entry = { value: key.create(this.path), consumers: new Set() };
      this.entries.set(key as FeedKey<unknown>, entry);
    }
    entry.consumers.add(consumer);
    return entry.value as T;
  }

  /** Returns every lease `consumer` holds; feeds left without a consumer are closed. */
  releaseAll(consumer: object): void {
    for (const [key, entry] of this.entries) {
      if (!entry.consumers.delete(consumer) || entry.consumers.size > 0) continue;
      this.entries.delete(key);
      this.closeValue(key, entry.value);
    }
  }

  /** Closes every feed (the stream ended). */
  closeAll(): void {
    for (const [key, entry] of [...this.entries]) this.closeValue(key, entry.value);
    this.entries.clear();
  }

  private closeValue(key: FeedKey<unknown>, value: unknown): void {
    try {
      if (key.close) key.close(value);
      else (value as { close?: () => void } | null)?.close?.();
    } catch (err) {
      this.log.warn({ feed: key.name, err: errorMessage(err) }, 'feed failed while closing');
    }
  }
}
