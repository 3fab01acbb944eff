import { ParseError, parseAssert } from '../../core/errors';
import { BitReader } from '../bit-reader';

/** samplingFrequencyIndex -> Hz. Spec: ISO/IEC 14496-3 §1.6.3.4 Table 1.18. */
export const AAC_SAMPLE_RATES: readonly number[] = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** Audio object types used here. Spec: ISO/IEC 14496-3 §1.5.1.1 Table 1.17. */
export const AAC_OBJECT_TYPE = { MAIN: 1, LC: 2, SSR: 3, LTP: 4, SBR: 5, PS: 29 } as const;

/** channelConfiguration -> channel count (0: defined in-band by a program_config_element). */
const CHANNELS_BY_CONFIG: Readonly<Record<number, number>> = { 0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 8, 11: 7, 12: 8, 13: 24, 14: 8 };

export interface AudioSpecificConfig {
  /** audioObjectType as written first (2 = AAC LC; 5/29 = explicit HE-AAC signalling). */
  readonly objectType: number;
  /** Core sampling frequency in Hz. */
  readonly sampleRate: number;
  /** samplingFrequencyIndex; 15 when the frequency is written explicitly. */
  readonly sampleRateIndex: number;
  readonly channelConfiguration: number;
  /** Channel count from the channel configuration (0 when a PCE defines it). */
  readonly channels: number;
  /** For explicit SBR/PS signalling (object type 5 or 29): the output rate and the core type. */
  readonly extensionSampleRate?: number;
  readonly coreObjectType?: number;
}

/** Parses an AudioSpecificConfig. Spec: ISO/IEC 14496-3 §1.6.2.1. */
export function parseAudioSpecificConfig(asc: Buffer): AudioSpecificConfig {
  parseAssert(asc.length >= 2, `AudioSpecificConfig of ${asc.length} bytes is too short`);
  const r = new BitReader(asc);
  const objectType = readObjectType(r);
  const { rate: sampleRate, index: sampleRateIndex } = readSampleRate(r);
  const channelConfiguration = r.readBits(4);
  const channels = CHANNELS_BY_CONFIG[channelConfiguration];
  if (channels === undefined) throw new ParseError(`AAC channelConfiguration ${channelConfiguration} is reserved`);
  const base = { objectType, sampleRate, sampleRateIndex, channelConfiguration, channels };
  if (objectType !== AAC_OBJECT_TYPE.SBR && objectType !== AAC_OBJECT_TYPE.PS) return base;
  const extension = readSampleRate(r);
  const coreObjectType = readObjectType(r);
  return { ...base, extensionSampleRate: extension.rate, coreObjectType };
}

/**
 * Builds a 2-byte (or longer, for escaped types and explicit rates) AudioSpecificConfig with a
 * plain GASpecificConfig (1024-sample frames). `channels` 8 is written as configuration 7.
 */
export function buildAudioSpecificConfig(config: { objectType: number; sampleRate: number; channels: number }): Buffer {
  const { objectType, sampleRate, channels } = config;
  if (!Number.isInteger(objectType) || objectType < 1 || objectType > 95 || objectType === 31) {
    throw new RangeError(`AAC object type ${objectType} (31 is the escape value)`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate >= 2 ** 24) throw new RangeError(`AAC sample rate ${sampleRate}`);
  const channelConfiguration = channels === 8 ? 7 : channels;
  if (!Number.isInteger(channelConfiguration) || channelConfiguration < 0 || channelConfiguration > 7) {
    throw new RangeError(`AAC channel count ${channels}`);
  }
  const bits: Array<[value: number, width: number]> = [];
  if (objectType >= 31) bits.push([31, 5], [objectType - 32, 6]);
  else bits.push([objectType, 5]);
  const index = AAC_SAMPLE_RATES.indexOf(sampleRate);
  if (index >= 0) bits.push([index, 4]);
  else bits.push([15, 4], [sampleRate, 24]);
  bits.push([channelConfiguration, 4], [0, 3]); // frameLengthFlag, dependsOnCoreCoder, extensionFlag
  return packBits(bits);
}

function readObjectType(r: BitReader): number {
  const type = r.readBits(5);
  const objectType = type === 31 ? 32 + r.readBits(6) : type;
  parseAssert(objectType !== 0, 'AAC audio object type 0 is invalid');
  return objectType;
}

function readSampleRate(r: BitReader): { rate: number; index: number } {
  const index = r.readBits(4);
  if (index === 15) {
    const rate = r.readBits(24);
    parseAssert(rate > 0, 'AAC explicit sampling frequency 0');
    return { rate, index };
  }
  const rate = AAC_SAMPLE_RATES[index];
  if (rate === undefined) throw new ParseError(`AAC samplingFrequencyIndex ${index} is reserved`);
  return { rate, index };
}

function packBits(fields: ReadonlyArray<readonly [number, number]>): Buffer {
  const total = fields.reduce((sum, [, width]) => sum + width, 0);
  const out = Buffer.alloc(Math.ceil(total / 8));
  let pos = 0;
  for (const [value, width] of fields) {
    for (let i = width - 1; i >= 0; i--) {
      if (Math.floor(value / 2 ** i) % 2 === 1) out[pos >>> 3]! |= 0x80 >>> (pos & 7);
      pos++;
    }
  }
  return out;
}
