/**
 * 16-bit RTP sequence number arithmetic with wraparound.
 * Spec: RFC 3550 §A.1 (sequence numbers wrap; the extended sequence counts the cycles).
 */

export const SEQ_MODULUS = 0x1_0000;
const HALF = 0x8000;

/** Signed distance from `a` to `b` in [-32768, 32767]: positive when `b` comes after `a`. */
export function seqDelta(a: number, b: number): number {
  const d = (b - a) & 0xffff;
  return d >= HALF ? d - SEQ_MODULUS : d;
}

/** True when `a` comes strictly before `b` (modulo wraparound). */
export function seqBefore(a: number, b: number): boolean {
  return seqDelta(a, b) > 0;
}

export function seqNext(a: number, step = 1): number {
  return (a + step) & 0xffff;
}

/**
 * Turns 16-bit sequence numbers into an unbounded extended counter, each value placed nearest
 * to the previous one (so reordered packets keep their place across a wrap).
 */
export class SequenceExtender {
  private last: number | undefined;

  extend(seq: number): number {
    if (this.last === undefined) {
      this.last = seq;
      return seq;
    }
    const ext = this.last + seqDelta(this.last & 0xffff, seq);
    if (ext > this.last) this.last = ext;
    return ext;
  }

  /** The highest extended sequence seen, or undefined before the first packet. */
  get highest(): number | undefined {
    return this.last;
  }

  reset(): void {
    this.last = undefined;
  }
}
