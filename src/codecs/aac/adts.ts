import { ParseError, parseAssert } from '../../core/errors';
import { AAC_SAMPLE_RATES } from './asc';

/** ADTS fixed + variable header. Spec: ISO/IEC 13818-7 §6.2, ISO/IEC 14496-3 §1.A.2.2. */
export interface AdtsHeader {
  /** 7, or 9 with a CRC. */
  readonly headerLength: number;
  /** Header plus payload, in bytes. */
  readonly frameLength: number;
  /** profile + 1: 1 Main, 2 LC, 3 SSR, 4 LTP. */
  readonly objectType: number;
  readonly sampleRate: number;
  readonly sampleRateIndex: number;
  /** channel_configuration (0: defined by an in-band PCE). */
  readonly channels: number;
}

/** What buildAdtsHeader needs (an AdtsHeader or a parsed AudioSpecificConfig qualify). */
export interface AdtsConfig {
  readonly objectType: number;
  readonly sampleRateIndex: number;
  readonly channels: number;
}

export interface AdtsSplit {
  /** Raw AAC access units: subarrays of the input, headers stripped. */
  readonly frames: Buffer[];
  /** The header of the first frame; undefined when no complete header was found. */
  readonly config: AdtsHeader | undefined;
  /** Bytes of an incomplete last frame (subarray, possibly empty): prepend them to the next data. */
  readonly remainder: Buffer;
}

export const ADTS_HEADER_LENGTH = 7;
/** The 13-bit aac_frame_length field caps a frame. */
export const ADTS_MAX_FRAME_LENGTH = 8191;
/** Most frames accepted in one call of splitAdts (1 s of 96 kHz audio is 94 frames). */
export const MAX_ADTS_FRAMES_PER_SPLIT = 4096;

/**
 * Parses the ADTS header at `offset`. Returns undefined if fewer than the header's bytes are
 * available; throws a ParseError if there is no sync word or a field is invalid.
 */
export function parseAdtsHeader(buf: Buffer, offset = 0): AdtsHeader | undefined {
  if (buf.length - offset < ADTS_HEADER_LENGTH) return undefined;
  const b1 = buf[offset + 1]!;
  const b2 = buf[offset + 2]!;
  const b3 = buf[offset + 3]!;
  if (buf[offset] !== 0xff || (b1 & 0xf0) !== 0xf0) throw new ParseError(`no ADTS sync word at offset ${offset}`);
  parseAssert((b1 & 0x06) === 0, 'ADTS layer is not 0');
  const headerLength = (b1 & 1) === 1 ? 7 : 9;
  if (buf.length - offset < headerLength) return undefined;
  const sampleRateIndex = (b2 >>> 2) & 0x0f;
  const sampleRate = AAC_SAMPLE_RATES[sampleRateIndex];
  if (sampleRate === undefined) throw new ParseError(`ADTS sampling_frequency_index ${sampleRateIndex} is reserved`);
  const channels = ((b2 & 1) << 2) | (b3 >>> 6);
  const frameLength = ((b3 & 3) << 11) | (buf[offset + 4]! << 3) | (buf[offset + 5]! >>> 5);
  parseAssert(frameLength > headerLength, `ADTS frame length ${frameLength} is not above the header length`);
  const rawBlocks = buf[offset + 6]! & 3;
  parseAssert(rawBlocks === 0, `ADTS frames with ${rawBlocks + 1} raw data blocks are not supported`);
  return { headerLength, frameLength, objectType: (b2 >>> 6) + 1, sampleRate, sampleRateIndex, channels };
}

/**
 * Splits consecutive ADTS frames into raw access units (subarrays of `buf`, no copy). A
 * truncated last frame (or header) is not an error: its bytes come back as `remainder`.
 * Anything that is not an ADTS frame where one should start is a ParseError. The config is the
 * first frame's header; later frames are not compared with it.
 */
export function splitAdts(buf: Buffer): AdtsSplit {
  const frames: Buffer[] = [];
  let config: AdtsHeader | undefined;
  let offset = 0;
  while (offset < buf.length) {
    const header = parseAdtsHeader(buf, offset);
    if (header === undefined || header.frameLength > buf.length - offset) break;
    if (frames.length >= MAX_ADTS_FRAMES_PER_SPLIT) throw new ParseError(`more than ${MAX_ADTS_FRAMES_PER_SPLIT} ADTS frames`);
    config ??= header;
    frames.push(buf.subarray(offset + header.headerLength, offset + header.frameLength));
    offset += header.frameLength;
  }
  return { frames, config, remainder: buf.subarray(offset) };
}

/**
 * Builds a 7-byte ADTS header (no CRC) for a raw access unit of `payloadLength` bytes.
 * Throws a ParseError if the frame would not fit the 13-bit length or the object type does not
 * fit ADTS (only types 1..4 do), and a RangeError for an invalid index or channel count.
 */
export function buildAdtsHeader(config: AdtsConfig, payloadLength: number): Buffer {
  const frameLength = ADTS_HEADER_LENGTH + payloadLength;
  if (frameLength > ADTS_MAX_FRAME_LENGTH) throw new ParseError(`AAC frame of ${payloadLength} bytes is too long for ADTS`);
  if (config.objectType < 1 || config.objectType > 4) throw new ParseError(`AAC object type ${config.objectType} cannot be carried in ADTS`);
  if (config.sampleRateIndex < 0 || config.sampleRateIndex > 12) throw new RangeError(`ADTS sample rate index ${config.sampleRateIndex}`);
  const channels = config.channels === 8 ? 7 : config.channels;
  if (channels < 0 || channels > 7) throw new RangeError(`ADTS channel count ${config.channels}`);
  const out = Buffer.allocUnsafe(ADTS_HEADER_LENGTH);
  out[0] = 0xff;
  out[1] = 0xf1; // MPEG-4, layer 0, protection_absent
  out[2] = ((config.objectType - 1) << 6) | (config.sampleRateIndex << 2) | (channels >>> 2);
  out[3] = ((channels & 3) << 6) | (frameLength >>> 11);
  out[4] = (frameLength >>> 3) & 0xff;
  out[5] = ((frameLength & 7) << 5) | 0x1f; // buffer fullness 0x7FF (variable bit rate)
  out[6] = 0xfc; // buffer fullness low bits, one raw data block
  return out;
}
