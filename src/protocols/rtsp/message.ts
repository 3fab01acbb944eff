import { GatewayError, ParseError } from '../../core/errors';

/**
 * RTSP/1.0 messages on the control connection and the `$` interleaved frames that share it.
 * Spec: RFC 2326 §6 (request), §7 (response), §10.12 (interleaved binary data).
 */

/** A header block larger than this is refused (cameras send a few hundred bytes). */
export const MAX_HEADER_BYTES = 16 * 1024;
/** An SDP or parameter body larger than this is refused. */
export const MAX_BODY_BYTES = 256 * 1024;
export const MAX_HEADER_COUNT = 64;

/** Header names are kept lower-case; a name may repeat (WWW-Authenticate). */
export type RtspHeaders = ReadonlyMap<string, readonly string[]>;

export interface RtspResponse {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
  readonly headers: RtspHeaders;
  /** A copy: it owns its memory. */
  readonly body: Buffer;
}

/** A request the server sends us (some cameras send OPTIONS or GET_PARAMETER as keepalive). */
export interface RtspServerRequest {
  readonly kind: 'request';
  readonly method: string;
  readonly uri: string;
  readonly headers: RtspHeaders;
  readonly body: Buffer;
}

export interface InterleavedFrame {
  readonly kind: 'interleaved';
  readonly channel: number;
  /** A view into the chunk given to `feed` (or into one concatenation of chunks). */
  readonly data: Buffer;
}

export type RtspItem = RtspResponse | RtspServerRequest | InterleavedFrame;

export function header(headers: RtspHeaders, name: string): string | undefined {
  return headers.get(name.toLowerCase())?.[0];
}

const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;
const HEADER_END = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Incremental reader of the control connection: RTSP responses, server requests and `$`
 * frames in any order. Throws ParseError on input that is neither; the connection is then
 * unusable (there is no way to find the next message reliably in RTSP text).
 */
export class RtspReader {
  /** Chunks of an incomplete item, joined only once the item can be complete. */
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** Bytes the incomplete item needs at least (a `$` frame's full size once its header is in). */
  private needed = 0;

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.partsLength;
  }

  feed(chunk: Buffer): RtspItem[] {
    let buf = chunk;
    if (this.partsLength > 0) {
      // A large `$` frame dribbling in: keep the pieces, copy once when it is all there.
      if (this.partsLength + chunk.length < this.needed) {
        this.parts.push(chunk);
        this.partsLength += chunk.length;
        return [];
      }
      buf = Buffer.concat([...this.parts, chunk]);
      this.parts = [];
      this.partsLength = 0;
    }
    const out: RtspItem[] = [];
    let offset = 0;
    while (offset < buf.length) {
      const byte = buf[offset]!;
      if (byte === CR || byte === LF) {
        offset++;
        continue;
      }
      const used = byte === DOLLAR ? readInterleaved(buf, offset, out) : readMessage(buf, offset, out);
      if (used === 0) break;
      offset += used;
    }
    if (offset < buf.length) {
      const rest = buf.subarray(offset);
      this.parts = [rest];
      this.partsLength = rest.length;
      this.needed = rest[0] === DOLLAR && rest.length >= 4 ? 4 + rest.readUInt16BE(2) : 0;
    }
    return out;
  }
}

const PROBE_BYTES = 16;

/** Could `probe` (the first bytes, maybe fewer than PROBE_BYTES) open a response or a request? */
function looksLikeStart(probe: string): boolean {
  if (probe.startsWith('RTSP/') || /^[A-Z_]{1,15} /.test(probe)) return true;
  if (probe.length >= PROBE_BYTES) return false;
  return 'RTSP/'.startsWith(probe) || /^[A-Z_]*$/.test(probe);
}

/** Bytes consumed, or 0 when the frame is incomplete. */
function readInterleaved(buf: Buffer, offset: number, out: RtspItem[]): number {
  if (buf.length - offset < 4) return 0;
  const length = buf.readUInt16BE(offset + 2);
  if (buf.length - offset < 4 + length) return 0;
  out.push({ kind: 'interleaved', channel: buf[offset + 1]!, data: buf.subarray(offset + 4, offset + 4 + length) });
  return 4 + length;
}

function readMessage(buf: Buffer, offset: number, out: RtspItem[]): number {
  const probe = buf.subarray(offset, Math.min(buf.length, offset + PROBE_BYTES)).toString('latin1');
  if (!looksLikeStart(probe)) throw new ParseError(`expected an RTSP message or a $ frame, got ${probe.length} bytes of something else (not shown: peer bytes are never echoed)`);
  const end = buf.indexOf(HEADER_END, offset);
  if (end < 0) {
    if (buf.length - offset > MAX_HEADER_BYTES) throw new ParseError(`RTSP header block longer than ${MAX_HEADER_BYTES} bytes`);
    return 0;
  }
  if (end - offset > MAX_HEADER_BYTES) throw new ParseError(`RTSP header block longer than ${MAX_HEADER_BYTES} bytes`);
  const lines = buf.subarray(offset, end).toString('latin1').split(/\r?\n/);
  const startLine = lines[0]!;
  const headers = parseHeaderLines(lines.slice(1));
  const lengthText = header(headers, 'content-length');
  let bodyLength = 0;
  if (lengthText !== undefined) {
    if (!/^\s*\d{1,9}\s*$/.test(lengthText)) throw new ParseError('bad Content-Length (not a decimal number)');
    bodyLength = Number(lengthText);
    if (bodyLength > MAX_BODY_BYTES) throw new ParseError(`RTSP body of ${bodyLength} bytes is over the ${MAX_BODY_BYTES}-byte cap`);
  }
  const bodyStart = end + HEADER_END.length;
  if (buf.length - bodyStart < bodyLength) return 0;
  const body = Buffer.from(buf.subarray(bodyStart, bodyStart + bodyLength));
  out.push(parseStartLine(startLine, headers, body));
  return bodyStart + bodyLength - offset;
}

function parseStartLine(line: string, headers: RtspHeaders, body: Buffer): RtspResponse | RtspServerRequest {
  const response = /^RTSP\/(\d)\.(\d) (\d{3})(?: (.*))?$/.exec(line);
  if (response) {
    return { kind: 'response', status: Number(response[3]), reason: (response[4] ?? '').trim(), headers, body };
  }
  const request = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) RTSP\/\d\.\d$/.exec(line);
  if (request) return { kind: 'request', method: request[1]!, uri: request[2]!, headers, body };
  throw new ParseError(`bad RTSP start line (${line.length} characters, neither a request nor an RTSP/1.0 status line)`);
}

function parseHeaderLines(lines: string[]): RtspHeaders {
  const headers = new Map<string, string[]>();
  let count = 0;
  let last: { name: string; values: string[] } | undefined;
  for (const line of lines) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      // Spec: RFC 2326 §4.2 (folded header lines, as in HTTP/1.1).
      const values = last.values;
      values[values.length - 1] = `${values[values.length - 1]!} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ParseError('bad RTSP header line (no name: value)');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!TOKEN.test(name)) throw new ParseError('bad RTSP header name (not a token)');
    if (++count > MAX_HEADER_COUNT) throw new ParseError(`more than ${MAX_HEADER_COUNT} RTSP headers`);
    let values = headers.get(name);
    if (!values) headers.set(name, (values = []));
    values.push(line.slice(colon + 1).trim());
    last = { name, values };
  }
  return headers;
}

export interface OutgoingRequest {
  readonly method: string;
  readonly uri: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: Buffer;
}

/** Serialises a request. Header values with CR/LF (injection through a URL or name) are refused. */
export function serializeRequest(request: OutgoingRequest): Buffer {
  if (!TOKEN.test(request.method)) throw new GatewayError('BAD_REQUEST', `bad RTSP method ${request.method}`);
  if (/[\s]/.test(request.uri)) throw new GatewayError('BAD_REQUEST', 'RTSP request URI contains white space');
  let head = `${request.method} ${request.uri} RTSP/1.0\r\n`;
  for (const [name, value] of request.headers) {
    if (!TOKEN.test(name) || /[\r\n]/.test(value)) throw new GatewayError('BAD_REQUEST', `bad RTSP header ${name}`);
    head += `${name}: ${value}\r\n`;
  }
  const body = request.body;
  if (body && body.length > 0) head += `Content-Length: ${body.length}\r\n`;
  head += '\r\n';
  return body && body.length > 0 ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

/** A response to a request the server sent us. */
export function serializeResponse(status: number, reason: string, headers: readonly (readonly [string, string])[]): Buffer {
  let head = `RTSP/1.0 ${status} ${reason}\r\n`;
  for (const [name, value] of headers) {
    if (!/[\r\n]/.test(value)) head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${head}\r\n`, 'latin1');
}

/** Frames an RTP/RTCP packet for the control connection (`$`, channel, 16-bit length). */
export function encodeInterleaved(channel: number, packet: Buffer): Buffer {
  if (packet.length > 0xffff) throw new RangeError('interleaved packet longer than 65535 bytes');
  const head = Buffer.from([DOLLAR, channel & 0xff, packet.length >> 8, packet.length & 0xff]);
  return Buffer.concat([head, packet]);
}
