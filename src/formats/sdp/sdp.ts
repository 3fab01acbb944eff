import { ParseError } from '../../core/errors';

/**
 * The project's one SDP parser, for both of its users: the RTSP client (DESCRIBE answers: per
 * media its formats, rtpmap, fmtp and control) and GB28181 (INVITE answers: c=, a=setup, the y=
 * SSRC and f= format of GB/T 28181). Cameras and devices write sloppy SDP (stray spaces,
 * unknown lines, missing `v=`), so unknown or malformed lines are skipped; only sizes beyond
 * the caps, a version other than 0 and unusable `m=` lines are errors.
 * Spec: RFC 8866 §5 (SDP lines), RFC 2326 §C (SDP in RTSP: a=control), RFC 4145 (a=setup,
 * a=connection), GB/T 28181-2016 Annex F (y= SSRC, f= media format).
 */

export const MAX_SDP_BYTES = 64 * 1024;
export const MAX_SDP_LINES = 2000;
export const MAX_SDP_MEDIA = 16;
const MAX_FMTP_KEYS = 64;

/**
 * One RTP payload format: `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`, with the
 * `a=fmtp:<pt>` parameters when a consumer (rtp/depacketize) is handed the whole of it.
 */
export interface RtpMap {
  /** Encoding name as in rtpmap, any case: H264, H265, MPEG4-GENERIC, MP4A-LATM, PCMA, PCMU, PS. */
  readonly encoding: string;
  readonly clockRate: number;
  readonly channels?: number;
  /** fmtp parameters; keys lower-case. */
  readonly fmtp?: Readonly<Record<string, string>>;
}

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface MediaDescription {
  /** video, audio, application ... */
  readonly type: string;
  readonly port: number;
  /** RTP/AVP, TCP/RTP/AVP and friends. */
  readonly protocol: string;
  readonly formats: readonly number[];
  readonly control?: string;
  /** c= of this media (the address only). */
  readonly connection?: string;
  /** a=setup of RFC 4145 (active, passive, actpass), lower-case. */
  readonly setup?: string;
  readonly rtpmap: ReadonlyMap<number, RtpMap>;
  /** fmtp parameters per payload type; keys lower-case. */
  readonly fmtp: ReadonlyMap<number, Readonly<Record<string, string>>>;
  readonly direction?: MediaDirection;
}

export interface SessionDescription {
  readonly origin?: { readonly username: string; readonly address: string };
  readonly sessionName?: string;
  /** Session-level c= (the address only). */
  readonly connection?: string;
  /** Session-level a=control (RTSP). */
  readonly control?: string;
  /** y=: the SSRC (decimal digits) the sender will use (GB28181). */
  readonly ssrc?: string;
  /** f=: the GB28181 media format description. */
  readonly format?: string;
  /** u=: channel and time of a playback (GB28181). */
  readonly uri?: string;
  /** a=filesize: bytes of the file a device answers a Download with (GB28181), wherever the line sits. */
  readonly fileSize?: number;
  /** a=downloadspeed: the download speed (an integer, GB28181), wherever the line sits. */
  readonly downloadSpeed?: number;
  readonly media: readonly MediaDescription[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
interface MutableMedia extends Mutable<MediaDescription> {
  formats: number[];
  rtpmap: Map<number, RtpMap>;
  fmtp: Map<number, Record<string, string>>;
}

export function parseSdp(input: Buffer | string): SessionDescription {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.length > MAX_SDP_BYTES) throw new ParseError(`SDP longer than ${MAX_SDP_BYTES} bytes`);
  const lines = text.split(/\r?\n|\r/);
  if (lines.length > MAX_SDP_LINES) throw new ParseError(`SDP has more than ${MAX_SDP_LINES} lines`);
  const session: Mutable<SessionDescription> & { media: MutableMedia[] } = { media: [] };
  let current: MutableMedia | undefined;
  for (const raw of lines) {
    const line = raw.trim();
    if (line.length < 2 || line[1] !== '=') continue;
    const type = line[0]!;
    const value = line.slice(2).trim();
    if (type === 'm') {
      if (session.media.length >= MAX_SDP_MEDIA) throw new ParseError(`SDP has more than ${MAX_SDP_MEDIA} media`);
      current = parseMediaLine(value);
      session.media.push(current);
    } else if (type === 'a') {
      const attr = parseAttribute(value);
      if (!attr) continue;
      if (applyDownloadAttribute(session, attr.name, attr.value)) continue;
      if (current) applyMediaAttribute(current, attr.name, attr.value);
      else if (attr.name === 'control') session.control = attr.value;
    } else if (type === 'c') {
      const address = parseConnection(value);
      if (address === undefined) continue;
      if (current) current.connection = address;
      else session.connection = address;
    } else if (!current || type === 'y' || type === 'f') {
      // GB28181 puts y= and f= last, after the media they describe: they stay session fields.
      applySessionLine(session, type, value);
    }
  }
  return session;
}

function applySessionLine(session: Mutable<SessionDescription>, type: string, value: string): void {
  switch (type) {
    case 'v':
      if (value !== '0') throw new ParseError(`SDP version ${JSON.stringify(value.slice(0, 10))} is not 0`);
      return;
    case 'o': {
      const parts = value.split(/\s+/);
      if (parts.length >= 6) session.origin = { username: parts[0]!, address: parts[5]! };
      return;
    }
    case 's':
      session.sessionName = value;
      return;
    case 'u':
      session.uri = value;
      return;
    case 'y':
      // Spec: GB/T 28181-2016 Annex F: ten decimal digits (some devices drop leading zeros).
      if (/^\d{1,10}$/.test(value)) session.ssrc = value;
      return;
    case 'f':
      session.format = value;
      return;
    default:
      return;
  }
}

/**
 * Spec: GB/T 28181-2016 Annex F: `a=downloadspeed:<integer>` (offer and answer) and
 * `a=filesize:<bytes>` (a device's Download answer). Devices put them at session or media level;
 * a value that is not a plain decimal number within bounds is ignored. Returns whether it was one.
 */
function applyDownloadAttribute(session: Mutable<SessionDescription>, name: string, value: string): boolean {
  if (name === 'filesize') {
    if (/^\d{1,15}$/.test(value)) session.fileSize = Number(value);
    return true;
  }
  if (name === 'downloadspeed') {
    if (/^\d{1,3}$/.test(value) && Number(value) >= 1) session.downloadSpeed = Number(value);
    return true;
  }
  return false;
}

/** Spec: RFC 8866 §5.7: `c=IN IP4 <address>[/<ttl>]`; the address only. */
function parseConnection(value: string): string | undefined {
  const parts = value.split(/\s+/);
  if (parts.length < 3 || parts[0] !== 'IN' || !/^IP[46]$/.test(parts[1]!)) return undefined;
  return parts[2]!.split('/')[0]!;
}

/** Spec: RFC 8866 §5.14: `m=<media> <port>[/<count>] <proto> <fmt> ...`. */
function parseMediaLine(value: string): MutableMedia {
  const parts = value.split(/\s+/);
  if (parts.length < 3) throw new ParseError(`bad SDP media line ${JSON.stringify(value.slice(0, 60))}`);
  const port = /^(\d{1,5})(?:\/\d{1,5})?$/.exec(parts[1]!);
  if (!port || Number(port[1]) > 65535) throw new ParseError(`bad SDP media port ${JSON.stringify(parts[1]!.slice(0, 20))}`);
  const formats: number[] = [];
  for (const fmt of parts.slice(3, 40)) {
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
    case 'setup':
      if (value !== '') media.setup = value.toLowerCase();
      return;
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

/** The value of an `a=fmtp:` line after the payload type, `key=value;key=value`: values keep their case (base64), keys are lower-cased. */
export function parseFmtp(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let count = 0;
  for (const part of text.split(';')) {
    const item = part.trim();
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const key = item.slice(0, eq).trim().toLowerCase();
    if (key === '__proto__') continue;
    out[key] = item.slice(eq + 1).trim();
    if (++count >= MAX_FMTP_KEYS) break;
  }
  return out;
}
