import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_NAL_UNITS_PER_ACCESS_UNIT, joinAnnexB, lengthPrefix, lengthPrefixAll, splitAnnexB, splitLengthPrefixed } from '../../src/codecs/annexb';
import { splitAnnexB as splitFromH264 } from '../../src/codecs/h264/annexb';
import { splitAnnexB as splitFromH265 } from '../../src/codecs/h265/annexb';
import { ParseError } from '../../src/core/errors';
import { H264_CASES } from './cases';
import { bytesLike, onlyParseError, readFixture } from './helpers';

const hex = (units: Buffer[]): string[] => units.map((u) => u.toString('hex'));

describe('splitAnnexB', () => {
  it('splits 3- and 4-byte start codes and trims trailing zeros', () => {
    const buf = Buffer.from('00000001 6742 000001 68ce 0000 00000001 65888001 00'.replace(/ /g, ''), 'hex');
    assert.deepEqual(hex(splitAnnexB(buf)), ['6742', '68ce', '65888001']);
  });

  it('returns subarrays of the input', () => {
    const buf = Buffer.from('0000016742', 'hex');
    const [unit] = splitAnnexB(buf);
    assert.equal(unit!.buffer, buf.buffer);
  });

  it('skips empty units and leading zeros, accepts empty and all-zero input', () => {
    assert.deepEqual(hex(splitAnnexB(Buffer.from('000000000100000100000109f0', 'hex'))), ['09f0']);
    assert.deepEqual(splitAnnexB(Buffer.alloc(0)), []);
    assert.deepEqual(splitAnnexB(Buffer.alloc(5)), []);
  });

  it('rejects data before the first start code', () => {
    assert.throws(() => splitAnnexB(Buffer.from('6742000001', 'hex')), ParseError);
    assert.throws(() => splitAnnexB(Buffer.from('674200', 'hex')), ParseError);
  });

  it('caps the number of units', () => {
    const many = Buffer.concat(Array.from({ length: MAX_NAL_UNITS_PER_ACCESS_UNIT + 1 }, () => Buffer.from('00000109f0', 'hex')));
    assert.throws(() => splitAnnexB(many), ParseError);
  });

  it('is re-exported for H.264 and H.265', () => {
    assert.equal(splitFromH264, splitAnnexB);
    assert.equal(splitFromH265, splitAnnexB);
  });

  it('round-trips with joinAnnexB on real x264 streams', () => {
    for (const c of H264_CASES) {
      const stream = readFixture('codecs', c.file);
      const units = splitAnnexB(stream);
      assert.ok(units.length >= c.frames + 2, c.file);
      const again = splitAnnexB(Buffer.concat(joinAnnexB(units)));
      assert.deepEqual(hex(again), hex(units), c.file);
    }
  });

  it('round-trips random units that do not end in zero', () => {
    const unit = fc
      .uint8Array({ minLength: 1, maxLength: 40 })
      .map((b) => Buffer.from(b))
      .map((b) => escape(b));
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 10 }), (units) => {
        assert.deepEqual(hex(splitAnnexB(Buffer.concat(joinAnnexB(units)))), hex(units));
      }),
    );
  });

  it('only throws ParseError on random and mutated streams', () => {
    const samples = H264_CASES.slice(0, 2).map((c) => readFixture('codecs', c.file).subarray(0, 600));
    fc.assert(fc.property(bytesLike(samples), (buf) => onlyParseError(() => splitAnnexB(buf))));
  });
});

describe('joinAnnexB', () => {
  it('interleaves a start code without copying the units', () => {
    const a = Buffer.from('6742', 'hex');
    const b = Buffer.from('68ce', 'hex');
    const parts = joinAnnexB([a, b]);
    assert.equal(parts.length, 4);
    assert.equal(parts[1], a);
    assert.equal(parts[3], b);
    assert.equal(parts[0]!.toString('hex'), '00000001');
  });
});

describe('splitLengthPrefixed / lengthPrefix', () => {
  it('splits 4-, 2- and 1-byte lengths', () => {
    assert.deepEqual(hex(splitLengthPrefixed(Buffer.from('000000026742000000016800000000', 'hex'))), ['6742', '68']);
    assert.deepEqual(hex(splitLengthPrefixed(Buffer.from('000267420001680000', 'hex'), 2)), ['6742', '68']);
    assert.deepEqual(hex(splitLengthPrefixed(Buffer.from('0267420168', 'hex'), 1)), ['6742', '68']);
  });

  it('checks every length', () => {
    assert.throws(() => splitLengthPrefixed(Buffer.from('0000000567', 'hex')), ParseError);
    assert.throws(() => splitLengthPrefixed(Buffer.from('000000', 'hex')), ParseError);
    assert.throws(() => splitLengthPrefixed(Buffer.from('00', 'hex'), 5), ParseError);
  });

  it('round-trips with lengthPrefix and lengthPrefixAll', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 8 }), fc.constantFrom(2, 4), (arrays, size) => {
        const units = arrays.map((a) => Buffer.from(a));
        const joined = Buffer.concat(units.flatMap((u) => [lengthPrefix(u, size), u]));
        assert.deepEqual(hex(splitLengthPrefixed(joined, size)), hex(units));
        assert.deepEqual(Buffer.concat(lengthPrefixAll(units, size)), joined);
      }),
    );
    assert.throws(() => lengthPrefix(Buffer.alloc(256), 1), RangeError);
  });

  it('only throws ParseError on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 4 }), (bytes, size) => {
        onlyParseError(() => splitLengthPrefixed(Buffer.from(bytes), size));
      }),
    );
  });
});

/** Makes a valid NAL unit body: emulation prevention so no start code appears, no zero at the end. */
function escape(payload: Buffer): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const byte of payload) {
    if (zeros >= 2 && byte <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  out.push(0x80); // rbsp_stop_one_bit
  return Buffer.from(out);
}
