import { DEFAULT_MAX_PAYLOAD, MIN_MAX_PAYLOAD, type RtpPayload } from './video';

/**
 * AAC and G.711 RTP packetizers, the mirror of rtp/depacketize/aac.ts and g711.ts.
 */

/** The fmtp that goes with packetizeAac (RFC 3640 §3.3.6 AAC-hbr); `config` is the ASC in hex. */
export const AAC_HBR_FMTP = 'streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3';
const AAC_MAX_AU = (1 << 13) - 1;
const AU_HEADERS_BYTES = 4;

/**
 * One AAC access unit as mpeg4-generic AAC-hbr: a 16-bit AU-headers-length, one AU-header
 * (13-bit size, 3-bit index 0), the AU. An AU larger than the budget is fragmented, every
 * fragment repeating the header with the whole size. Spec: RFC 3640 §3.2.1, §3.2.3.1.
 */
export function packetizeAac(au: Buffer, maxPayload = DEFAULT_MAX_PAYLOAD): RtpPayload[] {
  if (maxPayload < AU_HEADERS_BYTES + 1) throw new RangeError(`max RTP payload ${maxPayload} is too small for AAC`);
  if (au.length === 0 || au.length > AAC_MAX_AU) throw new RangeError(`AAC access unit of ${au.length} bytes does not fit a 13-bit size`);
  const header = Buffer.alloc(AU_HEADERS_BYTES);
  header.writeUInt16BE(16, 0);
  header.writeUInt16BE(au.length << 3, 2);
  const chunk = maxPayload - AU_HEADERS_BYTES;
  const out: RtpPayload[] = [];
  for (let o = 0; o < au.length; o += chunk) {
    const end = Math.min(o + chunk, au.length);
    out.push({ payload: Buffer.concat([header, au.subarray(o, end)]), marker: end === au.length });
  }
  return out;
}

/** A G.711 payload split within the budget; each piece's RTP timestamp is `offset` samples later. */
export interface G711Payload extends RtpPayload {
  readonly offset: number;
}

/** G.711 samples (one byte each) in packets of at most `maxPayload` bytes. Spec: RFC 3551 §4.5.14. */
export function packetizeG711(samples: Buffer, maxPayload = DEFAULT_MAX_PAYLOAD): G711Payload[] {
  if (maxPayload < MIN_MAX_PAYLOAD) throw new RangeError(`max RTP payload ${maxPayload} is below ${MIN_MAX_PAYLOAD}`);
  const out: G711Payload[] = [];
  for (let o = 0; o < samples.length; o += maxPayload) {
    out.push({ payload: samples.subarray(o, o + maxPayload), marker: false, offset: o });
  }
  return out;
}
