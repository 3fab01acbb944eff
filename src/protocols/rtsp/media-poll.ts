import type { RtspMediaReceiver } from './media';

/**
 * The one timer an RtspMediaReceiver needs (it has none itself): `poll()` at its next deadline,
 * while a UDP gap is waited for. Shared by the pull and the server's RECORD side.
 */
export class MediaPoller {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly media: RtspMediaReceiver) {}

  /** After each packet: arms the timer if the receiver now waits for a gap. */
  schedule(): void {
    if (this.timer || this.stopped) return;
    const deadline = this.media.nextDeadline();
    if (deadline === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (this.stopped) return;
        this.media.poll();
        this.schedule();
      },
      Math.max(1, deadline - performance.now()),
    );
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
