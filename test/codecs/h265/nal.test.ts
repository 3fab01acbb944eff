import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { H265_AUD, H265_NAL, H265_PPS, H265_SPS, H265_VPS, h265NalType, isH265Keyframe } from '../../../src/codecs/h265/nal';
import { ParseError } from '../../../src/core/errors';
import { h265ParameterSets } from '../fixture-units';

describe('H.265 NAL units', () => {
  it('has the parameter set constants', () => {
    assert.deepEqual([H265_VPS, H265_SPS, H265_PPS, H265_AUD], [32, 33, 34, 35]);
  });

  it('reads nal_unit_type from the 2-byte header', () => {
    assert.equal(h265NalType(Buffer.from('4001', 'hex')), H265_NAL.VPS);
    assert.equal(h265NalType(Buffer.from('2601', 'hex')), H265_NAL.IDR_W_RADL);
    assert.equal(h265NalType(Buffer.from('0201', 'hex')), H265_NAL.TRAIL_R);
    assert.throws(() => h265NalType(Buffer.from([0x40])), ParseError);
  });

  it('treats IRAP types 16..23 as keyframes', () => {
    for (let type = 0; type < 41; type++) {
      const unit = Buffer.from([type << 1, 1]);
      assert.equal(isH265Keyframe([unit]), type >= 16 && type <= 23, `type ${type}`);
    }
  });

  it('finds the IDR and the CRA of a real x265 stream (keyint 3, open GOP)', () => {
    const { units } = h265ParameterSets('h265-main-320x240.h265');
    const slices = units.filter((u) => h265NalType(u) < 32 && (u[2]! & 0x80) !== 0); // first_slice_segment_in_pic_flag
    assert.equal(slices.length, 6);
    assert.deepEqual(
      slices.map((s) => isH265Keyframe([s])),
      [true, true, false, false, false, false],
    );
  });
});
