/**
 * Incremental decoder of an HTTP/1.1 chunked body (node-media-server answers HTTP-FLV through
 * express with Transfer-Encoding: chunked). Passes the data through as subarrays, no copies.
 *
 * Spec: RFC 9112 §7.1 (chunked transfer coding).
 */
import { ParseError } from '../../src/core/errors';

/** Longest chunk-size line (hex size plus extensions) accepted. */
export const CHUNK_LINE_MAX = 256;

type State = 'size' | 'data' | 'crlf' | 'end';

export class ChunkedDecoder {
  private state: State = 'size';
  private line = '';
  private left = 0;

  /** True once the last (zero-size) chunk has been read. */
  get ended(): boolean {
    return this.state === 'end';
  }

  feed(buf: Buffer, emit: (data: Buffer) => void): void {
    let pos = 0;
    while (pos < buf.length && this.state !== 'end') {
      if (this.state === 'data') {
        const take = Math.min(this.left, buf.length - pos);
        emit(pos === 0 && take === buf.length ? buf : buf.subarray(pos, pos + take));
        pos += take;
        this.left -= take;
        if (this.left === 0) {
          this.state = 'crlf';
          this.left = 2;
        }
      } else if (this.state === 'crlf') {
        pos++;
        if (--this.left === 0) this.state = 'size';
      } else {
        pos = this.readSizeLine(buf, pos);
      }
    }
  }

  private readSizeLine(buf: Buffer, pos: number): number {
    const lf = buf.indexOf(0x0a, pos);
    const end = lf < 0 ? buf.length : lf;
    this.line += buf.toString('latin1', pos, end);
    if (this.line.length > CHUNK_LINE_MAX) throw new ParseError('HTTP chunked: size line too long');
    if (lf < 0) return buf.length;
    const size = parseInt(this.line.split(';', 1)[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new ParseError(`HTTP chunked: bad size line ${JSON.stringify(this.line)}`);
    this.line = '';
    if (size === 0) this.state = 'end';
    else {
      this.state = 'data';
      this.left = size;
    }
    return lf + 1;
  }
}
