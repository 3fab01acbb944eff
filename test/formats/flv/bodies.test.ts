import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aacTrack } from '../../../src/codecs/aac/track';
import { g711Track } from '../../../src/codecs/g711/g711';
import { parseAvcDecoderConfigurationRecord } from '../../../src/codecs/h264/avc-config';
import { h264Track } from '../../../src/codecs/h264/track';
import { parseHevcDecoderConfigurationRecord } from '../../../src/codecs/h265/hevc-config';
import { GatewayError } from '../../../src/core/errors';
import { makeFrame, type Frame } from '../../../src/core/frame';
import { audioFrameBody, audioSequenceHeaderBody, videoFrameBody, videoSequenceEndBody, videoSequenceHeaderBody } from '../../../src/formats/flv/bodies';
import { h264ParameterSets } from '../../codecs/fixture-units';
import { h265Frames } from './helpers';

const hex = (b: Buffer): string => b.toString('hex');

function videoFrame(codec: 'h264' | 'h265', ctsMs: number, keyframe: boolean, units: Buffer[]): Frame {
  return makeFrame({ trackId: 0, codec, dts: 9000, pts: 9000 + ctsMs * 90, keyframe, units, receivedAt: 0 });
}

describe('video tag bodies', () => {
  const units = [Buffer.from('0910', 'hex'), Buffer.from('65888480', 'hex')];

  it('H.264: codec id 7, AVCPacketType 1, composition time, then length + unit pairs sharing the units', () => {
    const parts = videoFrameBody(videoFrame('h264', 80, true, units), 'enhanced');
    assert.equal(hex(parts[0]!), '1701000050');
    assert.deepEqual(parts.slice(1).map(hex), ['00000002', '0910', '00000004', '65888480']);
    assert.equal(parts[2], units[0]);
    assert.equal(parts[4], units[1]);
    assert.equal(hex(videoFrameBody(videoFrame('h264', -40, false, units), 'legacy')[0]!), '2701ffffd8');
  });

  it('H.265 enhanced: CodedFramesX without a composition time, CodedFrames with one', () => {
    assert.equal(hex(videoFrameBody(videoFrame('h265', 0, true, units), 'enhanced')[0]!), '93' + '68766331');
    assert.equal(hex(videoFrameBody(videoFrame('h265', 40, false, units), 'enhanced')[0]!), 'a1' + '68766331' + '000028');
  });

  it('H.265 legacy: codec id 12 with the AVC layout', () => {
    assert.equal(hex(videoFrameBody(videoFrame('h265', 40, true, units), 'legacy')[0]!), '1c01000028');
    assert.equal(hex(videoFrameBody(videoFrame('h265', 0, false, units), 'legacy')[0]!), '2c01000000');
  });

  it('sequence headers carry the decoder configuration record', () => {
    const { sps, pps } = h264ParameterSets('h264-main-352x288-bframes.h264');
    const avc = videoSequenceHeaderBody(h264Track(0, sps, pps), 'enhanced');
    assert.equal(hex(avc.subarray(0, 5)), '1700000000');
    assert.deepEqual(parseAvcDecoderConfigurationRecord(avc.subarray(5)).sps, [sps]);
    const { track } = h265Frames('h265-main-320x240.h265');
    const enhanced = videoSequenceHeaderBody(track, 'enhanced');
    assert.equal(hex(enhanced.subarray(0, 5)), '90' + '68766331');
    assert.deepEqual(parseHevcDecoderConfigurationRecord(enhanced.subarray(5)).vps, [track.vps]);
    const legacy = videoSequenceHeaderBody(track, 'legacy');
    assert.equal(hex(legacy.subarray(0, 5)), '1c00000000');
    assert.deepEqual(legacy.subarray(5), enhanced.subarray(5));
  });

  it('end-of-sequence bodies', () => {
    assert.equal(hex(videoSequenceEndBody('h264', 'enhanced')), '1702000000');
    assert.equal(hex(videoSequenceEndBody('h265', 'enhanced')), '92' + '68766331');
    assert.equal(hex(videoSequenceEndBody('h265', 'legacy')), '1c02000000');
  });

  it('refuses a track that is not ready', () => {
    assert.throws(() => videoSequenceHeaderBody(h264Track(0), 'enhanced'), GatewayError);
  });
});

describe('audio tag bodies', () => {
  const au = Buffer.from('21100520', 'hex');
  const frame = (codec: 'aac' | 'g711a' | 'g711u'): Frame => makeFrame({ trackId: 1, codec, dts: 0, pts: 0, keyframe: true, units: [au], receivedAt: 0 });

  it('AAC: 0xAF 0x00 + ASC, then 0xAF 0x01 + the raw unit (shared)', () => {
    const track = aacTrack(1, Buffer.from('1210', 'hex'));
    assert.equal(hex(audioSequenceHeaderBody(track)!), 'af001210');
    const parts = audioFrameBody(frame('aac'), track);
    assert.equal(hex(parts[0]!), 'af01');
    assert.equal(parts[1], au);
    assert.throws(() => audioSequenceHeaderBody(aacTrack(1, Buffer.alloc(1))), GatewayError);
  });

  it('G.711: sound format 7/8, 16-bit mono flags, no sequence header', () => {
    assert.equal(audioSequenceHeaderBody(g711Track(1, 'g711a')), undefined);
    assert.equal(hex(audioFrameBody(frame('g711a'), g711Track(1, 'g711a'))[0]!), '72');
    assert.equal(hex(audioFrameBody(frame('g711u'), g711Track(1, 'g711u'))[0]!), '82');
  });
});
