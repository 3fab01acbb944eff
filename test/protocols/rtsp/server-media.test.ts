import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPayloadCache, framePayloads } from '../../../src/protocols/rtsp/server-media';
import { H264_TEST_TRACK, videoFrame } from '../../helpers/hub-fixtures';

const SPS = Buffer.from('6742c00dd9014a6b840000030004000003009078a15480', 'hex');

test('the RTP payload feed packetizes a frame once for every viewer of its track, and apart for a viewer of another track', () => {
  const cache = new RtpPayloadCache();
  const keyframe = videoFrame(0, true, 5000);
  const first = cache.payloads(H264_TEST_TRACK, keyframe);
  assert.equal(cache.payloads(H264_TEST_TRACK, keyframe), first, 'the same payloads, not a copy');
  assert.deepEqual(first, framePayloads(H264_TEST_TRACK, keyframe));
  assert.deepEqual(
    first.slice(0, 1).map((p) => p.payload.subarray(3, 3 + SPS.length)),
    [SPS],
    'the parameter sets go in band before the keyframe (STAP-A)',
  );
  const newSps = { ...H264_TEST_TRACK, sps: Buffer.from('6742c01fd9014a6b840000030004000003009078a15480', 'hex') };
  const other = cache.payloads(newSps, keyframe);
  assert.notEqual(other, first);
  assert.deepEqual(other[0]!.payload.subarray(3, 3 + newSps.sps.length), newSps.sps, "that viewer's own parameter sets");
  assert.equal(cache.payloads(H264_TEST_TRACK, keyframe), first, 'and the shared entry stays');
});
