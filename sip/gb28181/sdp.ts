import { parseAssert } from '../../src/core/errors';
import type { StreamMode } from './store';

/**
 * The SDP of a GB28181 INVITE and of the device's answer.
 * Spec: RFC 4566; GB/T 28181-2016 §C (y= SSRC, f= media format); RFC 4145 (a=setup, a=connection)
 */
export interface SdpRtpMap {
  payloadType: number;
  encoding: string;
  clockRate: number;
}

export interface SdpMedia {
  type: string;
  port: number;
  proto: string;
  formats: string[];
  connection?: string;
  rtpmaps: SdpRtpMap[];
  /** a=setup of RFC 4145 (active, passive, actpass). */
  setup?: string;
  direction?: 'sendonly' | 'recvonly' | 'sendrecv' | 'inactive';
  attributes: { name: string; value?: string }[];
}

export interface SdpSession {
  origin?: { username: string; address: string };
  sessionName?: string;
  connection?: string;
  /** y=: the SSRC (decimal) the sender will use. */
  ssrc?: string;
  /** f=: GB28181 media format description. */
  format?: string;
  /** u=: channel and time for playback. */
  uri?: string;
  media: SdpMedia[];
}

export const MAX_SDP_BYTES = 16 * 1024;
const MAX_SDP_LINES = 256;
const MAX_MEDIA = 16;

function parseConnection(value: string): string {
  const parts = value.trim().split(/\s+/);
  parseAssert(parts.length >= 3 && parts[0] === 'IN' && /^IP[46]$/.test(parts[1]!), `bad c= line "${value.slice(0, 60)}"`);
  return parts[2]!.split('/')[0]!;
}

function parseMediaLine(value: string): SdpMedia {
  const parts = value.trim().split(/\s+/);
  parseAssert(parts.length >= 3, `bad m= line "${value.slice(0, 60)}"`);
  const portText = parts[1]!.split('/')[0]!;
  parseAssert(/^\d{1,5}$/.test(portText) && Number(portText) <= 65535, `bad m= port "${portText.slice(0, 12)}"`);
  return { type: parts[0]!, port: Number(portText), proto: parts[2]!, formats: parts.slice(3, 40), rtpmaps: [], attributes: [] };
}

function addAttribute(media: SdpMedia, value: string): void {
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  const rest = colon < 0 ? undefined : value.slice(colon + 1);
  if (media.attributes.length < 64) media.attributes.push({ name, value: rest });
  if (name === 'rtpmap' && rest) {
    const match = /^(\d{1,3})\s+([^/\s]+)\/(\d{1,6})/.exec(rest);
    if (match && Number(match[1]) <= 127) media.rtpmaps.push({ payloadType: Number(match[1]), encoding: match[2]!, clockRate: Number(match[3]) });
  } else if (name === 'setup' && rest) {
    media.setup = rest.trim().toLowerCase();
  } else if (name === 'sendonly' || name === 'recvonly' || name === 'sendrecv' || name === 'inactive') {
    media.direction = name;
  }
}

/** Parses an SDP body (CRLF or LF line ends). Unknown lines are ignored; throws ParseError. */
export function parseSdp(body: Buffer | string): SdpSession {
  const text = typeof body === 'string' ? body : body.toString('latin1');
  parseAssert(text.length <= MAX_SDP_BYTES, `SDP larger than ${MAX_SDP_BYTES} bytes`);
  const lines = text.split(/\r?\n/);
  parseAssert(lines.length <= MAX_SDP_LINES, `SDP with more than ${MAX_SDP_LINES} lines`);
  const session: SdpSession = { media: [] };
  let current: SdpMedia | undefined;
  let sawVersion = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    parseAssert(/^[a-z]=/.test(line), `bad SDP line "${line.slice(0, 40)}"`);
    const type = line[0];
    const value = line.slice(2);
    switch (type) {
      case 'v':
        parseAssert(value.trim() === '0', 'SDP version is not 0');
        sawVersion = true;
        break;
      case 'o': {
        const parts = value.trim().split(/\s+/);
        parseAssert(parts.length >= 6, 'bad o= line');
        session.origin = { username: parts[0]!, address: parts[5]! };
        break;
      }
      case 's':
        session.sessionName = value.trim();
        break;
      case 'u':
        session.uri = value.trim();
        break;
      case 'c':
        if (current) current.connection = parseConnection(value);
        else session.connection = parseConnection(value);
        break;
      case 'm':
        parseAssert(session.media.length < MAX_MEDIA, `SDP with more than ${MAX_MEDIA} media`);
        current = parseMediaLine(value);
        session.media.push(current);
        break;
      case 'a':
        if (current) addAttribute(current, value.trim());
        break;
      case 'y':
        parseAssert(/^\d{1,10}$/.test(value.trim()), `bad y= SSRC "${value.slice(0, 20)}"`);
        session.ssrc = value.trim();
        break;
      case 'f':
        session.format = value.trim();
        break;
      default:
        break;
    }
  }
  parseAssert(sawVersion, 'SDP without v=0');
  return session;
}

export interface InviteSdpFields {
  /** o= user and s=: the channel being played. */
  channelId: string;
  /** c= and o= address: where the device sends (or, tcp-active, where it listens for us). */
  mediaIp: string;
  mediaPort: number;
  mode: StreamMode;
  ssrc: string;
  sessionName?: 'Play' | 'Playback' | 'Download';
}

/**
 * The SDP of a live INVITE as wvp sends it: PS/90000 first (some Dahua firmware refuses
 * another order), then H264 and H265; TCP modes with a=setup and a=connection:new.
 */
export function buildInviteSdp(f: InviteSdpFields): Buffer {
  const tcp = f.mode !== 'udp';
  const lines = [
    'v=0',
    `o=${f.channelId} 0 0 IN IP4 ${f.mediaIp}`,
    `s=${f.sessionName ?? 'Play'}`,
    `c=IN IP4 ${f.mediaIp}`,
    't=0 0',
    `m=video ${f.mediaPort} ${tcp ? 'TCP/RTP/AVP' : 'RTP/AVP'} 96 98 99`,
    'a=recvonly',
    'a=rtpmap:96 PS/90000',
    'a=rtpmap:98 H264/90000',
    'a=rtpmap:99 H265/90000',
    ...(tcp ? [`a=setup:${f.mode === 'tcp-active' ? 'active' : 'passive'}`, 'a=connection:new'] : []),
    `y=${f.ssrc}`,
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1');
}

/** The video media of an answer and the address/port the device sends from or listens on. */
export function answerVideo(sdp: SdpSession): { media: SdpMedia; address: string | undefined } | undefined {
  const media = sdp.media.find((m) => m.type === 'video') ?? sdp.media[0];
  if (!media) return undefined;
  return { media, address: media.connection ?? sdp.connection };
}
