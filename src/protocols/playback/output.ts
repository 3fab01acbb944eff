import type { Frame } from '../../core/frame';
import type { Track } from '../../core/track';
import { FLV_TAG_SCRIPT, flvTag } from '../../formats/flv';
import type { HevcMode } from '../../formats/flv/bodies';
import { FlvTagCache, FlvViewerMuxer } from '../../formats/flv/viewer-muxer';
import { encodeAmf0 } from '../../formats/amf0/amf0';
import { Fmp4Muxer } from '../../formats/mp4/muxer';
import { TsMuxer } from '../../formats/mpegts/muxer';
import type { Interval } from './range-plan';

export type PlaybackFormat = 'flv' | 'ts' | 'mp4';

/** Turns a range's events into one container's bytes. */
export interface RangeMuxer {
  readonly contentType: string;
  tracks(tracks: readonly Track[]): Buffer[];
  frame(frame: Frame): Buffer[];
  /** A gap was closed here (FLV: a script tag players may show; others: nothing in-band). */
  gap(gap: Interval, atDts: number): Buffer[];
  end(): Buffer[];
}

export const CONTENT_TYPES: Readonly<Record<PlaybackFormat, string>> = { flv: 'video/x-flv', ts: 'video/mp2t', mp4: 'video/mp4' };

class FlvRangeMuxer implements RangeMuxer {
  readonly contentType = CONTENT_TYPES.flv;
  private readonly muxer: FlvViewerMuxer;
  private started = false;

  constructor(hevcMode: HevcMode) {
    this.muxer = new FlvViewerMuxer(new FlvTagCache(hevcMode));
  }

  tracks(tracks: readonly Track[]): Buffer[] {
    if (this.started) return this.muxer.tracks(tracks);
    this.started = true;
    return this.muxer.start({ path: '', tracks });
  }

  frame(frame: Frame): Buffer[] {
    return this.started ? this.muxer.frame(frame) : [];
  }

  /** An `onPlaybackGap` script tag with the wall-clock interval that is missing. */
  gap(gap: Interval, atDts: number): Buffer[] {
    if (!this.started) return [];
    const body = encodeAmf0('onPlaybackGap', { start: new Date(gap.startMs).toISOString(), end: new Date(gap.endMs).toISOString() });
    return flvTag(FLV_TAG_SCRIPT, Math.round(atDts / 90), [body]);
  }

  end(): Buffer[] {
    return [];
  }
}

class TsRangeMuxer implements RangeMuxer {
  readonly contentType = CONTENT_TYPES.ts;
  private readonly muxer = new TsMuxer();

  tracks(tracks: readonly Track[]): Buffer[] {
    this.muxer.setTracks(tracks);
    return [];
  }

  frame(frame: Frame): Buffer[] {
    const out = this.muxer.frame(frame);
    return out ? [out.data] : [];
  }

  gap(): Buffer[] {
    return [];
  }

  end(): Buffer[] {
    return [];
  }
}

/** fMP4 cannot change its tracks mid-file: later track changes keep the first init segment. */
class Mp4RangeMuxer implements RangeMuxer {
  readonly contentType = CONTENT_TYPES.mp4;
  private readonly muxer = new Fmp4Muxer();
  private started = false;

  tracks(tracks: readonly Track[]): Buffer[] {
    if (this.started) return [];
    this.started = true;
    return this.muxer.start(tracks);
  }

  frame(frame: Frame): Buffer[] {
    return this.started ? this.muxer.frame(frame) : [];
  }

  gap(): Buffer[] {
    return [];
  }

  end(): Buffer[] {
    return this.muxer.end();
  }
}

export function rangeMuxer(format: PlaybackFormat, hevcMode: HevcMode): RangeMuxer {
  if (format === 'flv') return new FlvRangeMuxer(hevcMode);
  if (format === 'ts') return new TsRangeMuxer();
  return new Mp4RangeMuxer();
}

/**
 * Real-time pacing at `speed`: a frame leaves when the wall clock since the first one reaches
 * its timestamp divided by the speed. Returns how long to wait (0: now).
 */
export class Pacer {
  private startedAt: number | undefined;
  private firstDts = 0;

  constructor(
    private readonly speed: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  delayMs(dts: number): number {
    const now = this.now();
    if (this.startedAt === undefined) {
      this.startedAt = now;
      this.firstDts = dts;
      return 0;
    }
    const due = this.startedAt + (dts - this.firstDts) / 90 / this.speed;
    return Math.max(0, due - now);
  }
}
