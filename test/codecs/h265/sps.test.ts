import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseH265Sps } from '../../../src/codecs/h265/sps';
import { ParseError } from '../../../src/core/errors';
import { H265_CASES } from '../cases';
import { h265ParameterSets } from '../fixture-units';
import { bytesLike, onlyParseError } from '../helpers';

describe('parseH265Sps', () => {
  for (const c of H265_CASES) {
    it(`reads ${c.file} as ffprobe does`, () => {
      const info = parseH265Sps(h265ParameterSets(c.file).sps);
      assert.equal(info.profile, c.profile);
      assert.equal(info.level, c.level);
      assert.equal(info.tier, 0);
      assert.equal(info.width, c.width);
      assert.equal(info.height, c.height);
      assert.equal(info.chromaFormat, c.chromaFormat);
      assert.equal(info.bitDepth, c.bitDepth);
      assert.equal(info.maxSubLayers, c.maxSubLayers);
      assert.equal(info.fps, c.fps);
      assert.equal(info.constraintFlags.length, 6);
      // general_profile_compatibility_flag[profile] is set by every encoder here.
      assert.ok((info.generalProfileCompatibility >>> (31 - c.profile)) & 1);
    });
  }

  it('rejects other NAL types and short input', () => {
    const { vps } = h265ParameterSets(H265_CASES[0]!.file);
    assert.throws(() => parseH265Sps(vps), ParseError);
    assert.throws(() => parseH265Sps(Buffer.from('4201', 'hex')), ParseError);
  });

  it('only throws ParseError on random and mutated SPS', () => {
    const samples = H265_CASES.map((c) => h265ParameterSets(c.file).sps);
    const withType = bytesLike(samples, 80).map((b) => (b.length > 1 ? Buffer.concat([Buffer.from([0x42, 0x01]), b.subarray(2)]) : b));
    fc.assert(
      fc.property(fc.oneof(bytesLike(samples, 80), withType), (sps) => onlyParseError(() => parseH265Sps(sps))),
      { numRuns: 2000 },
    );
  });
});
