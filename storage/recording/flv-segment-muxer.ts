import type { Frame } from '../../src/core/frame';
import { isVideoTrack, type Track } from '../../src/core/track';
import { audioSequenceHeaderBody, videoSequenceHeaderBody, type HevcMode } from '../../src/formats/flv/bodies';
import { onMetaDataBody } from '../../src/formats/flv/metadata';
import { flvFileHeader, flvTag, writeTagHeader, FLV_TAG_AUDIO, FLV_TAG_HEADER_SIZE, FLV_TAG_SCRIPT, FLV_TAG_VIDEO } from '../../src/formats/flv/tag';
import type { FlvTagCache } from '../../src/formats/flv/viewer-muxer';

/**
 * One FLV file per segment: header, onMetaData and sequence headers at 0 ms, then each frame's
 * tag with its time relative to the segment's first frame, so every file plays on its own.
 * The tag body comes from the stream's shared FlvTagCache (hub rule 9): only the 11-byte
 * header is written per recording, the rest is a subarray of the shared tag.
 */
export class FlvSegmentMuxer {
  private tracksById = new Map<number, Track>();
  private baseDts = 0;

  constructor(private readonly tags: FlvTagCache) {}

  get hevcMode(): HevcMode {
    return this.tags.hevcMode;
  }

  /** Starts a file at `baseDts` (the first frame's dts): the bytes before any frame. */
  begin(tracks: readonly Track[], baseDts: number): Buffer[] {
    this.tracksById = new Map(tracks.map((t) => [t.id, t]));
    this.baseDts = baseDts;
    const header = flvFileHeader({ hasVideo: tracks.some(isVideoTrack), hasAudio: tracks.some((t) => !isVideoTrack(t)) });
    const out = [header, ...flvTag(FLV_TAG_SCRIPT, 0, [onMetaDataBody(tracks, undefined, this.hevcMode)])];
    for (const track of tracks) {
      if (isVideoTrack(track)) out.push(...flvTag(FLV_TAG_VIDEO, 0, [videoSequenceHeaderBody(track, this.hevcMode)]));
      else {
        const body = audioSequenceHeaderBody(track);
        if (body) out.push(...flvTag(FLV_TAG_AUDIO, 0, [body]));
      }
    }
    return out;
  }

  /** The frame's tag (empty for a track the file does not carry). */
  frame(frame: Frame): Buffer[] {
    const track = this.tracksById.get(frame.trackId);
    if (!track) return [];
    const shared = this.tags.tag(frame, track);
    const header = Buffer.allocUnsafe(FLV_TAG_HEADER_SIZE);
    const ms = Math.max(0, Math.round((frame.dts - this.baseDts) / 90));
    writeTagHeader(header, shared[0] === FLV_TAG_VIDEO ? FLV_TAG_VIDEO : FLV_TAG_AUDIO, ms, shared.readUIntBE(1, 3));
    return [header, shared.subarray(FLV_TAG_HEADER_SIZE)];
  }
}
