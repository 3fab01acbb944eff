import type { SubscriberStats } from './subscriber';

export interface ReaderOptions {
  /** hls, http-ts, ws-ts, record, relay ... */
  readonly protocol: string;
  readonly remote?: string;
  /** Bytes sent to the peer so far (for the sessions API). */
  readonly bytesOut?: () => number;
  /** The hub closed the reader (closeSession, shutdown): release the peer. */
  readonly onClose?: (reason: string) => void;
}

/**
 * A reader handle (hub rule 10): counted for demand and in the stream's readers while open,
 * separate from frame delivery (its bytes come from a shared feed). Made by `registry.reader`.
 */
export class Reader {
  readonly since = Date.now();
  private open = true;

  constructor(
    readonly id: string,
    readonly path: string,
    private readonly options: ReaderOptions,
    private readonly onClosed: (reader: Reader, reason: string) => void,
  ) {}

  get protocol(): string {
    return this.options.protocol;
  }

  get remote(): string | undefined {
    return this.options.remote;
  }

  get isOpen(): boolean {
    return this.open;
  }

  get bytesOut(): number {
    try {
      return this.options.bytesOut?.() ?? 0;
    } catch {
      return 0;
    }
  }

  /** The reader leaves (its owner closes it). Idempotent. */
  close(reason = 'reader closed'): void {
    if (!this.open) return;
    this.open = false;
    this.onClosed(this, reason);
  }

  /** The hub ends it: its owner's `onClose` is told, then it is gone. Idempotent. */
  end(reason: string): void {
    if (!this.open) return;
    this.close(reason);
    try {
      this.options.onClose?.(reason);
    } catch {
      // the owner failed while closing: the reader is gone all the same
    }
  }

  stats(): SubscriberStats {
    return { id: this.id, protocol: this.protocol, remote: this.remote, since: this.since, bytesOut: this.bytesOut, framesOut: 0, framesDropped: 0, lagging: false };
  }
}
