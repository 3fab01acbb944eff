import type { Frame } from '../../core/frame';
import { isVideoTrack, type Track } from '../../core/track';
import { movieFragment, type Mp4Sample, type Mp4TrackRun } from './fragment';
import { initSegment, mp4Timescale, mp4TrackId } from './init';

export interface Fmp4MuxerOptions {
  /** Without video, a fragment is closed after this many 90 kHz ticks of audio. Default 1 s. */
  readonly audioFragmentTicks?: number;
}

interface PendingSample {
  /** Decode time in the track's timescale. */
  readonly dts: number;
  readonly compositionOffset: number;
  readonly sync: boolean;
  readonly size: number;
  readonly data: Buffer[];
}

interface TrackState {
  readonly track: Track;
  readonly timescale: number;
  readonly samples: PendingSample[];
  /** Used for the last sample of a fragment when nothing follows it yet. */
  lastDuration: number;
}

const DEFAULT_VIDEO_DURATION = 3600; // 25 fps at 90 kHz

/**
 * Fragmented MP4 for one stream of hub frames: `start` gives the init segment (ftyp + moov),
 * `frame` collects samples and returns a movie fragment (moof + mdat) each time a video keyframe
 * opens a new GOP (audio-only: every `audioFragmentTicks`), `end` flushes the last one. Times
 * start at 0 at the first frame. Keeps the frames' Buffers until their fragment is returned
 * (one GOP); the NAL units get 4-byte length prefixes, never a copy.
 */
export class Fmp4Muxer {
  private readonly states = new Map<number, TrackState>();
  private hasVideo = false;
  private sequence = 1;
  private base: number | undefined;
  private fragmentStartDts: number | undefined;
  private readonly audioFragmentTicks: number;

  constructor(options: Fmp4MuxerOptions = {}) {
    this.audioFragmentTicks = options.audioFragmentTicks ?? 90_000;
  }

  /** The init segment for these (ready) tracks. */
  start(tracks: readonly Track[]): Buffer[] {
    this.states.clear();
    for (const track of tracks) {
      this.states.set(track.id, { track, timescale: mp4Timescale(track), samples: [], lastDuration: 0 });
    }
    this.hasVideo = tracks.some(isVideoTrack);
    return [initSegment(tracks)];
  }

  frame(frame: Frame): Buffer[] {
    const state = this.states.get(frame.trackId);
    if (!state) return [];
    this.base ??= frame.dts;
    const video = isVideoTrack(state.track);
    const out = this.shouldFlush(frame, video) ? this.flush(frame.dts) : [];
    this.fragmentStartDts ??= frame.dts;
    state.samples.push(sampleOf(frame, state, this.base, video));
    return out;
  }

  /** The last fragment (empty when nothing is pending). */
  end(): Buffer[] {
    return this.flush(undefined);
  }

  private shouldFlush(frame: Frame, video: boolean): boolean {
    if (this.fragmentStartDts === undefined) return false;
    if (this.hasVideo) return video && frame.keyframe;
    return frame.dts - this.fragmentStartDts >= this.audioFragmentTicks;
  }

  /** Closes the pending fragment; `nextDts` (90 kHz) is the frame that follows it, if known. */
  private flush(nextDts: number | undefined): Buffer[] {
    const runs: Mp4TrackRun[] = [];
    for (const state of this.states.values()) {
      if (state.samples.length === 0) continue;
      const next = nextDts === undefined ? undefined : toTimescale(nextDts - (this.base ?? 0), state.timescale);
      runs.push(runOf(state, next));
      state.samples.length = 0;
    }
    this.fragmentStartDts = undefined;
    if (runs.length === 0) return [];
    return movieFragment(this.sequence++, runs);
  }
}

function toTimescale(ticks: number, timescale: number): number {
  return Math.max(0, timescale === 90_000 ? ticks : Math.round((ticks * timescale) / 90_000));
}

function sampleOf(frame: Frame, state: TrackState, base: number, video: boolean): PendingSample {
  const dts = toTimescale(frame.dts - base, state.timescale);
  const compositionOffset = toTimescale(frame.pts - frame.dts, state.timescale);
  if (!video) return { dts, compositionOffset: 0, sync: true, size: frame.byteLength, data: [...frame.units] };
  const lengths = Buffer.allocUnsafe(4 * frame.units.length);
  const data: Buffer[] = [];
  let size = 0;
  frame.units.forEach((unit, i) => {
    lengths.writeUInt32BE(unit.length, 4 * i);
    data.push(lengths.subarray(4 * i, 4 * i + 4), unit);
    size += 4 + unit.length;
  });
  return { dts, compositionOffset, sync: frame.keyframe, size, data };
}

/** Durations from the next sample's decode time; the last one from `next` or the last seen. */
function runOf(state: TrackState, next: number | undefined): Mp4TrackRun {
  const pending = state.samples;
  const samples: Mp4Sample[] = [];
  for (let i = 0; i < pending.length; i++) {
    const sample = pending[i]!;
    const following = pending[i + 1]?.dts ?? next;
    let duration = following !== undefined && following > sample.dts ? following - sample.dts : state.lastDuration;
    if (duration <= 0) duration = defaultDuration(state);
    state.lastDuration = duration;
    samples.push({ duration, size: sample.size, compositionOffset: sample.compositionOffset, sync: sample.sync, data: sample.data });
  }
  return { trackId: mp4TrackId(state.track), baseDecodeTime: pending[0]!.dts, samples };
}

function defaultDuration(state: TrackState): number {
  const track = state.track;
  if (isVideoTrack(track)) return DEFAULT_VIDEO_DURATION;
  return track.codec === 'aac' ? 1024 : 160; // AAC frame; 20 ms of G.711
}
