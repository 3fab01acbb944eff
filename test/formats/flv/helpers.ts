import { splitAnnexB } from '../../../src/codecs/annexb';
import { h265NalType, isH265Keyframe } from '../../../src/codecs/h265/nal';
import { h265Track } from '../../../src/codecs/h265/track';
import type { Frame } from '../../../src/core/frame';
import type { H265Track } from '../../../src/core/track';
import { FlvBodyDecoder } from '../../../src/formats/flv/body-decoder';
import { FlvDemuxer, type FlvTag } from '../../../src/formats/flv/demuxer';
import { isAudioTrack, isVideoTrack, type Track } from '../../../src/core/track';
import { audioFrameBody, audioSequenceHeaderBody, videoFrameBody, videoSequenceHeaderBody, type HevcMode } from '../../../src/formats/flv/bodies';
import { onMetaDataBody } from '../../../src/formats/flv/metadata';
import { FLV_TAG_AUDIO, FLV_TAG_SCRIPT, FLV_TAG_VIDEO, flvFileHeader, flvTag } from '../../../src/formats/flv/tag';
import { readFixture } from '../../codecs/helpers';

export interface Decoded {
  readonly tags: FlvTag[];
  readonly tracks: Track[];
  readonly frames: Frame[];
}

/** Demuxes and decodes a whole FLV file (tracks in the order they appeared). */
export function decodeFlv(file: Buffer): Decoded {
  const tags = new FlvDemuxer().feed(file);
  const decoder = new FlvBodyDecoder(() => 0);
  const tracks: Track[] = [];
  const frames: Frame[] = [];
  for (const tag of tags) {
    if (tag.type === 18) continue;
    const out = tag.type === 9 ? decoder.video(tag.timestampMs, tag.body) : decoder.audio(tag.timestampMs, tag.body);
    if (out.track) tracks.push(out.track);
    if (out.frame) frames.push(out.frame);
  }
  return { tags, tracks, frames };
}

/**
 * An x265 Annex B fixture as hub frames: one access unit per picture (a slice with
 * first_slice_segment_in_pic_flag starts one), 25 fps, dts = pts unless `cts` says otherwise.
 */
export function h265Frames(fixture: string, cts: (index: number) => number = () => 0): { track: H265Track; frames: Frame[] } {
  const units = splitAnnexB(readFixture('codecs', fixture));
  const find = (type: number): Buffer | undefined => units.find((u) => h265NalType(u) === type);
  const track = h265Track(0, find(32), find(33), find(34));
  const accessUnits: Buffer[][] = [];
  let current: Buffer[] = [];
  for (const unit of units) {
    const isSlice = h265NalType(unit) < 32;
    if (isSlice && (unit[2]! & 0x80) !== 0 && current.some((u) => h265NalType(u) < 32)) {
      accessUnits.push(current);
      current = [];
    }
    current.push(unit);
  }
  accessUnits.push(current);
  const frames = accessUnits.map((au, i): Frame => {
    const dts = i * 3600;
    return { trackId: 0, codec: 'h265', dts, pts: dts + cts(i), keyframe: isH265Keyframe(au), units: au, byteLength: au.reduce((s, u) => s + u.length, 0), receivedAt: 0 };
  });
  return { track, frames };
}

/** A whole FLV file from our own muxing functions: header, onMetaData, sequence headers, frames. */
export function muxFlv(tracks: readonly Track[], frames: readonly Frame[], hevcMode: HevcMode = 'enhanced'): Buffer {
  const parts: Buffer[] = [flvFileHeader({ hasVideo: tracks.some(isVideoTrack), hasAudio: tracks.some(isAudioTrack) })];
  parts.push(...flvTag(FLV_TAG_SCRIPT, 0, [onMetaDataBody(tracks, {}, hevcMode)]));
  for (const track of tracks) {
    if (isVideoTrack(track)) parts.push(...flvTag(FLV_TAG_VIDEO, 0, [videoSequenceHeaderBody(track, hevcMode)]));
    else {
      const body = audioSequenceHeaderBody(track);
      if (body) parts.push(...flvTag(FLV_TAG_AUDIO, 0, [body]));
    }
  }
  const byId = new Map(tracks.map((t) => [t.id, t]));
  for (const frame of frames) {
    const track = byId.get(frame.trackId)!;
    const ms = Math.round(frame.dts / 90);
    if (isVideoTrack(track)) parts.push(...flvTag(FLV_TAG_VIDEO, ms, videoFrameBody(frame, hevcMode)));
    else parts.push(...flvTag(FLV_TAG_AUDIO, ms, audioFrameBody(frame, track)));
  }
  return Buffer.concat(parts);
}
