import { ParseError } from '../../src/core/errors';

/** One NAL unit reassembled from fragments may not exceed this. */
export const MAX_NAL_BYTES = 8 * 1024 * 1024;

/**
 * Reassembles one NAL unit from fragmentation units (H.264 FU-A, RFC 6184 §5.8; H.265 FU,
 * RFC 7798 §4.4.3): a start fragment opens it with the rebuilt NAL header, middle and end
 * fragments of the same RTP timestamp add to it. A fragment whose start was lost is dropped,
 * and so is the unit it belongs to.
 */
export class FragmentAssembler {
  private parts: Buffer[] = [];
  private bytes = 0;
  private timestamp = 0;

  constructor(private readonly what: string) {}

  /**
   * Adds one fragment's body; `nalHeader` is given on a start fragment. Returns the whole unit
   * after the end fragment, else undefined. Keeps the body Buffers until then.
   */
  add(body: Buffer, timestamp: number, flags: { start: boolean; end: boolean }, nalHeader?: Buffer): Buffer | undefined {
    if (flags.start && nalHeader) {
      this.reset();
      this.parts.push(nalHeader);
      this.bytes = nalHeader.length;
      this.timestamp = timestamp;
    } else if (this.parts.length === 0 || timestamp !== this.timestamp) {
      this.reset(); // a middle or end fragment whose start we never saw
      return undefined;
    }
    this.bytes += body.length;
    if (this.bytes > MAX_NAL_BYTES) {
      this.reset();
      throw new ParseError(`${this.what} unit larger than the cap`);
    }
    this.parts.push(body);
    if (!flags.end) return undefined;
    const unit = Buffer.concat(this.parts, this.bytes);
    this.reset();
    return unit;
  }

  reset(): void {
    this.parts = [];
    this.bytes = 0;
  }
}
