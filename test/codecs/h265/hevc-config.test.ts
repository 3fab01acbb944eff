import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { removeEmulationPrevention } from '../../../src/codecs/bit-reader';
import { buildHevcDecoderConfigurationRecord, parseHevcDecoderConfigurationRecord } from '../../../src/codecs/h265/hevc-config';
import { ParseError } from '../../../src/core/errors';
import { H265_CASES } from '../cases';
import { h265ParameterSets } from '../fixture-units';
import { bytesLike, onlyParseError } from '../helpers';

describe('HEVCDecoderConfigurationRecord', () => {
  for (const c of H265_CASES) {
    it(`round-trips the parameter sets of ${c.file}`, () => {
      const { vps, sps, pps } = h265ParameterSets(c.file);
      const record = buildHevcDecoderConfigurationRecord(vps, sps, pps);
      const parsed = parseHevcDecoderConfigurationRecord(record);
      assert.deepEqual(parsed.vps, [vps]);
      assert.deepEqual(parsed.sps, [sps]);
      assert.deepEqual(parsed.pps, [pps]);
      assert.deepEqual(parsed.other, []);
      assert.equal(parsed.lengthSize, 4);
      assert.equal(parsed.profile, c.profile);
      assert.equal(parsed.level, c.level);
      assert.equal(parsed.chromaFormat, c.chromaFormat);
      assert.equal(parsed.bitDepth, c.bitDepth);
      assert.equal(parsed.numTemporalLayers, c.maxSubLayers);
      // Bytes 1..12 are the SPS's profile_tier_level general part, verbatim.
      assert.deepEqual(record.subarray(1, 13), removeEmulationPrevention(sps).subarray(3, 15));
    });
  }

  it('parses SEI arrays and 2-byte lengths', () => {
    const { vps, sps, pps } = h265ParameterSets(H265_CASES[0]!.file);
    const record = Buffer.from(buildHevcDecoderConfigurationRecord(vps, sps, pps));
    record[21] = (record[21]! & 0xfc) | 1;
    record[22] = 4;
    const sei = Buffer.from('4e01050102', 'hex');
    const withSei = Buffer.concat([record, Buffer.from([0x27, 0, 1, 0, sei.length]), sei]);
    const parsed = parseHevcDecoderConfigurationRecord(withSei);
    assert.equal(parsed.lengthSize, 2);
    assert.deepEqual(parsed.other, [sei]);
  });

  it('rejects bad versions and truncation', () => {
    const { vps, sps, pps } = h265ParameterSets(H265_CASES[0]!.file);
    const record = buildHevcDecoderConfigurationRecord(vps, sps, pps);
    assert.throws(() => parseHevcDecoderConfigurationRecord(Buffer.concat([Buffer.from([2]), record.subarray(1)])), ParseError);
    assert.throws(() => parseHevcDecoderConfigurationRecord(record.subarray(0, record.length - 1)), ParseError);
    assert.throws(() => parseHevcDecoderConfigurationRecord(record.subarray(0, 22)), ParseError);
  });

  it('only throws ParseError on random and mutated records', () => {
    const samples = H265_CASES.map((c) => {
      const { vps, sps, pps } = h265ParameterSets(c.file);
      return buildHevcDecoderConfigurationRecord(vps, sps, pps);
    });
    fc.assert(
      fc.property(bytesLike(samples, 128), (buf) => onlyParseError(() => parseHevcDecoderConfigurationRecord(buf))),
      { numRuns: 2000 },
    );
  });
});
