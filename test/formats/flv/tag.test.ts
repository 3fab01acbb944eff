import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FLV_TAG_VIDEO, flvFileHeader, flvTag } from '../../../src/formats/flv/tag';

describe('flvFileHeader', () => {
  it('writes the 9-byte header and PreviousTagSize0', () => {
    assert.equal(flvFileHeader({ hasVideo: true, hasAudio: true }).toString('hex'), '464c5601050000000900000000');
    assert.equal(flvFileHeader({ hasVideo: true, hasAudio: false })[4], 0x01);
    assert.equal(flvFileHeader({ hasVideo: false, hasAudio: true })[4], 0x04);
  });
});

describe('flvTag', () => {
  it('frames a body without copying it', () => {
    const a = Buffer.from('1701', 'hex');
    const b = Buffer.from('000000', 'hex');
    const parts = flvTag(FLV_TAG_VIDEO, 0x12345678, [a, b]);
    assert.equal(parts.length, 4);
    assert.equal(parts[1], a);
    assert.equal(parts[2], b);
    // type 9, size 5, timestamp 0x345678 + extended 0x12, stream id 0
    assert.equal(parts[0]!.toString('hex'), '09000005345678' + '12' + '000000');
    assert.equal(parts[3]!.readUInt32BE(0), 16);
  });

  it('wraps timestamps at 2^32 and rounds fractions', () => {
    const [header] = flvTag(FLV_TAG_VIDEO, 2 ** 32 + 5.4, []);
    assert.equal(header!.readUIntBE(4, 3), 5);
    assert.equal(header![7], 0);
  });

  it('refuses bodies over 2^24 - 1 bytes', () => {
    assert.throws(() => flvTag(FLV_TAG_VIDEO, 0, [Buffer.alloc(0x1000000)]), RangeError);
  });
});
