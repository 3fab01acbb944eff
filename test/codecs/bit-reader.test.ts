import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BitReader, removeEmulationPrevention } from '../../src/codecs/bit-reader';
import { ParseError } from '../../src/core/errors';
import { onlyParseError } from './helpers';

describe('BitReader', () => {
  it('reads bits MSB first across byte boundaries', () => {
    const r = new BitReader(Buffer.from([0b10110011, 0b01010101, 0xff, 0xff, 0xff, 0xff]));
    assert.equal(r.readBit(), 1);
    assert.equal(r.readBits(3), 0b011);
    assert.equal(r.readBits(8), 0b00110101);
    assert.equal(r.bitsLeft, 36);
    r.skipBits(4);
    assert.equal(r.readBits(32), 0xffffffff);
    assert.equal(r.bitsLeft, 0);
    assert.throws(() => r.readBit(), ParseError);
  });

  it('starts at a byte offset', () => {
    const r = new BitReader(Buffer.from([0x00, 0x80]), 1);
    assert.equal(r.readFlag(), true);
    assert.equal(r.bitPosition, 9);
  });

  it('reads Exp-Golomb codes (H.264 §9.1 table 9-2)', () => {
    // 1 | 010 | 011 | 00100 | 00101 | 00110 | 00111 | 0001000 -> 0..7
    const bits = '1' + '010' + '011' + '00100' + '00101' + '00110' + '00111' + '0001000';
    const r = new BitReader(bitsToBuffer(bits));
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map(() => r.readUE()),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    const s = new BitReader(bitsToBuffer('1' + '010' + '011' + '00100' + '00101'));
    assert.deepEqual(
      [0, 1, 2, 3, 4].map(() => s.readSE()),
      [0, 1, -1, 2, -2],
    );
  });

  it('reads the largest ue(v) and rejects longer codes', () => {
    const max = new BitReader(bitsToBuffer('0'.repeat(31) + '1' + '1'.repeat(31)));
    assert.equal(max.readUE(), 2 ** 32 - 2);
    assert.throws(() => new BitReader(Buffer.alloc(8)).readUE(), ParseError);
  });

  it('throws ParseError past the end, never reads out of bounds', () => {
    assert.throws(() => new BitReader(Buffer.from([0xff])).readBits(9), ParseError);
    assert.throws(() => new BitReader(Buffer.from([0x00])).readUE(), ParseError);
    assert.throws(() => new BitReader(Buffer.alloc(0)).skipBits(1), ParseError);
  });

  it('only throws ParseError on random data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 40 }), (bytes, ops) => {
        const r = new BitReader(Buffer.from(bytes));
        onlyParseError(() => {
          for (const op of ops) {
            if (op === 0) r.readBit();
            else if (op === 1) r.readUE();
            else if (op === 2) r.readSE();
            else if (op === 3) r.readBits(13);
            else r.skipBits(3);
          }
        });
        assert.ok(r.bitsLeft >= 0);
      }),
    );
  });
});

describe('removeEmulationPrevention', () => {
  it('turns 00 00 03 into 00 00', () => {
    const nal = Buffer.from([0x67, 0, 0, 3, 1, 0, 0, 3, 0, 0, 3, 0xff, 0, 0, 3]);
    assert.deepEqual([...removeEmulationPrevention(nal)], [0x67, 0, 0, 1, 0, 0, 0, 0, 0xff, 0, 0]);
  });

  it('returns the same Buffer when there is nothing to remove', () => {
    const nal = Buffer.from([0x67, 0, 0, 1, 3, 0, 3]);
    assert.equal(removeEmulationPrevention(nal), nal);
  });

  it('inverts emulation prevention of random payloads', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const rbsp = Buffer.from(bytes);
        assert.deepEqual(removeEmulationPrevention(addEmulationPrevention(rbsp)), rbsp);
      }),
    );
  });
});

function bitsToBuffer(bits: string): Buffer {
  const padded = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0');
  const out = Buffer.alloc(padded.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(padded.slice(i * 8, i * 8 + 8), 2);
  return out;
}

/** The encoder side (H.264 §7.4.1): after 00 00, a byte <= 3 gets a 03 in front of it. */
function addEmulationPrevention(rbsp: Buffer): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const byte of rbsp) {
    if (zeros >= 2 && byte <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  if (zeros >= 2) out.push(3); // a trailing 00 00 gets one too (cabac_zero_word style)
  return Buffer.from(out);
}
