import { ParseError } from '../../core/errors';

/**
 * The part of an SDP session description an RTSP client needs: per media its formats,
 * rtpmap, fmtp and control. Cameras write sloppy SDP (stray spaces, unknown lines, missing
 * `v=`), so unknown or malformed attribute lines are skipped; only sizes beyond the caps
 * and unusable `m=` lines are errors.
 * Spec: RFC 8866 §5 (SDP lines), RFC 2326 §C (SDP in RTSP: a=control, a=range).
 */

export const MAX_SDP_BYTES = 64 * 1024;
export const MAX_SDP_LINES = 2000;
export const MAX_SDP_MEDIA = 16;

export interface RtpMap {
  readonly encoding: string;
  readonly clockRate: number;
  readonly channels?: number;
}

export interface MediaDescription {
  /** video, audio, application ... */
  readonly type: string;
  readonly port: number;
  /** RTP/AVP and friends. */
  readonly protocol: string;
  readonly formats: readonly number[];
  readonly control?: string;
  readonly rtpmap: ReadonlyMap<number, RtpMap>;
  /** fmtp parameters per payload type; keys lower-case. */
  readonly fmtp: ReadonlyMap<number, ReadonlyMap<string, string>>;
  readonly direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
}

export interface SessionDescription {
  readonly sessionName?: string;
  readonly control?: string;
  readonly media: readonly MediaDescription[];
}

interface MutableMedia {
  type: string;
  port: number;
  protocol: string;
  formats: number[];
  control?: string;
  rtpmap: Map<number, RtpMap>;
  fmtp: Map<number, Map<string, string>>;
  direction?: MediaDescription['direction'];
}

export function parseSdp(input: Buffer | string): SessionDescription {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.length > MAX_SDP_BYTES) throw new ParseError(`SDP longer than ${MAX_SDP_BYTES} bytes`);
  const lines = text.split(/\r?\n|\r/);
  if (lines.length > MAX_SDP_LINES) throw new ParseError(`SDP has more than ${MAX_SDP_LINES} lines`);
  let sessionName: string | undefined;
  let sessionControl: string | undefined;
  const media: MutableMedia[] = [];
  let current: MutableMedia | undefined;
  for (const raw of lines) {
    const line = raw.trim();
    if (line.length < 2 || line[1] !== '=') continue;
    const type = line[0]!;
    const value = line.slice(2).trim();
    if (type === 'm') {
      if (media.length >= MAX_SDP_MEDIA) throw new ParseError(`SDP has more than ${MAX_SDP_MEDIA} media`);
      current = parseMediaLine(value);
      media.push(current);
    } else if (type === 's' && !current) {
      sessionName = value;
    } else if (type === 'a') {
      const attr = parseAttribute(value);
      if (!attr) continue;
      if (current) applyMediaAttribute(current, attr.name, attr.value);
      else if (attr.name === 'control') sessionControl = attr.value;
    }
  }
  const out: { -readonly [K in keyof SessionDescription]: SessionDescription[K] } = { media };
  if (sessionName !== undefined) out.sessionName = sessionName;
  if (sessionControl !== undefined) out.control = sessionControl;
  return out;
}

/** Spec: RFC 8866 §5.14: `m=<media> <port>[/<count>] <proto> <fmt> ...`. */
function parseMediaLine(value: string): MutableMedia {
  const parts = value.split(/\s+/);
  if (parts.length < 3) throw new ParseError(`bad SDP media line ${JSON.stringify(value.slice(0, 60))}`);
  const port = /^(\d{1,5})(?:\/\d{1,5})?$/.exec(parts[1]!);
  if (!port || Number(port[1]) > 65535) throw new ParseError(`bad SDP media port ${JSON.stringify(parts[1]!.slice(0, 20))}`);
  const formats: number[] = [];
  for (const fmt of parts.slice(3)) {
    if (/^\d{1,3}$/.test(fmt) && Number(fmt) <= 127) formats.push(Number(fmt));
  }
  return { type: parts[0]!.toLowerCase(), port: Number(port[1]), protocol: parts[2]!, formats, rtpmap: new Map(), fmtp: new Map() };
}

function parseAttribute(value: string): { name: string; value: string } | undefined {
  const colon = value.indexOf(':');
  if (colon < 0) return { name: value.toLowerCase(), value: '' };
  const name = value.slice(0, colon).trim().toLowerCase();
  if (name === '') return undefined;
  return { name, value: value.slice(colon + 1).trim() };
}

function applyMediaAttribute(media: MutableMedia, name: string, value: string): void {
  switch (name) {
    case 'control':
      media.control = value;
      return;
    case 'rtpmap': {
      // Spec: RFC 8866 §6.6: `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]`.
      const m = /^(\d{1,3})\s+([^/\s]+)\/(\d{1,7})(?:\/(\d{1,2}))?/.exec(value);
      if (!m || Number(m[1]) > 127) return;
      const clockRate = Number(m[3]);
      if (clockRate <= 0) return;
      const entry: RtpMap = m[4] === undefined ? { encoding: m[2]!, clockRate } : { encoding: m[2]!, clockRate, channels: Number(m[4]) };
      media.rtpmap.set(Number(m[1]), entry);
      return;
    }
    case 'fmtp': {
      const m = /^(\d{1,3})\s+(.*)$/.exec(value);
      if (!m || Number(m[1]) > 127) return;
      media.fmtp.set(Number(m[1]), parseFmtp(m[2]!));
      return;
    }
    case 'sendrecv':
    case 'sendonly':
    case 'recvonly':
    case 'inactive':
      media.direction = name;
      return;
    default:
      return;
  }
}

/** `key=value;key=value`; values keep their case (base64), keys are lower-cased. */
export function parseFmtp(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(';')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    out.set(item.slice(0, eq).trim().toLowerCase(), item.slice(eq + 1).trim());
    if (out.size > 64) break;
  }
  return out;
}
