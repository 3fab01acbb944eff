import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AAC_SAMPLE_RATES, buildAudioSpecificConfig, parseAudioSpecificConfig } from '../../../src/codecs/aac/asc';
import { ParseError } from '../../../src/core/errors';
import { bytesLike, onlyParseError } from '../helpers';

/** Known configs: what ffmpeg/FLV encoders send, and the spec's escape cases. */
const CASES = [
  { hex: '1210', objectType: 2, sampleRate: 44100, sampleRateIndex: 4, channels: 2 },
  { hex: '1188', objectType: 2, sampleRate: 48000, sampleRateIndex: 3, channels: 1 },
  { hex: '1588', objectType: 2, sampleRate: 8000, sampleRateIndex: 11, channels: 1 },
  { hex: '1198', objectType: 2, sampleRate: 48000, sampleRateIndex: 3, channels: 3 },
  { hex: '11b0', objectType: 2, sampleRate: 48000, sampleRateIndex: 3, channels: 6 },
  { hex: '11b8', objectType: 2, sampleRate: 48000, sampleRateIndex: 3, channels: 8 },
] as const;

describe('AudioSpecificConfig', () => {
  for (const c of CASES) {
    it(`parses and builds ${c.hex}`, () => {
      const info = parseAudioSpecificConfig(Buffer.from(c.hex, 'hex'));
      assert.equal(info.objectType, c.objectType);
      assert.equal(info.sampleRate, c.sampleRate);
      assert.equal(info.sampleRateIndex, c.sampleRateIndex);
      assert.equal(info.channels, c.channels);
      assert.equal(buildAudioSpecificConfig(c).toString('hex'), c.hex);
    });
  }

  it('reads an explicit frequency (index 15) and an escaped object type (31)', () => {
    const explicit = buildAudioSpecificConfig({ objectType: 2, sampleRate: 44056, channels: 2 });
    assert.deepEqual(parseAudioSpecificConfig(explicit), {
      objectType: 2,
      sampleRate: 44056,
      sampleRateIndex: 15,
      channelConfiguration: 2,
      channels: 2,
    });
    const escaped = buildAudioSpecificConfig({ objectType: 42, sampleRate: 48000, channels: 2 });
    assert.equal(escaped[0]! >>> 3, 31);
    assert.equal(parseAudioSpecificConfig(escaped).objectType, 42);
    assert.equal(parseAudioSpecificConfig(escaped).sampleRate, 48000);
  });

  it('reads explicit HE-AAC signalling (object type 5)', () => {
    // SBR, core 24 kHz (index 6), stereo, extension 48 kHz (index 3), core AAC LC.
    const info = parseAudioSpecificConfig(Buffer.from('2b11 8800'.replace(' ', ''), 'hex'));
    assert.equal(info.objectType, 5);
    assert.equal(info.sampleRate, 24000);
    assert.equal(info.extensionSampleRate, 48000);
    assert.equal(info.coreObjectType, 2);
  });

  it('rejects reserved fields and short input', () => {
    assert.throws(() => parseAudioSpecificConfig(Buffer.from([0x12])), ParseError);
    assert.throws(() => parseAudioSpecificConfig(Buffer.from('0210', 'hex')), ParseError); // object type 0
    assert.throws(() => parseAudioSpecificConfig(Buffer.from('1690', 'hex')), ParseError); // index 13
    assert.throws(() => parseAudioSpecificConfig(Buffer.from('1780', 'hex')), ParseError); // explicit rate cut short
    assert.throws(() => parseAudioSpecificConfig(Buffer.from('1248', 'hex')), ParseError); // channel configuration 9
  });

  it('round-trips every standard rate and channel count', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.oneof(fc.constantFrom(...AAC_SAMPLE_RATES), fc.integer({ min: 1, max: 2 ** 24 - 1 })),
        fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 8),
        (objectType, sampleRate, channels) => {
          fc.pre(objectType !== 5 && objectType !== 29 && objectType !== 31);
          const info = parseAudioSpecificConfig(buildAudioSpecificConfig({ objectType, sampleRate, channels }));
          assert.equal(info.objectType, objectType);
          assert.equal(info.sampleRate, sampleRate);
          assert.equal(info.channels, channels);
        },
      ),
    );
  });

  it('only throws ParseError on random and mutated configs', () => {
    const samples = CASES.map((c) => Buffer.from(c.hex, 'hex'));
    fc.assert(
      fc.property(bytesLike(samples, 16), (buf) => onlyParseError(() => parseAudioSpecificConfig(buf))),
      { numRuns: 2000 },
    );
  });
});
