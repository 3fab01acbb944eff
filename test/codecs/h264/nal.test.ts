import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitAnnexB } from '../../../src/codecs/annexb';
import { H264_NAL, h264NalType, isH264Keyframe } from '../../../src/codecs/h264/nal';
import { ParseError } from '../../../src/core/errors';
import { H264_CASES } from '../cases';
import { readFixture } from '../helpers';

describe('H.264 NAL units', () => {
  it('reads nal_unit_type', () => {
    assert.equal(h264NalType(Buffer.from([0x67])), H264_NAL.SPS);
    assert.equal(h264NalType(Buffer.from([0x65, 0x88])), H264_NAL.IDR);
    assert.equal(h264NalType(Buffer.from([0x09, 0xf0])), H264_NAL.AUD);
    assert.throws(() => h264NalType(Buffer.alloc(0)), ParseError);
  });

  it('finds the IDR access units of real x264 streams', () => {
    for (const c of H264_CASES) {
      const units = splitAnnexB(readFixture('codecs', c.file));
      // x264 writes one slice per picture: a slice with first_mb_in_slice 0 starts a frame.
      const frames: Buffer[][] = [];
      for (const unit of units) {
        const type = h264NalType(unit);
        if ((type === H264_NAL.IDR || type === H264_NAL.NON_IDR) && (unit[1]! & 0x80) !== 0) frames.push([unit]);
      }
      assert.equal(frames.length, c.frames, c.file);
      assert.equal(frames.filter((f) => isH264Keyframe(f)).length, c.idrFrames, c.file);
      assert.equal(isH264Keyframe(frames[0]!), true);
    }
  });

  it('is not a keyframe without an IDR slice', () => {
    assert.equal(isH264Keyframe([Buffer.from([0x67]), Buffer.from([0x41, 0x9a]), Buffer.alloc(0)]), false);
    assert.equal(isH264Keyframe([]), false);
  });
});
