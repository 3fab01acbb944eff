import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseH264Sps } from '../../../src/codecs/h264/sps';
import { ParseError } from '../../../src/core/errors';
import { H264_CASES } from '../cases';
import { h264ParameterSets } from '../fixture-units';
import { bytesLike, onlyParseError } from '../helpers';

describe('parseH264Sps', () => {
  for (const c of H264_CASES) {
    it(`reads ${c.file} as ffprobe does`, () => {
      const info = parseH264Sps(h264ParameterSets(c.file).sps);
      assert.equal(info.profile, c.profile);
      assert.equal(info.level, c.level);
      assert.equal(info.width, c.width);
      assert.equal(info.height, c.height);
      assert.equal(info.chromaFormat, c.chromaFormat);
      assert.equal(info.bitDepth, c.bitDepth);
      assert.equal(info.frameMbsOnly, c.frameMbsOnly);
      assert.equal(info.fps, c.fps);
    });
  }

  it('reads a hand-made SPS with emulation prevention and a 1080p crop', () => {
    // Baseline, level 4.0, 120x68 macroblocks, frame cropping bottom 4 (-> 1080 lines), no VUI.
    const withCrop = buildBaselineSps(119, 67, 4);
    const info = parseH264Sps(withCrop);
    assert.equal(info.width, 1920);
    assert.equal(info.height, 1080);
    assert.equal(info.fps, undefined);
  });

  it('rejects other NAL types and short input', () => {
    assert.throws(() => parseH264Sps(Buffer.from('68ce3880', 'hex')), ParseError);
    assert.throws(() => parseH264Sps(Buffer.from('6742', 'hex')), ParseError);
    assert.throws(() => parseH264Sps(Buffer.from('67420028', 'hex')), ParseError);
  });

  it('only throws ParseError on random and mutated SPS', () => {
    const samples = H264_CASES.map((c) => h264ParameterSets(c.file).sps);
    const withType = bytesLike(samples, 64).map((b) => (b.length > 0 ? Buffer.concat([Buffer.from([0x67]), b.subarray(1)]) : b));
    fc.assert(
      fc.property(fc.oneof(bytesLike(samples, 64), withType), (sps) => onlyParseError(() => parseH264Sps(sps))),
      { numRuns: 2000 },
    );
  });
});

/** A Baseline SPS written bit by bit (no emulation prevention needed for these values). */
function buildBaselineSps(widthMbsMinus1: number, heightMapUnitsMinus1: number, cropBottom: number): Buffer {
  let bits = '';
  const u = (value: number, width: number): void => {
    bits += value.toString(2).padStart(width, '0');
  };
  const ue = (value: number): void => {
    const code = (value + 1).toString(2);
    bits += '0'.repeat(code.length - 1) + code;
  };
  u(66, 8);
  u(0xc0, 8);
  u(40, 8);
  ue(0); // sps id
  ue(0); // log2_max_frame_num_minus4
  ue(2); // pic_order_cnt_type
  ue(1); // max_num_ref_frames
  u(0, 1);
  ue(widthMbsMinus1);
  ue(heightMapUnitsMinus1);
  u(1, 1); // frame_mbs_only
  u(1, 1); // direct_8x8_inference
  u(1, 1); // frame_cropping_flag
  ue(0);
  ue(0);
  ue(0);
  ue(cropBottom);
  u(0, 1); // no VUI
  bits += '1';
  const bytes = Buffer.alloc(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) if (bits[i] === '1') bytes[i >> 3] = bytes[i >> 3]! | (0x80 >> (i & 7));
  return Buffer.concat([Buffer.from([0x67]), bytes]);
}
