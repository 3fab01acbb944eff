import { ParseError, parseAssert } from '../../src/core/errors';
import { BitReader } from '../../src/codecs/bit-reader';
import type { RtpPacket } from '../packet';
import type { RtpMap } from '../../src/formats/sdp/sdp';
import { fmtpInt, fmtpValue, hexToBuffer } from './fmtp';

/**
 * AAC RTP payloads: RFC 3640 mpeg4-generic (AU-headers section, §3.2.1-3.2.3, including
 * AUs fragmented over several packets) with sizelength/indexlength/indexdeltalength and the
 * optional CTS/DTS/RAP/stream-state fields taken from fmtp; and MP4A-LATM (RFC 6416 §6.1) with
 * cpresent=0, the StreamMuxConfig coming from fmtp `config`.
 */

export interface AudioUnit {
  readonly data: Buffer;
  /** RTP timestamp of this access unit (the packet's, plus its index times the frame length). */
  readonly timestamp: number;
}

export interface AudioDepacketizer {
  /** AudioSpecificConfig from the SDP. */
  readonly asc: Buffer | undefined;
  push(packet: RtpPacket): AudioUnit[];
  reset(): void;
}

/** One AU (or one LATM element) may not exceed this. */
const MAX_AU_BYTES = 64 * 1024;
/** An AU-headers section larger than this is not from a real sender. */
const MAX_AU_HEADERS = 512;
const AAC_FRAME_SAMPLES = 1024;

export class Rfc3640Depacketizer implements AudioDepacketizer {
  readonly asc: Buffer | undefined;
  private readonly sizeLength: number;
  private readonly indexLength: number;
  private readonly indexDeltaLength: number;
  private readonly ctsDeltaLength: number;
  private readonly dtsDeltaLength: number;
  private readonly rapIndication: boolean;
  private readonly streamStateLength: number;
  private readonly frameSamples: number;
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private fragmentSize = 0;
  private fragmentTimestamp = 0;

  constructor(map: RtpMap) {
    const config = fmtpValue(map, 'config');
    this.asc = config ? hexToBuffer(config) : undefined;
    this.sizeLength = fmtpInt(map, 'sizelength', 0);
    this.indexLength = fmtpInt(map, 'indexlength', 0);
    this.indexDeltaLength = fmtpInt(map, 'indexdeltalength', 0);
    this.ctsDeltaLength = fmtpInt(map, 'ctsdeltalength', 0);
    this.dtsDeltaLength = fmtpInt(map, 'dtsdeltalength', 0);
    this.rapIndication = fmtpInt(map, 'randomaccessindication', 0) === 1;
    this.streamStateLength = fmtpInt(map, 'streamstateindication', 0);
    this.frameSamples = fmtpInt(map, 'constantduration', 0) || AAC_FRAME_SAMPLES;
    parseAssert(this.sizeLength > 0 && this.sizeLength <= 16, 'mpeg4-generic needs a sizelength of 1..16');
  }

  push(packet: RtpPacket): AudioUnit[] {
    const payload = packet.payload;
    parseAssert(payload.length >= 2, 'mpeg4-generic payload without AU-headers-length');
    const headersBits = payload.readUInt16BE(0);
    const headersBytes = Math.ceil(headersBits / 8);
    parseAssert(2 + headersBytes <= payload.length, 'AU-headers section runs past the packet');
    const sizes = this.readSizes(payload.subarray(2, 2 + headersBytes), headersBits);
    let o = 2 + headersBytes;
    const data = payload.subarray(o);
    if (sizes.length === 1 && sizes[0]! > data.length) return this.fragment(packet, sizes[0]!, data);
    this.fragments = [];
    const out: AudioUnit[] = [];
    for (let i = 0; i < sizes.length; i++) {
      const size = sizes[i]!;
      parseAssert(o + size <= payload.length, `AU of ${size} bytes runs past the packet`);
      out.push({ data: Buffer.from(payload.subarray(o, o + size)), timestamp: (packet.timestamp + i * this.frameSamples) >>> 0 });
      o += size;
    }
    return out;
  }

  reset(): void {
    this.fragments = [];
    this.fragmentBytes = 0;
  }

  private readSizes(section: Buffer, bits: number): number[] {
    const r = new BitReader(section);
    const sizes: number[] = [];
    let consumed = 0;
    while (consumed < bits) {
      parseAssert(sizes.length < MAX_AU_HEADERS, 'too many AU-headers');
      const start = r.bitPosition;
      const size = r.readBits(this.sizeLength);
      r.skipBits(sizes.length === 0 ? this.indexLength : this.indexDeltaLength);
      if (this.ctsDeltaLength > 0 && sizes.length > 0 && r.readFlag()) r.skipBits(this.ctsDeltaLength);
      if (this.dtsDeltaLength > 0 && r.readFlag()) r.skipBits(this.dtsDeltaLength);
      if (this.rapIndication) r.skipBits(1);
      r.skipBits(this.streamStateLength);
      const used = r.bitPosition - start;
      parseAssert(used > 0, 'empty AU-header');
      consumed += used;
      sizes.push(size);
    }
    parseAssert(consumed === bits, 'AU-headers-length does not match the AU-headers');
    return sizes;
  }

  /** RFC 3640 §3.2.3.1: one AU-header whose size exceeds the packet is a fragment. */
  private fragment(packet: RtpPacket, size: number, data: Buffer): AudioUnit[] {
    parseAssert(size <= MAX_AU_BYTES, `AU of ${size} bytes over the cap`);
    if (this.fragments.length === 0 || packet.timestamp !== this.fragmentTimestamp || size !== this.fragmentSize) {
      this.fragments = [];
      this.fragmentBytes = 0;
      this.fragmentTimestamp = packet.timestamp;
      this.fragmentSize = size;
    }
    this.fragments.push(Buffer.from(data));
    this.fragmentBytes += data.length;
    if (this.fragmentBytes < size) return [];
    const unit = Buffer.concat(this.fragments, this.fragmentBytes).subarray(0, size);
    this.fragments = [];
    this.fragmentBytes = 0;
    return [{ data: unit, timestamp: packet.timestamp }];
  }
}

/** What a StreamMuxConfig (ISO/IEC 14496-3 §1.7.3.1, audioMuxVersion 0) tells the depacketizer. */
export interface StreamMuxConfig {
  readonly numSubFrames: number;
  readonly asc: Buffer;
  readonly frameLengthType: number;
}

/** Parses a StreamMuxConfig with one program and one layer; extracts the AudioSpecificConfig bits. */
export function parseStreamMuxConfig(config: Buffer): StreamMuxConfig {
  const r = new BitReader(config);
  const audioMuxVersion = r.readBits(1);
  if (audioMuxVersion !== 0) throw new ParseError('LATM audioMuxVersion 1 is not supported');
  r.skipBits(1); // allStreamsSameTimeFraming
  const numSubFrames = r.readBits(6) + 1;
  const numProgram = r.readBits(4);
  const numLayer = r.readBits(3);
  parseAssert(numProgram === 0 && numLayer === 0, 'LATM with several programs or layers is not supported');
  const ascStart = r.bitPosition;
  skipAudioSpecificConfig(r);
  const ascBits = r.bitPosition - ascStart;
  const frameLengthType = r.readBits(3);
  parseAssert(frameLengthType === 0, `LATM frameLengthType ${frameLengthType} is not supported`);
  return { numSubFrames, asc: copyBits(config, ascStart, ascBits), frameLengthType };
}

function skipAudioSpecificConfig(r: BitReader): void {
  let objectType = readObjectType(r);
  if (r.readBits(4) === 15) r.skipBits(24);
  r.skipBits(4); // channelConfiguration
  if (objectType === 5 || objectType === 29) {
    if (r.readBits(4) === 15) r.skipBits(24);
    objectType = readObjectType(r);
  }
  // GASpecificConfig for the AAC object types cameras use (1..4, 6, 7, 17, 19..23).
  parseAssert([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23].includes(objectType), `AAC object type ${objectType} in LATM is not supported`);
  r.skipBits(1); // frameLengthFlag
  if (r.readFlag()) r.skipBits(14); // dependsOnCoreCoder: coreCoderDelay
  const extensionFlag = r.readFlag();
  if (objectType === 6 || objectType === 20) r.skipBits(3);
  if (extensionFlag) {
    if (objectType === 22) r.skipBits(16);
    if (objectType === 17 || objectType === 19 || objectType === 20 || objectType === 23) r.skipBits(3);
    r.skipBits(1);
  }
}

function readObjectType(r: BitReader): number {
  const t = r.readBits(5);
  return t === 31 ? 32 + r.readBits(6) : t;
}

function copyBits(src: Buffer, start: number, count: number): Buffer {
  const out = Buffer.alloc(Math.ceil(count / 8));
  const r = new BitReader(src);
  r.skipBits(start);
  for (let i = 0; i < count; i++) if (r.readBit()) out[i >> 3]! |= 0x80 >> (i & 7);
  return out;
}

export class LatmDepacketizer implements AudioDepacketizer {
  readonly asc: Buffer;
  private readonly numSubFrames: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingTimestamp = 0;

  constructor(map: RtpMap) {
    const cpresent = fmtpValue(map, 'cpresent');
    parseAssert(cpresent === undefined || cpresent === '0', 'MP4A-LATM with cpresent=1 is not supported');
    const config = fmtpValue(map, 'config');
    parseAssert(config !== undefined, 'MP4A-LATM without a config');
    const smc = parseStreamMuxConfig(hexToBuffer(config));
    this.asc = smc.asc;
    this.numSubFrames = smc.numSubFrames;
  }

  /** An AudioMuxElement may span packets of one timestamp; the marker closes it (RFC 6416 §6.1). */
  push(packet: RtpPacket): AudioUnit[] {
    if (this.pending.length > 0 && packet.timestamp !== this.pendingTimestamp) this.reset();
    this.pendingTimestamp = packet.timestamp;
    this.pending.push(packet.payload);
    this.pendingBytes += packet.payload.length;
    parseAssert(this.pendingBytes <= MAX_AU_BYTES, 'LATM element over the cap');
    if (!packet.marker) return [];
    const element = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.reset();
    return this.split(element, packet.timestamp);
  }

  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }

  private split(element: Buffer, timestamp: number): AudioUnit[] {
    const out: AudioUnit[] = [];
    let o = 0;
    for (let i = 0; i < this.numSubFrames && o < element.length; i++) {
      let length = 0;
      for (;;) {
        parseAssert(o < element.length, 'LATM PayloadLengthInfo truncated');
        const b = element[o++]!;
        length += b;
        if (b !== 255) break;
      }
      parseAssert(o + length <= element.length, `LATM payload of ${length} bytes runs past the element`);
      out.push({ data: Buffer.from(element.subarray(o, o + length)), timestamp: (timestamp + i * AAC_FRAME_SAMPLES) >>> 0 });
      o += length;
    }
    return out;
  }
}
