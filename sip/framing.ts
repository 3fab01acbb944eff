import { takeOrThrow, type ByteBudget } from '../src/core/budget';
import { ParseError, parseAssert } from '../src/core/errors';
import { MAX_SIP_BODY_BYTES, MAX_SIP_HEADER_BYTES } from './message';

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*(\d{1,9})[ \t]*$/im;

export interface SipFramerOptions {
  /** Largest body accepted; a larger message is refused (onTooLarge) and its body skipped. */
  readonly maxBody?: number;
  /** Shared by every connection: the bytes of unfinished messages are taken from it. */
  readonly budget?: ByteBudget;
  /** A message over maxBody: its headers (Content-Length set to 0), so the caller can answer 513. */
  readonly onTooLarge?: (head: Buffer, contentLength: number) => void;
}

/**
 * Cuts a SIP byte stream (TCP) into whole messages by Content-Length. Leading CRLFs between
 * messages (keep-alive pings) are skipped. A message without Content-Length has no body.
 * `feed` returns the complete messages (each a copy); bad framing throws ParseError and the
 * caller closes the connection. The bytes held for an unfinished message are taken from the
 * shared budget (BudgetSpentError when it is spent); `release` gives them back.
 * Spec: RFC 3261 §18.3, §21.5.14 (513 Message Too Large)
 */
export class SipStreamFramer {
  private pending: Buffer = Buffer.alloc(0);
  private held = 0;
  /** Body bytes of a refused message still to skip. */
  private skipping = 0;
  private readonly maxBody: number;

  constructor(private readonly options: SipFramerOptions = {}) {
    this.maxBody = Math.min(options.maxBody ?? MAX_SIP_BODY_BYTES, MAX_SIP_BODY_BYTES);
  }

  feed(chunk: Buffer): Buffer[] {
    if (this.skipping > 0) {
      const skip = Math.min(this.skipping, chunk.length);
      this.skipping -= skip;
      chunk = chunk.subarray(skip);
    }
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.skipping === 0 && this.next(out));
    if (this.pending.length === 0) this.pending = Buffer.alloc(0);
    this.account();
    return out;
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.pending.length;
  }

  /** The connection is gone: give the held bytes back. Idempotent. */
  release(): void {
    this.pending = Buffer.alloc(0);
    this.account();
  }

  /** Cuts one message off `pending`; false when more bytes are needed. */
  private next(out: Buffer[]): boolean {
    let start = 0;
    while (start < this.pending.length && (this.pending[start] === 0x0d || this.pending[start] === 0x0a)) start++;
    if (start > 0) this.pending = this.pending.subarray(start);
    if (this.pending.length === 0) return false;
    const end = this.pending.indexOf(HEADER_END);
    if (end < 0) {
      parseAssert(this.pending.length <= MAX_SIP_HEADER_BYTES, `SIP headers longer than ${MAX_SIP_HEADER_BYTES} bytes`);
      return false;
    }
    parseAssert(end <= MAX_SIP_HEADER_BYTES, `SIP headers longer than ${MAX_SIP_HEADER_BYTES} bytes`);
    const head = this.pending.subarray(0, end).toString('latin1');
    const match = CONTENT_LENGTH.exec(head);
    if (!match && /^(?:content-length|l)[ \t]*:/im.test(head)) throw new ParseError('bad Content-Length header');
    const length = match ? Number(match[1]) : 0;
    if (length > this.maxBody) {
      if (!this.options.onTooLarge) throw new ParseError(`Content-Length ${length} is over the cap of ${this.maxBody} bytes`);
      this.options.onTooLarge(Buffer.from(`${head.replace(CONTENT_LENGTH, 'Content-Length: 0')}\r\n\r\n`, 'latin1'), length);
      const rest = this.pending.subarray(end + 4);
      const skip = Math.min(length, rest.length);
      this.skipping = length - skip;
      this.pending = rest.subarray(skip);
      return true;
    }
    const total = end + 4 + length;
    if (this.pending.length < total) return false;
    out.push(Buffer.from(this.pending.subarray(0, total)));
    this.pending = this.pending.subarray(total);
    return true;
  }

  private account(): void {
    const budget = this.options.budget;
    if (!budget) return;
    const delta = this.pending.length - this.held;
    if (delta > 0) takeOrThrow(budget, delta, 'SIP over TCP: unfinished messages');
    else budget.give(-delta);
    this.held = this.pending.length;
  }
}
