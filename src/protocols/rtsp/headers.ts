import { ParseError } from '../../core/errors';

/** Spec: RFC 2326 §12.37 (Session): the default session timeout is 60 seconds. */
export const DEFAULT_SESSION_TIMEOUT_S = 60;
const MAX_HEADER_VALUE = 4096;

export interface SessionHeader {
  readonly id: string;
  /** Seconds. */
  readonly timeout: number;
}

/** Spec: RFC 2326 §12.37: `Session: id[;timeout=N]`. */
export function parseSession(value: string): SessionHeader {
  if (value.length > MAX_HEADER_VALUE) throw new ParseError('Session header too long');
  const [idPart = '', ...params] = value.split(';');
  const id = idPart.trim();
  if (!/^[!-~]{1,256}$/.test(id) || id.includes(';')) throw new ParseError(`bad Session id ${JSON.stringify(id.slice(0, 40))}`);
  let timeout = DEFAULT_SESSION_TIMEOUT_S;
  for (const param of params) {
    const m = /^\s*timeout\s*=\s*(\d{1,6})\s*$/i.exec(param);
    if (m) timeout = Number(m[1]);
  }
  // A timeout of 0 or an absurd one is ignored rather than trusted.
  if (timeout < 1 || timeout > 3600) timeout = DEFAULT_SESSION_TIMEOUT_S;
  return { id, timeout };
}

export interface TransportSpec {
  /** `RTP/AVP` (UDP) or `RTP/AVP/TCP`. */
  readonly protocol: 'udp' | 'tcp';
  readonly unicast: boolean;
  /** TCP: the RTP and RTCP channels. */
  readonly interleaved?: readonly [number, number];
  /** UDP: our ports. */
  readonly clientPort?: readonly [number, number];
  /** UDP: the server's ports. */
  readonly serverPort?: readonly [number, number];
  /** UDP: the address media comes from, when it is not the RTSP server's. */
  readonly source?: string;
  readonly ssrc?: number;
  /** What a server is asked to do with the stream: `record` for a publisher. Spec: RFC 2326 §12.39 (mode). */
  readonly mode?: 'play' | 'record';
}

function parseRange(text: string, max: number): readonly [number, number] {
  const m = /^\s*(\d{1,5})(?:\s*-\s*(\d{1,5}))?\s*$/.exec(text);
  if (!m) throw new ParseError(`bad port or channel range ${JSON.stringify(text.slice(0, 40))}`);
  const first = Number(m[1]);
  const second = m[2] === undefined ? first + 1 : Number(m[2]);
  if (first > max || second > max) throw new ParseError(`port or channel ${Math.max(first, second)} out of range`);
  return [first, second];
}

/**
 * Parses one Transport specification (a server answers with exactly one).
 * Spec: RFC 2326 §12.39.
 */
export function parseTransport(value: string): TransportSpec {
  if (value.length > MAX_HEADER_VALUE) throw new ParseError('Transport header too long');
  // A server may answer with a list; the first one is the one it chose.
  return parseTransportSpec(value.split(',')[0]!);
}

/**
 * The specifications a client offers in SETUP, in its order of preference; the ones that are
 * malformed or of another profile (RTP/SAVP, RAW/RAW/UDP) are left out, so the server picks the
 * first it can serve or answers 461. Spec: RFC 2326 §12.39.
 */
export function parseTransports(value: string): TransportSpec[] {
  if (value.length > MAX_HEADER_VALUE) throw new ParseError('Transport header too long');
  const out: TransportSpec[] = [];
  for (const item of value.split(',')) {
    try {
      out.push(parseTransportSpec(item));
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
    }
  }
  return out;
}

function parseTransportSpec(item: string): TransportSpec {
  const [proto = '', ...params] = item.split(';').map((p) => p.trim());
  const upper = proto.toUpperCase();
  let protocol: 'udp' | 'tcp';
  if (upper === 'RTP/AVP' || upper === 'RTP/AVP/UDP') protocol = 'udp';
  else if (upper === 'RTP/AVP/TCP') protocol = 'tcp';
  else throw new ParseError(`unsupported transport ${JSON.stringify(proto.slice(0, 40))}`);
  const spec: { -readonly [K in keyof TransportSpec]: TransportSpec[K] } = { protocol, unicast: true };
  for (const param of params) {
    const eq = param.indexOf('=');
    const key = (eq >= 0 ? param.slice(0, eq) : param).trim().toLowerCase();
    const val = eq >= 0 ? param.slice(eq + 1).trim() : '';
    applyParam(spec, key, val);
  }
  return spec;
}

function applyParam(spec: { -readonly [K in keyof TransportSpec]: TransportSpec[K] }, key: string, val: string): void {
  switch (key) {
    case 'multicast':
      spec.unicast = false;
      break;
    case 'interleaved':
      spec.interleaved = parseRange(val, 255);
      break;
    case 'client_port':
      spec.clientPort = parseRange(val, 65535);
      break;
    case 'server_port':
      spec.serverPort = parseRange(val, 65535);
      break;
    case 'source':
      if (/^[0-9A-Za-z.:_-]{1,255}$/.test(val)) spec.source = val;
      break;
    case 'ssrc': {
      const hex = /^[0-9A-Fa-f]{1,8}$/.exec(val);
      if (hex) spec.ssrc = parseInt(val, 16) >>> 0;
      break;
    }
    case 'mode': {
      const mode = val.replace(/^"|"$/g, '').toLowerCase();
      if (mode === 'record' || mode === 'receive') spec.mode = 'record';
      else if (mode === 'play') spec.mode = 'play';
      break;
    }
    default:
      break;
  }
}

/** The Transport we ask for in SETUP. */
export function formatTransport(spec: { protocol: 'udp'; clientPort: readonly [number, number] } | { protocol: 'tcp'; interleaved: readonly [number, number] }): string {
  if (spec.protocol === 'tcp') return `RTP/AVP/TCP;unicast;interleaved=${spec.interleaved[0]}-${spec.interleaved[1]}`;
  return `RTP/AVP;unicast;client_port=${spec.clientPort[0]}-${spec.clientPort[1]}`;
}

/** Spec: RFC 2326 §12.28 (Public): the methods a server supports. */
export function parsePublic(value: string | undefined): Set<string> {
  const out = new Set<string>();
  if (!value) return out;
  for (const method of value.slice(0, MAX_HEADER_VALUE).split(',')) {
    const m = method.trim().toUpperCase();
    if (/^[A-Z_]{1,32}$/.test(m)) out.add(m);
  }
  return out;
}
