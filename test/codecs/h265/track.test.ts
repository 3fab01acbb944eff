import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { h265Track, h265TrackHas } from '../../../src/codecs/h265/track';
import { H265_CASES } from '../cases';
import { h265ParameterSets } from '../fixture-units';

describe('h265Track', () => {
  it('is ready with VPS, SPS and PPS and keeps copies', () => {
    const c = H265_CASES[1]!;
    const { vps, sps, pps } = h265ParameterSets(c.file);
    const track = h265Track(0, vps, sps, pps);
    assert.equal(track.ready, true);
    assert.equal(track.codec, 'h265');
    assert.equal(track.width, c.width);
    assert.equal(track.height, c.height);
    assert.equal(track.profile, c.profile);
    assert.equal(track.level, c.level);
    assert.deepEqual(track.vps, vps);
    assert.notEqual(track.sps!.buffer, sps.buffer);
    assert.equal(h265TrackHas(track, vps, sps, pps), true);
    assert.equal(h265TrackHas(track, vps, sps, undefined), false);
  });

  it('is not ready when a parameter set is missing or the SPS does not parse', () => {
    const { vps, sps, pps } = h265ParameterSets(H265_CASES[0]!.file);
    assert.equal(h265Track(0, undefined, sps, pps).ready, false);
    assert.equal(h265Track(0, vps, sps).ready, false);
    assert.equal(h265Track(0, vps, Buffer.from('42010101', 'hex'), pps).ready, false);
    assert.deepEqual(h265Track(0), { id: 0, codec: 'h265', ready: false, width: 0, height: 0, profile: 0, level: 0 });
  });
});
