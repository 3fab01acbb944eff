import { ParseError } from '../../core/errors';
import type { Frame } from '../../core/frame';
import type { Track } from '../../core/track';
import { FlvBodyDecoder, FlvDemuxer, FLV_TAG_AUDIO, FLV_TAG_VIDEO, flvFileHeader } from '../../formats/flv';
import type { AccessUnit } from '../../../rtp/access-unit';
import { EsAssembler } from '../../../rtp/es/es-assembler';
import { FrameAssembler } from '../../../rtp/frame-assembler';
import { TsDemuxer } from '../../formats/mpegts/demuxer';

/**
 * What a recorded segment decodes to: Track values and Frames, each frame with `srcTicks`, its
 * decode time on the file's own clock (90 kHz), so that a read that starts mid-file can be
 * placed against the head of the same file.
 */
export type DecodedItem = { readonly kind: 'tracks'; readonly tracks: readonly Track[] } | { readonly kind: 'frame'; readonly frame: Frame; readonly srcTicks: number };

export interface SegmentDecoder {
  feed(chunk: Buffer): DecodedItem[];
  /** End of file: what is still being assembled. */
  end(): DecodedItem[];
  readonly tracks: readonly Track[];
}

/** FLV timestamps are 32-bit ms; TS clocks 33-bit ticks: deltas are taken modulo these. */
export const FLV_CLOCK_TICKS = 2 ** 32 * 90;
export const TS_CLOCK_TICKS = 2 ** 33;

export function clockDelta(a: number, b: number, modulo: number): number {
  let d = (a - b) % modulo;
  if (d >= modulo / 2) d -= modulo;
  if (d < -modulo / 2) d += modulo;
  return d;
}

/** FLV segments: the project's FLV demuxer and body decoder (the same as RTMP publish uses). */
export class FlvSegmentDecoder implements SegmentDecoder {
  private demuxer = new FlvDemuxer();
  private readonly body: FlvBodyDecoder;

  constructor(body?: FlvBodyDecoder) {
    this.body = body ?? new FlvBodyDecoder(() => 0);
  }

  get tracks(): readonly Track[] {
    return this.body.tracks;
  }

  /**
   * A decoder that continues this one's codec state (sequence headers seen in the head) on bytes
   * that start at a tag boundary in the middle of the file.
   */
  resumeAtTag(): FlvSegmentDecoder {
    const next = new FlvSegmentDecoder(this.body);
    next.demuxer.feed(flvFileHeader({ hasVideo: true, hasAudio: true }));
    return next;
  }

  feed(chunk: Buffer): DecodedItem[] {
    const out: DecodedItem[] = [];
    for (const tag of this.demuxer.feed(chunk)) {
      if (tag.type !== FLV_TAG_VIDEO && tag.type !== FLV_TAG_AUDIO) continue;
      const decoded = tag.type === FLV_TAG_VIDEO ? this.body.video(tag.timestampMs, tag.body) : this.body.audio(tag.timestampMs, tag.body);
      if (decoded.track) out.push({ kind: 'tracks', tracks: this.body.tracks });
      if (decoded.frame) out.push({ kind: 'frame', frame: decoded.frame, srcTicks: decoded.frame.dts });
    }
    return out;
  }

  end(): DecodedItem[] {
    return [];
  }
}

/**
 * TS segments (TS and HLS recordings): the project's TS demuxer, elementary-stream assembler and
 * frame assembler (the same chain as TS over RTP ingest). `srcTicks` is the unwrapped PES clock.
 */
export class TsSegmentDecoder implements SegmentDecoder {
  private readonly frames: FrameAssembler;
  private readonly es: EsAssembler;
  private readonly demuxer: TsDemuxer;
  private out: DecodedItem[] = [];
  private rawTicks = 0;

  constructor() {
    this.frames = new FrameAssembler(
      {
        resumeDts: 0,
        setTracks: (tracks) => this.out.push({ kind: 'tracks', tracks: [...tracks] }),
        write: (frame) => this.out.push({ kind: 'frame', frame, srcTicks: this.rawTicks }),
      },
      { now: () => 0 },
    );
    this.es = new EsAssembler(
      {
        onDeclared: (declared) => this.frames.onDeclared(declared),
        onAccessUnit: (au: AccessUnit) => {
          this.rawTicks = au.kind === 'video' ? au.dts : au.pts;
          this.frames.onAccessUnit(au);
        },
      },
      { earlyFlush: false },
    );
    this.demuxer = new TsDemuxer(this.es);
  }

  get tracks(): readonly Track[] {
    return this.frames.tracks;
  }

  feed(chunk: Buffer): DecodedItem[] {
    this.demuxer.feed(chunk);
    return this.take();
  }

  end(): DecodedItem[] {
    this.es.end();
    return this.take();
  }

  private take(): DecodedItem[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

/** Spec: FLV v10.1 §E.4.1: a tag header (type 8/9, StreamID 0) whose PreviousTagSize matches. */
export function findFlvTagStart(buf: Buffer, from = 0, maxTagSize = 16 * 1024 * 1024): number | 'more' | -1 {
  for (let p = from; p + 11 <= buf.length; p++) {
    const type = buf[p]!;
    if (type !== FLV_TAG_VIDEO && type !== FLV_TAG_AUDIO) continue;
    if (buf[p + 8] !== 0 || buf[p + 9] !== 0 || buf[p + 10] !== 0) continue;
    const size = buf.readUIntBE(p + 1, 3);
    if (size === 0 || size > maxTagSize) continue;
    const trailer = p + 11 + size;
    if (trailer + 4 > buf.length) return 'more';
    if (buf.readUInt32BE(trailer) === 11 + size) return p;
  }
  return -1;
}

export function decoderFor(format: string): SegmentDecoder {
  if (format === 'flv') return new FlvSegmentDecoder();
  if (format === 'ts' || format === 'hls') return new TsSegmentDecoder();
  throw new ParseError(`recordings in ${format} cannot be read`);
}
