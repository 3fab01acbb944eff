import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { h264Track, h264TrackHas } from '../../../src/codecs/h264/track';
import { H264_CASES } from '../cases';
import { h264ParameterSets } from '../fixture-units';

describe('h264Track', () => {
  it('is ready with both parameter sets and keeps copies', () => {
    const c = H264_CASES[2]!;
    const { sps, pps } = h264ParameterSets(c.file);
    const track = h264Track(0, sps, pps);
    assert.equal(track.ready, true);
    assert.equal(track.codec, 'h264');
    assert.equal(track.width, c.width);
    assert.equal(track.height, c.height);
    assert.equal(track.profile, c.profile);
    assert.equal(track.compatibility, sps[2]);
    assert.equal(track.level, c.level);
    assert.deepEqual(track.sps, sps);
    assert.notEqual(track.sps!.buffer, sps.buffer);
    assert.equal(h264TrackHas(track, sps, pps), true);
    assert.equal(h264TrackHas(track, sps, Buffer.from('68', 'hex')), false);
  });

  it('is not ready without a PPS or with an SPS that does not parse', () => {
    const { sps, pps } = h264ParameterSets(H264_CASES[0]!.file);
    assert.equal(h264Track(0, sps).ready, false);
    assert.equal(h264Track(0, sps).width, 320);
    assert.equal(h264Track(0, undefined, pps).ready, false);
    const broken = h264Track(0, Buffer.from('67420028', 'hex'), pps);
    assert.equal(broken.ready, false);
    assert.equal(broken.width, 0);
    assert.deepEqual(h264Track(3), { id: 3, codec: 'h264', ready: false, width: 0, height: 0, profile: 0, compatibility: 0, level: 0 });
  });
});
