import { ParseError, parseAssert } from '../src/core/errors';
import { MAX_SIP_BODY_BYTES, MAX_SIP_HEADER_BYTES } from './message';

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*(\d{1,9})[ \t]*$/im;

/**
 * Cuts a SIP byte stream (TCP) into whole messages by Content-Length. Leading CRLFs between
 * messages (keep-alive pings) are skipped. A message without Content-Length has no body.
 * `feed` returns the complete messages (each a copy); bad framing throws ParseError and the
 * caller closes the connection.
 * Spec: RFC 3261 §18.3
 */
export class SipStreamFramer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBody = MAX_SIP_BODY_BYTES) {}

  feed(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      let start = 0;
      while (start < this.pending.length && (this.pending[start] === 0x0d || this.pending[start] === 0x0a)) start++;
      if (start > 0) this.pending = this.pending.subarray(start);
      if (this.pending.length === 0) break;
      const end = this.pending.indexOf(HEADER_END);
      if (end < 0) {
        parseAssert(this.pending.length <= MAX_SIP_HEADER_BYTES, `SIP headers longer than ${MAX_SIP_HEADER_BYTES} bytes`);
        break;
      }
      parseAssert(end <= MAX_SIP_HEADER_BYTES, `SIP headers longer than ${MAX_SIP_HEADER_BYTES} bytes`);
      const head = this.pending.subarray(0, end).toString('latin1');
      const match = CONTENT_LENGTH.exec(head);
      if (!match && /^(?:content-length|l)[ \t]*:/im.test(head)) throw new ParseError('bad Content-Length header');
      const length = match ? Number(match[1]) : 0;
      parseAssert(length <= this.maxBody, `Content-Length ${length} is over the cap of ${this.maxBody} bytes`);
      const total = end + 4 + length;
      if (this.pending.length < total) break;
      out.push(Buffer.from(this.pending.subarray(0, total)));
      this.pending = this.pending.subarray(total);
    }
    if (this.pending.length === 0) this.pending = Buffer.alloc(0);
    return out;
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.pending.length;
  }
}
