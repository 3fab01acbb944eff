import { createHash, randomBytes } from 'node:crypto';

/**
 * A minimal SIP text codec for the device simulator, written independently of sip/ (and of the
 * `sip` package) so that the tests check the gateway against a second implementation.
 */
export interface RawSip {
  startLine: string;
  method?: string;
  uri?: string;
  status?: number;
  reason?: string;
  /** Lower-case names, values in order. */
  headers: Map<string, string[]>;
  body: Buffer;
}

const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type' };

export function header(msg: RawSip, name: string): string | undefined {
  return msg.headers.get(name.toLowerCase())?.[0];
}

/** Parses one whole message; undefined if it is not SIP. */
export function parseRawSip(buf: Buffer): RawSip | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const startLine = lines[0]!;
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    let name = line.slice(0, colon).trim().toLowerCase();
    name = COMPACT[name] ?? name;
    const values = headers.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(name, values);
  }
  const length = Number(headers.get('content-length')?.[0] ?? buf.length - end - 4);
  const body = Buffer.from(buf.subarray(end + 4, end + 4 + length));
  const response = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(startLine);
  if (response) return { startLine, status: Number(response[1]), reason: response[2], headers, body };
  const request = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(startLine);
  if (request) return { startLine, method: request[1], uri: request[2], headers, body };
  return undefined;
}

/** Builds a message; Content-Length is the body's byte count. */
export function buildRawSip(startLine: string, headers: [string, string][], body: Buffer = Buffer.alloc(0)): Buffer {
  const head = [startLine, ...headers.map(([n, v]) => `${n}: ${v}`), `Content-Length: ${body.length}`, '', ''].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Splits a TCP byte stream into messages by Content-Length. */
export class RawSipFramer {
  private pending = Buffer.alloc(0);

  feed(chunk: Buffer): Buffer[] {
    this.pending = Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      while (this.pending.length >= 2 && this.pending[0] === 0x0d && this.pending[1] === 0x0a) this.pending = this.pending.subarray(2);
      const end = this.pending.indexOf('\r\n\r\n');
      if (end < 0) break;
      const match = /\r\n(?:content-length|l)\s*:\s*(\d+)/i.exec(this.pending.subarray(0, end).toString('latin1'));
      const total = end + 4 + (match ? Number(match[1]) : 0);
      if (this.pending.length < total) break;
      out.push(Buffer.from(this.pending.subarray(0, total)));
      this.pending = this.pending.subarray(total);
    }
    return out;
  }
}

export function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

export function token(bytes = 6): string {
  return randomBytes(bytes).toString('hex');
}

/** `key="value"` pairs of a Digest challenge. */
export function parseChallenge(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of value.replace(/^Digest\s+/i, '').matchAll(/([\w-]+)\s*=\s*(?:"([^"]*)"|([^,\s]+))/g)) out[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return out;
}

/** The Authorization header a device computes for a challenge (RFC 2617 with qop=auth). */
export function authorization(fields: {
  username: string;
  password: string;
  method: string;
  uri: string;
  challenge: Record<string, string>;
  nc?: number;
  cnonce?: string;
}): string {
  const { username, password, method, uri, challenge } = fields;
  const realm = challenge.realm ?? '';
  const nonce = challenge.nonce ?? '';
  const ha1 = md5(`${username}:${realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  if (!challenge.qop) return `Digest username="${username}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${md5(`${ha1}:${nonce}:${ha2}`)}", algorithm=MD5`;
  const nc = (fields.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = fields.cnonce ?? token(4);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${username}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, cnonce="${cnonce}", qop=auth, nc=${nc}`;
}

/** The parts of an SDP the simulator reads. */
export interface SimpleSdp {
  ip?: string;
  port?: number;
  proto?: string;
  setup?: string;
  ssrc?: string;
  /** s=: Play, Playback or Download. */
  session?: string;
  uri?: string;
  /** t=: start and end, Unix seconds. */
  time?: [number, number];
  downloadSpeed?: number;
  attributes?: string[];
}

export function parseSimpleSdp(text: string): SimpleSdp {
  const out: SimpleSdp = {};
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('c=')) out.ip = line.split(/\s+/)[2];
    else if (line.startsWith('m=video')) {
      const parts = line.slice(2).split(/\s+/);
      out.port = Number(parts[1]);
      out.proto = parts[2];
    } else if (line.startsWith('a=setup:')) out.setup = line.slice(8).trim();
    else if (line.startsWith('y=')) out.ssrc = line.slice(2).trim();
    else if (line.startsWith('s=')) out.session = line.slice(2).trim();
    else if (line.startsWith('u=')) out.uri = line.slice(2).trim();
    else if (line.startsWith('t=')) out.time = line.slice(2).trim().split(/\s+/).map(Number) as [number, number];
    else if (line.startsWith('a=downloadspeed:')) out.downloadSpeed = Number(line.slice(16));
    else if (line.startsWith('a=')) (out.attributes ??= []).push(line.slice(2).trim());
  }
  return out;
}
