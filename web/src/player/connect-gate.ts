/**
 * Chromium holds a page's next WebSocket back by rand(1-5 s) x 2^pending / 65536, `pending`
 * being its sockets whose handshake has not completed (network::WebSocketPerProcessThrottler):
 * a 4x4 wall that opened its 16 tiles at once kept the last two waiting 0.4-0.9 s more. Tiles
 * take turns here instead: at most `limit` open at a time, each until its first bytes came or
 * `holdMs` passed (an on-demand source may take seconds to send anything; its handshake is done).
 */
export class ConnectGate {
  private opening = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly holdMs: number,
  ) {}

  /** Resolves when this connection may open; call the release (once or more) when its first bytes came. */
  take(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = (): void => {
        this.opening += 1;
        let held = true;
        const release = (): void => {
          if (!held) return;
          held = false;
          clearTimeout(timer);
          this.opening -= 1;
          this.queue.shift()?.();
        };
        const timer = setTimeout(release, this.holdMs);
        resolve(release);
      };
      if (this.opening < this.limit) grant();
      else this.queue.push(grant);
    });
  }
}

/** One per page, as Chromium's throttle is one per renderer process. 2^6 / 65536 of 5 s is 5 ms at most. */
export const tileConnects = new ConnectGate(6, 150);
