import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aacTrack } from '../../../src/codecs/aac/track';
import { g711Track } from '../../../src/codecs/g711/g711';
import { h264Track } from '../../../src/codecs/h264/track';
import { Amf0EcmaArray, decodeAmf0 } from '../../../src/formats/amf0/amf0';
import { onMetaDataBody } from '../../../src/formats/flv/metadata';
import { h264ParameterSets } from '../../codecs/fixture-units';
import { h265Frames } from './helpers';

function entries(body: Buffer): Record<string, unknown> {
  const [name, array] = decodeAmf0(body);
  assert.equal(name, 'onMetaData');
  assert.ok(array instanceof Amf0EcmaArray);
  return array.entries;
}

describe('onMetaDataBody', () => {
  it('describes H.264 + AAC with the frame rate from the SPS', () => {
    const { sps, pps } = h264ParameterSets('h264-high-1918x1080.h264');
    const body = onMetaDataBody([h264Track(0, sps, pps), aacTrack(1, Buffer.from('1210', 'hex'))], { encoder: 'gateway' });
    assert.deepEqual(entries(body), {
      hasVideo: true,
      hasAudio: true,
      width: 1918,
      height: 1080,
      videocodecid: 7,
      framerate: 25,
      audiocodecid: 10,
      audiosamplerate: 44100,
      audiosamplesize: 16,
      audiochannels: 2,
      stereo: true,
      encoder: 'gateway',
    });
  });

  it('gives H.265 the FourCC (enhanced) or 12 (legacy)', () => {
    const { track } = h265Frames('h265-main10-320x240.h265');
    assert.equal(entries(onMetaDataBody([track]))['videocodecid'], 0x68766331);
    assert.equal(entries(onMetaDataBody([track], {}, 'legacy'))['videocodecid'], 12);
    assert.equal(entries(onMetaDataBody([track]))['framerate'], 30);
    assert.equal(entries(onMetaDataBody([track]))['hasAudio'], false);
  });

  it('describes G.711 and lets extra entries win', () => {
    const e = entries(onMetaDataBody([g711Track(1, 'g711u')], { audiosamplesize: 8 }));
    assert.equal(e['audiocodecid'], 8);
    assert.equal(e['audiosamplerate'], 8000);
    assert.equal(e['stereo'], false);
    assert.equal(e['audiosamplesize'], 8);
    assert.equal(e['hasVideo'], false);
    assert.equal(entries(onMetaDataBody([g711Track(1, 'g711a')]))['audiocodecid'], 7);
  });
});
