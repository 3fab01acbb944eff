import type { Frame } from '../../core/frame';
import type { FeedKey, StreamInfo } from '../../core/sink';
import { isVideoTrack, type Track } from '../../core/track';
import { flvFileHeader, flvTag, FLV_TAG_AUDIO, FLV_TAG_SCRIPT, FLV_TAG_VIDEO } from './tag';
import { audioFrameBody, audioSequenceHeaderBody, videoFrameBody, videoSequenceHeaderBody, type HevcMode } from './bodies';
import { onMetaDataBody } from './metadata';

/** FLV timestamps are 32-bit ms (24 bits + an extension byte): the stream clock wraps there. */
const FLV_CLOCK_WRAP = 2 ** 32;

export function flvTimestampMs(dts: number): number {
  return Math.round(dts / 90) % FLV_CLOCK_WRAP;
}

/**
 * The complete FLV tag (header, body, PreviousTagSize) of each frame, built once and shared by
 * every FLV viewer of one stream (hub rule 9): a viewer writes one Buffer per frame. Tags carry
 * the stream's own timeline, as RTMP play does, so the bytes are the same for all. Tags are
 * kept weakly by their frame, so the GOP cache replayed to a joiner is built once for all
 * joiners (not once per joiner), and a tag lives exactly as long as the hub keeps its frame.
 * The frame's payload is copied once per frame here; nothing is copied per viewer.
 */
export class FlvTagCache {
  private lastFrame: Frame | undefined;
  private lastTag: Buffer = Buffer.alloc(0);
  private readonly tags = new WeakMap<Frame, Buffer>();
  /** The last start (file header + onMetaData) and sequence headers built: every joiner of a GOP asks for the same. */
  private startMemo: { tracks: readonly Track[]; bytes: Buffer } | undefined;
  private headersMemo: { tracks: readonly Track[]; ms: number; bytes: Buffer } | undefined;

  constructor(readonly hevcMode: HevcMode) {}

  /**
   * The FLV file header and onMetaData tag for `tracks`, as one Buffer built once per set of
   * tracks (Track values are immutable: a new config is a new value), not once per viewer.
   */
  start(tracks: readonly Track[]): Buffer {
    if (this.startMemo && sameTracks(this.startMemo.tracks, tracks)) return this.startMemo.bytes;
    const header = flvFileHeader({ hasVideo: tracks.some(isVideoTrack), hasAudio: tracks.some((t) => !isVideoTrack(t)) });
    const bytes = Buffer.concat([header, ...flvTag(FLV_TAG_SCRIPT, 0, [onMetaDataBody(tracks, undefined, this.hevcMode)])]);
    this.startMemo = { tracks: [...tracks], bytes };
    return bytes;
  }

  /** The sequence header tags of `tracks` at `ms` as one Buffer (empty when no track has one), built once for every joiner of a GOP. */
  sequenceHeaders(tracks: readonly Track[], ms: number): Buffer {
    const memo = this.headersMemo;
    if (memo && memo.ms === ms && sameTracks(memo.tracks, tracks)) return memo.bytes;
    const parts: Buffer[] = [];
    for (const track of tracks) {
      if (isVideoTrack(track)) {
        parts.push(...flvTag(FLV_TAG_VIDEO, ms, [videoSequenceHeaderBody(track, this.hevcMode)]));
      } else {
        const body = audioSequenceHeaderBody(track);
        if (body) parts.push(...flvTag(FLV_TAG_AUDIO, ms, [body]));
      }
    }
    const bytes = Buffer.concat(parts);
    this.headersMemo = { tracks: [...tracks], ms, bytes };
    return bytes;
  }

  /** The tag of the frame asked for last, if `frame` is that one: viewers ask for each frame in turn, so every one after the first finds it here. */
  lastTagOf(frame: Frame): Buffer | undefined {
    return frame === this.lastFrame ? this.lastTag : undefined;
  }

  tag(frame: Frame, track: Track): Buffer {
    let tag = this.lastTagOf(frame) ?? this.tags.get(frame);
    if (!tag) {
      const video = isVideoTrack(track);
      const body = video ? videoFrameBody(frame, this.hevcMode) : audioFrameBody(frame, track);
      tag = Buffer.concat(flvTag(video ? FLV_TAG_VIDEO : FLV_TAG_AUDIO, flvTimestampMs(frame.dts), body));
      this.tags.set(frame, tag);
    }
    this.lastFrame = frame;
    this.lastTag = tag;
    return tag;
  }
}

function sameTracks(a: readonly Track[], b: readonly Track[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** The FLV tag feed of a stream per H.265 flavour (HTTP-FLV, WS-FLV, recorder, push lease it). */
export const FLV_TAG_FEEDS: Readonly<Record<HevcMode, FeedKey<FlvTagCache>>> = {
  enhanced: { name: 'flv-tags:enhanced', create: () => new FlvTagCache('enhanced') },
  legacy: { name: 'flv-tags:legacy', create: () => new FlvTagCache('legacy') },
};

/**
 * FLV for one viewer: file header and onMetaData at start, the sequence headers just before the
 * first frame (at its timestamp), then the shared tag of each frame.
 */
export class FlvViewerMuxer {
  private tracksById = new Map<number, Track>();
  private headersPending = true;
  private lastDts = 0;

  constructor(private readonly tags: FlvTagCache) {}

  start(info: Pick<StreamInfo, 'path' | 'tracks'>): Buffer[] {
    this.tracksById = new Map(info.tracks.map((t) => [t.id, t]));
    return [this.tags.start(info.tracks)];
  }

  /** New sequence headers after a mid-stream config change (new SPS, new ASC). */
  tracks(tracks: readonly Track[]): Buffer[] {
    this.tracksById = new Map(tracks.map((t) => [t.id, t]));
    if (this.headersPending) return [];
    return this.sequenceHeaders(flvTimestampMs(this.lastDts));
  }

  frame(frame: Frame): Buffer[] {
    const track = this.tracksById.get(frame.trackId);
    if (!track) return [];
    const tag = this.tags.tag(frame, track);
    this.lastDts = frame.dts;
    if (!this.headersPending) return [tag];
    this.headersPending = false;
    return [...this.sequenceHeaders(flvTimestampMs(frame.dts)), tag];
  }

  /**
   * The frame's shared tag when it goes out alone (the headers are out and another viewer built
   * it already): the fan-out path, with no lookup and no array per viewer. Undefined: use `frame()`.
   */
  sharedTag(frame: Frame): Buffer | undefined {
    if (this.headersPending) return undefined;
    const tag = this.tags.lastTagOf(frame);
    if (tag) this.lastDts = frame.dts;
    return tag;
  }

  private sequenceHeaders(ms: number): Buffer[] {
    const bytes = this.tags.sequenceHeaders([...this.tracksById.values()], ms);
    return bytes.length > 0 ? [bytes] : [];
  }
}
