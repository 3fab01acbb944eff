import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildAdtsHeader, parseAdtsHeader, splitAdts } from '../../../src/codecs/aac/adts';
import { ParseError } from '../../../src/core/errors';
import { ADTS_CASES } from '../cases';
import { bytesLike, onlyParseError, readFixture } from '../helpers';

describe('ADTS', () => {
  for (const c of ADTS_CASES) {
    it(`splits ${c.file} (ffmpeg aac) into ${c.frames} raw frames`, () => {
      const stream = readFixture('codecs', c.file);
      const { frames, config, remainder } = splitAdts(stream);
      assert.equal(frames.length, c.frames);
      assert.equal(remainder.length, 0);
      assert.ok(config);
      assert.equal(config.objectType, 2);
      assert.equal(config.sampleRate, c.sampleRate);
      assert.equal(config.sampleRateIndex, c.sampleRateIndex);
      assert.equal(config.channels, c.channels);
      assert.equal(config.headerLength, 7);
      // Rebuilding every header gives back the same stream, apart from the buffer fullness field.
      const rebuilt = Buffer.concat(frames.flatMap((f) => [buildAdtsHeader(config, f.length), f]));
      assert.equal(rebuilt.length, stream.length);
      assert.deepEqual(splitAdts(rebuilt).frames, frames);
    });
  }

  it('returns a truncated last frame as the remainder', () => {
    const stream = readFixture('codecs', ADTS_CASES[0]!.file);
    const first = parseAdtsHeader(stream)!;
    const cut = stream.subarray(0, first.frameLength + 10);
    const { frames, remainder } = splitAdts(cut);
    assert.equal(frames.length, 1);
    assert.equal(remainder.length, 10);
    assert.equal(parseAdtsHeader(stream.subarray(0, 6)), undefined);
    assert.deepEqual(splitAdts(Buffer.alloc(0)), { frames: [], config: undefined, remainder: Buffer.alloc(0) });
  });

  it('reads 9-byte headers with a CRC', () => {
    const header = Buffer.from(buildAdtsHeader({ objectType: 2, sampleRateIndex: 4, channels: 2 }, 10));
    header[1] = 0xf0; // protection_absent 0
    const payload = Buffer.alloc(10, 0x21);
    const withCrc = Buffer.concat([header, Buffer.from([0xab, 0xcd]), payload.subarray(0, 8)]);
    const parsed = parseAdtsHeader(withCrc)!;
    assert.equal(parsed.headerLength, 9);
    assert.equal(parsed.frameLength, 17);
    assert.deepEqual(splitAdts(withCrc).frames, [payload.subarray(0, 8)]);
  });

  it('rejects a missing sync word and bad fields', () => {
    assert.throws(() => parseAdtsHeader(Buffer.from('fff0000000000000', 'hex').fill(0, 0, 1)), ParseError);
    assert.throws(() => splitAdts(Buffer.from('00112233445566778899', 'hex')), ParseError);
    const header = Buffer.from(buildAdtsHeader({ objectType: 2, sampleRateIndex: 4, channels: 2 }, 10));
    const reserved = Buffer.from(header);
    reserved[2] = (reserved[2]! & 0xc3) | (13 << 2);
    assert.throws(() => parseAdtsHeader(reserved), ParseError);
    const tooShort = Buffer.from(header);
    tooShort[3] = tooShort[3]! & 0xfc;
    tooShort[4] = 0;
    tooShort[5] = tooShort[5]! & 0x1f;
    assert.throws(() => parseAdtsHeader(tooShort), ParseError);
    assert.throws(() => buildAdtsHeader({ objectType: 2, sampleRateIndex: 4, channels: 2 }, 9000), ParseError);
    assert.throws(() => buildAdtsHeader({ objectType: 5, sampleRateIndex: 4, channels: 2 }, 10), ParseError);
  });

  it('round-trips built headers', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 1, max: 8184 }),
        (objectType, sampleRateIndex, channels, length) => {
          const header = parseAdtsHeader(buildAdtsHeader({ objectType, sampleRateIndex, channels }, length))!;
          assert.deepEqual([header.objectType, header.sampleRateIndex, header.channels, header.frameLength], [objectType, sampleRateIndex, channels, length + 7]);
        },
      ),
    );
  });

  it('only throws ParseError on random and mutated streams', () => {
    const samples = ADTS_CASES.map((c) => readFixture('codecs', c.file).subarray(0, 700));
    fc.assert(
      fc.property(bytesLike(samples, 64), (buf) => onlyParseError(() => splitAdts(buf))),
      { numRuns: 1000 },
    );
  });
});
