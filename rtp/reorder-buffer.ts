import type { RtpPacket } from './packet';
import { seqDelta } from './seq';

/**
 * A bounded jitter buffer that puts RTP packets back in sequence order.
 *
 * Bounds: at most `maxPackets` sequence numbers ahead of the next expected one, and a missing
 * packet is waited for at most `maxDelayMs` (from the arrival of the first packet queued behind
 * it). Time is the caller's: every call takes `now` (monotonic ms); there are no timers here.
 * Packets given up on count as lost and the next packet out carries `discontinuity: true`, so
 * the depacketizer drops the incomplete frame instead of emitting garbage.
 */

export interface ReorderOptions {
  /** Window in sequence numbers. Default 1024 (ZLM's PacketSortor uses the same). */
  maxPackets?: number;
  /** How long a gap is waited for. Default 1000 ms; 0 releases immediately (TCP). */
  maxDelayMs?: number;
  /** A jump further than this (either direction) is a sender restart, not loss. Default 3000. */
  maxDropout?: number;
}

export interface ReorderedPacket {
  readonly packet: RtpPacket;
  /** Packets were lost (or the sequence restarted) right before this one. */
  readonly discontinuity: boolean;
}

export interface ReorderStats {
  /** Packets released in order. */
  released: number;
  /** Sequence numbers given up on. */
  lost: number;
  /** Packets that arrived out of order but in time. */
  reordered: number;
  /** Copies of a packet already queued or released. */
  duplicates: number;
  /** Packets that arrived after their gap was given up on (dropped). */
  late: number;
  /** Sequence jumps treated as a sender restart. */
  restarts: number;
}

interface Slot {
  packet: RtpPacket;
  arrivedAt: number;
}

export class ReorderBuffer {
  private readonly size: number;
  private readonly maxDelay: number;
  private readonly maxDropout: number;
  private readonly slots: (Slot | undefined)[];
  /** Sequence numbers of recently released/skipped packets, indexed by seq % size. */
  private readonly history: Int32Array;
  private expected: number | undefined;
  private queued = 0;
  private gapSince = 0;
  private pendingDiscontinuity = false;
  /** Highest sequence number that arrived (not necessarily released). */
  private highestArrived: number | undefined;
  readonly stats: ReorderStats = { released: 0, lost: 0, reordered: 0, duplicates: 0, late: 0, restarts: 0 };

  constructor(options: ReorderOptions = {}) {
    this.size = Math.max(1, Math.floor(options.maxPackets ?? 1024));
    this.maxDelay = Math.max(0, options.maxDelayMs ?? 1000);
    this.maxDropout = Math.max(this.size, options.maxDropout ?? 3000);
    this.slots = new Array<Slot | undefined>(this.size).fill(undefined);
    this.history = new Int32Array(this.size).fill(-1);
  }

  /** Packets currently held back waiting for a gap to fill. */
  get pending(): number {
    return this.queued;
  }

  /** When `poll` should next be called (monotonic ms), or undefined when nothing waits. */
  nextDeadline(): number | undefined {
    return this.queued > 0 ? this.gapSince + this.maxDelay : undefined;
  }

  /** Adds a packet; returns the packets now releasable in order (often just this one). */
  push(packet: RtpPacket, now: number): ReorderedPacket[] {
    const out: ReorderedPacket[] = [];
    const seq = packet.sequence;
    if (this.expected === undefined) {
      this.expected = seq;
    }
    const delta = seqDelta(this.expected, seq);
    if (delta >= 0 && delta <= this.maxDropout) this.noteArrival(seq);
    if (delta < 0) {
      if (this.history[seq % this.size] === seq) this.stats.duplicates++;
      else if (-delta > this.maxDropout) this.restart(packet, out);
      else this.stats.late++;
      return out;
    }
    if (delta > this.maxDropout) {
      this.restart(packet, out);
      return out;
    }
    if (delta === 0) {
      this.emit(packet, out);
      this.drainReady(out);
      if (this.queued > 0) this.resetGapClock(now);
      return out;
    }
    // Ahead of a gap: make room if the window is full, then queue.
    if (delta >= this.size) this.skipTo((seq - this.size + 1) & 0xffff, out);
    const index = seq % this.size;
    const existing = this.slots[index];
    if (existing && existing.packet.sequence === seq) {
      this.stats.duplicates++;
      return out;
    }
    if (this.queued === 0) this.gapSince = now;
    this.slots[index] = { packet, arrivedAt: now };
    this.queued++;
    if (this.maxDelay === 0) {
      this.poll(now, out);
    } else if (this.slots[this.expected! % this.size]?.packet.sequence === this.expected) {
      this.drainReady(out);
      if (this.queued > 0) this.resetGapClock(now);
    }
    return out;
  }

  /** Releases what has waited too long. Call at `nextDeadline()`. */
  poll(now: number, out: ReorderedPacket[] = []): ReorderedPacket[] {
    while (this.queued > 0 && now - this.gapSince >= this.maxDelay) {
      this.skipToNextQueued();
      this.drainReady(out);
      if (this.queued > 0) this.resetGapClock(now);
    }
    return out;
  }

  /** Releases everything queued, skipping gaps (end of stream). */
  flush(): ReorderedPacket[] {
    const out: ReorderedPacket[] = [];
    while (this.queued > 0) {
      this.skipToNextQueued();
      this.drainReady(out);
    }
    return out;
  }

  /** Forgets the sequence state (a new SSRC). Queued packets are dropped. */
  reset(): void {
    this.slots.fill(undefined);
    this.history.fill(-1);
    this.queued = 0;
    this.expected = undefined;
    this.highestArrived = undefined;
    this.pendingDiscontinuity = true;
  }

  private noteArrival(seq: number): void {
    if (this.highestArrived === undefined || seqDelta(this.highestArrived, seq) > 0) this.highestArrived = seq;
    else if (seq !== this.highestArrived) this.stats.reordered++;
  }

  private restart(packet: RtpPacket, out: ReorderedPacket[]): void {
    this.stats.restarts++;
    const flushed = this.flush();
    for (const item of flushed) out.push(item);
    this.slots.fill(undefined);
    this.queued = 0;
    this.expected = packet.sequence;
    this.highestArrived = packet.sequence;
    this.pendingDiscontinuity = true;
    this.emit(packet, out);
  }

  private emit(packet: RtpPacket, out: ReorderedPacket[]): void {
    out.push({ packet, discontinuity: this.pendingDiscontinuity });
    this.pendingDiscontinuity = false;
    this.history[packet.sequence % this.size] = packet.sequence;
    this.expected = (packet.sequence + 1) & 0xffff;
    this.stats.released++;
  }

  private drainReady(out: ReorderedPacket[]): void {
    for (;;) {
      const index = this.expected! % this.size;
      const slot = this.slots[index];
      if (!slot || slot.packet.sequence !== this.expected) return;
      this.slots[index] = undefined;
      this.queued--;
      this.emit(slot.packet, out);
    }
  }

  /** Gives up on every sequence number before `target`, releasing queued packets on the way. */
  private skipTo(target: number, out: ReorderedPacket[]): void {
    while (this.expected !== target) {
      const index = this.expected! % this.size;
      const slot = this.slots[index];
      if (slot && slot.packet.sequence === this.expected) {
        this.slots[index] = undefined;
        this.queued--;
        this.emit(slot.packet, out);
      } else {
        this.giveUp();
      }
    }
  }

  private skipToNextQueued(): void {
    while (this.queued > 0) {
      const slot = this.slots[this.expected! % this.size];
      if (slot && slot.packet.sequence === this.expected) return;
      this.giveUp();
    }
  }

  private giveUp(): void {
    this.history[this.expected! % this.size] = -1;
    this.stats.lost++;
    this.pendingDiscontinuity = true;
    this.expected = (this.expected! + 1) & 0xffff;
  }

  private resetGapClock(now: number): void {
    let oldest = now;
    for (const slot of this.slots) if (slot && slot.arrivedAt < oldest) oldest = slot.arrivedAt;
    this.gapSince = oldest;
  }
}
