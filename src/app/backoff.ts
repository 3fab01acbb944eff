/**
 * Reconnect backoff shared by pushes (src/app/relays) and pull proxies (src/app/rtsp-proxy):
 * the first retry waits minMs, each failure in a row doubles it up to maxMs, and a connection
 * that lasted maxMs or longer counts as healthy, so the next loss starts from minMs again.
 */
export interface BackoffSettings {
  readonly minMs: number;
  readonly maxMs: number;
}

export class Backoff {
  private failuresInARow = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly settings: BackoffSettings) {}

  /** The wait before the next attempt; each call counts one more failure in a row. */
  nextDelayMs(): number {
    const { minMs, maxMs } = this.settings;
    const delay = Math.min(maxMs, minMs * 2 ** Math.min(this.failuresInARow, 20));
    this.failuresInARow++;
    return delay;
  }

  /** Runs `attempt` after the next delay, replacing any attempt already waiting. Returns the delay. */
  schedule(attempt: () => void): number {
    const delay = this.nextDelayMs();
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      attempt();
    }, delay);
    return delay;
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A connection ended after `lastedMs` of service: one that held maxMs resets the doubling. */
  connectionEnded(lastedMs: number): void {
    if (lastedMs >= this.settings.maxMs) this.failuresInARow = 0;
  }
}
