import type { Frame } from '../../core/frame';
import type { StreamInfo } from '../../core/sink';
import { isVideoTrack, type Track } from '../../core/track';
import { flvFileHeader, flvTag } from './tag';
import { audioFrameBody, audioSequenceHeaderBody, videoFrameBody, videoSequenceHeaderBody, type HevcMode } from './bodies';
import { onMetaDataBody } from './metadata';

const TAG_AUDIO = 8;
const TAG_VIDEO = 9;
const TAG_SCRIPT = 18;

/**
 * Tag bodies of the latest frame, shared by every FLV viewer of one stream (hub rule 9): the
 * body header and NAL length prefixes are built once per frame, viewers add only their own
 * 11-byte tag header. Keeps a reference to the last frame's Buffers only.
 */
export class FlvBodyCache {
  private lastFrame: Frame | undefined;
  private lastBody: Buffer[] = [];

  constructor(readonly hevcMode: HevcMode) {}

  body(frame: Frame, track: Track): Buffer[] {
    if (frame !== this.lastFrame) {
      this.lastBody = isVideoTrack(track) ? videoFrameBody(frame, this.hevcMode) : audioFrameBody(frame, track);
      this.lastFrame = frame;
    }
    return this.lastBody;
  }
}

/**
 * FLV for one viewer: file header, onMetaData and sequence headers at start, then one tag per
 * frame with timestamps rebased so that the viewer's first frame is at 0 ms.
 */
export class FlvViewerMuxer {
  private tracksById = new Map<number, Track>();
  private baseDts: number | undefined;
  private lastMs = 0;

  constructor(private readonly bodies: FlvBodyCache) {}

  start(info: StreamInfo): Buffer[] {
    const hasVideo = info.tracks.some(isVideoTrack);
    const out: Buffer[] = [flvFileHeader({ hasVideo, hasAudio: info.tracks.some((t) => !isVideoTrack(t)) })];
    out.push(...flvTag(TAG_SCRIPT, 0, [onMetaDataBody(info.tracks)]));
    out.push(...this.sequenceHeaders(info.tracks, 0));
    return out;
  }

  /** New sequence headers after a mid-stream config change (new SPS, new ASC). */
  tracks(tracks: readonly Track[]): Buffer[] {
    return this.sequenceHeaders(tracks, this.lastMs);
  }

  frame(frame: Frame): Buffer[] {
    const track = this.tracksById.get(frame.trackId);
    if (!track) return [];
    this.baseDts ??= frame.dts;
    const ms = Math.max(0, Math.round((frame.dts - this.baseDts) / 90));
    this.lastMs = ms;
    return flvTag(isVideoTrack(track) ? TAG_VIDEO : TAG_AUDIO, ms, this.bodies.body(frame, track));
  }

  private sequenceHeaders(tracks: readonly Track[], ms: number): Buffer[] {
    this.tracksById = new Map(tracks.map((t) => [t.id, t]));
    const out: Buffer[] = [];
    for (const track of tracks) {
      if (isVideoTrack(track)) {
        out.push(...flvTag(TAG_VIDEO, ms, [videoSequenceHeaderBody(track, this.bodies.hevcMode)]));
      } else {
        const body = audioSequenceHeaderBody(track);
        if (body) out.push(...flvTag(TAG_AUDIO, ms, [body]));
      }
    }
    return out;
  }
}
