import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAdtsHeader } from '../../../src/codecs/aac/adts';
import { aacTrack, aacTrackFromAdts } from '../../../src/codecs/aac/track';
import { ADTS_CASES } from '../cases';
import { readFixture } from '../helpers';

describe('aacTrack', () => {
  it('is ready from a valid AudioSpecificConfig and keeps a copy', () => {
    const asc = Buffer.from('1210', 'hex');
    const track = aacTrack(1, asc);
    assert.deepEqual(track, { id: 1, codec: 'aac', ready: true, asc, sampleRate: 44100, channels: 2 });
    asc[0] = 0;
    assert.equal(track.asc![0], 0x12, 'the track keeps its own copy');
  });

  it('is not ready from a config that does not parse', () => {
    const track = aacTrack(1, Buffer.from([0x12]));
    assert.equal(track.ready, false);
    assert.equal(track.sampleRate, 0);
  });

  it('uses the output rate of explicit HE-AAC', () => {
    assert.equal(aacTrack(1, Buffer.from('2b118800', 'hex')).sampleRate, 48000);
  });

  for (const c of ADTS_CASES) {
    it(`comes from the ADTS header of ${c.file}`, () => {
      const track = aacTrackFromAdts(1, parseAdtsHeader(readFixture('codecs', c.file))!);
      assert.equal(track.ready, true);
      assert.equal(track.sampleRate, c.sampleRate);
      assert.equal(track.channels, c.channels);
      assert.equal(track.asc!.length, 2);
    });
  }
});
