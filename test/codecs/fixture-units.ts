import assert from 'node:assert/strict';
import { splitAnnexB } from '../../src/codecs/annexb';
import { findH264Unit, H264_NAL } from '../../src/codecs/h264/nal';
import { findH265Unit, H265_NAL } from '../../src/codecs/h265/nal';
import { readFixture } from './helpers';

/** The first SPS and PPS (and all units) of an Annex B H.264 fixture. */
export function h264ParameterSets(file: string): { sps: Buffer; pps: Buffer; units: Buffer[] } {
  const units = splitAnnexB(readFixture('codecs', file));
  const sps = findH264Unit(units, H264_NAL.SPS);
  const pps = findH264Unit(units, H264_NAL.PPS);
  assert.ok(sps && pps, `${file} has an SPS and a PPS`);
  return { sps, pps, units };
}

/** The first VPS, SPS and PPS (and all units) of an Annex B H.265 fixture. */
export function h265ParameterSets(file: string): { vps: Buffer; sps: Buffer; pps: Buffer; units: Buffer[] } {
  const units = splitAnnexB(readFixture('codecs', file));
  const vps = findH265Unit(units, H265_NAL.VPS);
  const sps = findH265Unit(units, H265_NAL.SPS);
  const pps = findH265Unit(units, H265_NAL.PPS);
  assert.ok(vps && sps && pps, `${file} has a VPS, an SPS and a PPS`);
  return { vps, sps, pps, units };
}
