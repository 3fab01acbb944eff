import * as kirm from 'sip';
import { ParseError, parseAssert } from '../src/core/errors';

/**
 * Typed SIP messages. The shape follows the `sip` package (lower-case header names, parsed
 * Via/From/To/CSeq/Contact/Authorization) so that its transaction layer can carry them, but the
 * body is a Buffer: bodies are bytes (GB2312 MANSCDP, SDP), never JS strings.
 */
export interface Via {
  version: string;
  protocol: string;
  host: string;
  port?: number;
  params: Record<string, string | null>;
}

export interface NameAddr {
  name?: string;
  uri: string;
  params: Record<string, string | null>;
}

export interface CSeq {
  seq: number;
  method: string;
}

/** `Digest k=v, ...` with quoted values kept quoted, as the package parses them. */
export type AuthParams = Record<string, string | undefined> & { scheme: string };

export interface SipHeaders {
  via: Via[];
  from: NameAddr;
  to: NameAddr;
  'call-id': string;
  cseq: CSeq;
  contact?: NameAddr[] | '*';
  authorization?: AuthParams[];
  'www-authenticate'?: AuthParams[];
  'content-type'?: string;
  'content-length'?: number;
  expires?: string;
  [name: string]: unknown;
}

export interface SipRequest {
  method: string;
  uri: string;
  version?: string;
  headers: SipHeaders;
  content?: Buffer;
}

export interface SipResponse {
  status: number;
  reason: string;
  version?: string;
  headers: SipHeaders;
  content?: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export function isRequest(message: SipMessage): message is SipRequest {
  return typeof (message as SipRequest).method === 'string';
}

/** Caps on what a peer may send: a datagram or a framed TCP message larger than this is refused. */
export const MAX_SIP_HEADER_BYTES = 16 * 1024;
export const MAX_SIP_HEADER_LINES = 128;
export const MAX_SIP_BODY_BYTES = 1024 * 1024;
const MAX_CSEQ = 2 ** 31 - 1;

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Parses one SIP message (a UDP datagram, or one framed TCP message) with the package's parser,
 * after checking what its regular expressions would choke on (size, missing header end,
 * leading whitespace). Leading CRLFs (RFC 5626 keep-alives) are skipped. Throws ParseError only.
 * The returned content is a copy.
 * Spec: RFC 3261 §7, §18.3
 */
export function parseSipMessage(buf: Buffer): SipMessage {
  let start = 0;
  while (start + 1 < buf.length && buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
  const headerEnd = buf.indexOf(HEADER_END, start);
  parseAssert(headerEnd > start, 'SIP message without an empty line after the headers');
  parseAssert(headerEnd - start <= MAX_SIP_HEADER_BYTES, `SIP headers longer than ${MAX_SIP_HEADER_BYTES} bytes`);
  parseAssert(buf.length - headerEnd - 4 <= MAX_SIP_BODY_BYTES, `SIP body longer than ${MAX_SIP_BODY_BYTES} bytes`);
  const first = buf[start]!;
  parseAssert(first > 0x20 && first < 0x7f, 'SIP message does not start with a method or SIP/2.0');
  let lines = 0;
  for (let i = start; i < headerEnd; i++) if (buf[i] === 0x0a) lines++;
  parseAssert(lines < MAX_SIP_HEADER_LINES, `more than ${MAX_SIP_HEADER_LINES} header lines`);
  let raw: kirm.KirmMessage | undefined;
  try {
    raw = kirm.parse(buf.subarray(start).toString('latin1'));
  } catch (err) {
    throw new ParseError('SIP message not parsable', { cause: err });
  }
  parseAssert(raw, 'not a SIP request or response line');
  return checkMessage(raw);
}

/** Checks the headers the stack relies on and turns the package's message into a typed one. */
function checkMessage(raw: kirm.KirmMessage): SipMessage {
  const h = raw.headers;
  const via = h.via as Via[] | undefined;
  parseAssert(Array.isArray(via) && via.length > 0 && via.every((v) => typeof v?.host === 'string' && v.params), 'missing or bad Via header');
  parseAssert(typeof h['call-id'] === 'string' && h['call-id'].length > 0 && h['call-id'].length <= 256, 'missing or bad Call-ID header');
  const from = h.from as NameAddr | undefined;
  const to = h.to as NameAddr | undefined;
  parseAssert(from && typeof from.uri === 'string' && from.params, 'missing or bad From header');
  parseAssert(to && typeof to.uri === 'string' && to.params, 'missing or bad To header');
  const cseq = h.cseq as CSeq | undefined;
  parseAssert(cseq && Number.isSafeInteger(cseq.seq) && cseq.seq >= 0 && cseq.seq <= MAX_CSEQ && /^[A-Za-z]+$/.test(cseq.method), 'missing or bad CSeq header');
  if (h.contact !== undefined && h.contact !== '*') {
    parseAssert(Array.isArray(h.contact) && h.contact.every((c: NameAddr) => c && typeof c.uri === 'string'), 'bad Contact header');
  }
  for (const name of ['authorization', 'www-authenticate'] as const) {
    if (h[name] !== undefined) parseAssert(Array.isArray(h[name]) && (h[name] as unknown[]).every((a) => a && typeof (a as AuthParams).scheme === 'string'), `bad ${name} header`);
  }
  for (const [name, value] of Object.entries(h)) {
    if (value === undefined) delete h[name];
  }
  const content = Buffer.from(raw.content ?? '', 'latin1');
  if (raw.method !== undefined) {
    parseAssert(/^[A-Z]{2,16}$/.test(raw.method), 'bad request method');
    parseAssert(typeof raw.uri === 'string' && raw.uri.length <= 512, 'bad Request-URI');
    parseAssert(raw.method === cseq.method || raw.method === 'ACK' || raw.method === 'CANCEL', 'CSeq method differs from the request method');
    return { method: raw.method, uri: raw.uri, version: raw.version, headers: h as SipHeaders, content };
  }
  parseAssert(typeof raw.status === 'number' && raw.status >= 100 && raw.status <= 699, 'bad status code');
  return { status: raw.status, reason: raw.reason ?? '', version: raw.version, headers: h as SipHeaders, content };
}

/** Serialises a message; Content-Length is the body's byte length. */
export function serializeSipMessage(message: SipMessage): Buffer {
  const copy: kirm.KirmMessage = { ...message, headers: { ...message.headers }, content: message.content?.toString('latin1') ?? '' };
  return Buffer.from(kirm.stringify(copy), 'latin1');
}

/** The package's view of a typed message (bodies as latin1 strings), for its transaction layer. */
export function toKirm(message: SipMessage): kirm.KirmMessage {
  return { ...message, content: message.content?.toString('latin1') ?? '' } as kirm.KirmMessage;
}

/** Back from the package's shape (responses it makes itself, e.g. a timeout 408). */
export function fromKirm(message: kirm.KirmMessage): SipMessage {
  const content = typeof message.content === 'string' ? Buffer.from(message.content, 'latin1') : (message.content as Buffer | undefined);
  if (message.method !== undefined) return { method: message.method, uri: message.uri ?? '', version: message.version, headers: message.headers as SipHeaders, content };
  return { status: message.status ?? 500, reason: message.reason ?? '', version: message.version, headers: message.headers as SipHeaders, content };
}

export interface ParsedUri {
  user?: string;
  host: string;
  port?: number;
  params: Record<string, string | null>;
}

/** Parses a SIP URI (`sip:34020000001320000001@3402000000`) with the package; undefined if bad. */
export function parseUri(uri: string): ParsedUri | undefined {
  let parsed: kirm.KirmUri | undefined;
  try {
    parsed = kirm.parseUri(uri);
  } catch {
    return undefined;
  }
  if (!parsed) return undefined;
  return { user: parsed.user, host: parsed.host, port: Number.isFinite(parsed.port) && parsed.port > 0 ? parsed.port : undefined, params: parsed.params };
}

/** The user part of a name-addr's URI (the GB28181 device or channel id). */
export function uriUser(addr: NameAddr | undefined): string | undefined {
  return addr ? parseUri(addr.uri)?.user : undefined;
}

/** A header value as a single string (generic headers the package keeps as strings). */
export function headerString(message: SipMessage, name: string): string | undefined {
  const value = message.headers[name.toLowerCase()];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** Strips one level of double quotes (`"abc"` -> `abc`). */
export function unquote(value: string | undefined): string | undefined {
  if (value && value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1);
  return value;
}
