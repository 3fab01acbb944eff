import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildAvcDecoderConfigurationRecord, parseAvcDecoderConfigurationRecord } from '../../../src/codecs/h264/avc-config';
import { ParseError } from '../../../src/core/errors';
import { H264_CASES } from '../cases';
import { bytesLike, onlyParseError } from '../helpers';
import { h264ParameterSets } from '../fixture-units';

describe('AVCDecoderConfigurationRecord', () => {
  for (const c of H264_CASES) {
    it(`round-trips the parameter sets of ${c.file}`, () => {
      const { sps, pps } = h264ParameterSets(c.file);
      const record = buildAvcDecoderConfigurationRecord(sps, pps);
      const parsed = parseAvcDecoderConfigurationRecord(record);
      assert.deepEqual(parsed.sps, [sps]);
      assert.deepEqual(parsed.pps, [pps]);
      assert.equal(parsed.lengthSize, 4);
      assert.equal(parsed.profile, c.profile);
      assert.equal(parsed.level, c.level);
      assert.equal(parsed.compatibility, sps[2]);
      const extension = [100, 110, 122, 144].includes(c.profile) ? 4 : 0;
      assert.equal(record.length, 11 + sps.length + pps.length + extension);
      if (extension) assert.equal(record[record.length - 4]! & 3, c.chromaFormat);
    });
  }

  it('parses a record with two SPS, 2-byte lengths and no PPS', () => {
    const record = Buffer.from('01640028fd e2 0002 6764 0001 67 00'.replace(/ /g, ''), 'hex');
    const parsed = parseAvcDecoderConfigurationRecord(record);
    assert.deepEqual(
      parsed.sps.map((s) => s.toString('hex')),
      ['6764', '67'],
    );
    assert.deepEqual(parsed.pps, []);
    assert.equal(parsed.lengthSize, 2);
  });

  it('rejects bad versions, truncation and a 3-byte length size', () => {
    const { sps, pps } = h264ParameterSets(H264_CASES[0]!.file);
    const record = buildAvcDecoderConfigurationRecord(sps, pps);
    assert.throws(() => parseAvcDecoderConfigurationRecord(Buffer.concat([Buffer.from([0]), record.subarray(1)])), ParseError);
    assert.throws(() => parseAvcDecoderConfigurationRecord(record.subarray(0, record.length - 1)), ParseError);
    const three = Buffer.from(record);
    three[4] = 0xfe;
    assert.throws(() => parseAvcDecoderConfigurationRecord(three), ParseError);
  });

  it('refuses to build from an SPS that does not parse', () => {
    assert.throws(() => buildAvcDecoderConfigurationRecord(Buffer.from('67420028', 'hex'), Buffer.from('68ce', 'hex')), ParseError);
  });

  it('only throws ParseError on random and mutated records', () => {
    const samples = H264_CASES.map((c) => {
      const { sps, pps } = h264ParameterSets(c.file);
      return buildAvcDecoderConfigurationRecord(sps, pps);
    });
    fc.assert(
      fc.property(bytesLike(samples, 64), (buf) => onlyParseError(() => parseAvcDecoderConfigurationRecord(buf))),
      { numRuns: 2000 },
    );
  });
});
