import type { AudioCodec } from '../../src/core/codec';
import { ParseError } from '../../src/core/errors';
import { parseAdtsHeader, type AdtsHeader } from '../../src/codecs/aac/adts';
import { STREAM_TYPE } from '../../src/formats/mpegts/constants';

/**
 * Turns one audio elementary stream (PES payloads) into access units: ADTS AAC split into raw
 * frames (a frame may span PES), G.711 one access unit per PES. The codec comes from the
 * PSM/PMT stream type, except that ADTS sync words win over a G.711 label (cameras that label
 * AAC as 0x90, ZLMediaKit#1872); without a label it is guessed from the payload.
 * Every emitted frame owns its bytes (copied out of the packet buffers).
 */

export interface RawAudioAu {
  readonly codec: AudioCodec;
  /** One raw access unit (AAC without ADTS header, or G.711 samples). */
  readonly data: Buffer;
  /** Unwrapped 90 kHz time, extrapolated from the last PES PTS when this frame had none. */
  readonly pts?: number;
  /** AAC: the header the frame came with (the track's configuration). */
  readonly adts?: AdtsHeader;
}

export interface AudioEsStats {
  accessUnits: number;
  errors: number;
  droppedBytes: number;
  /** The PSM said G.711 but the payload carries ADTS. */
  mislabelled: boolean;
}

export type AudioGuess = AudioCodec | 'unsupported';

/** AAC frames carry 1024 samples (960 variants are not used by cameras). */
const AAC_FRAME_SAMPLES = 1024;
/** Frames held while waiting for the first PTS. */
const MAX_UNTIMED_FRAMES = 16;
/** A G.711 PES longer than this is not audio from a camera. */
const MAX_G711_PES_BYTES = 64 * 1024;

/** ADTS: 12-bit sync and layer 00. */
function hasAdtsSync(buf: Buffer, offset = 0): boolean {
  return buf.length - offset >= 2 && buf[offset] === 0xff && (buf[offset + 1]! & 0xf6) === 0xf0;
}

/** MPEG-1/2 audio (MP2/MP3): 11-bit sync and a layer other than 00. */
function hasMpegAudioSync(buf: Buffer): boolean {
  return buf.length >= 2 && buf[0] === 0xff && (buf[1]! & 0xe0) === 0xe0 && (buf[1]! & 0x06) !== 0;
}

/** Decides the codec of an audio stream from its label and its first payload bytes. */
export function guessAudioCodec(streamType: number | undefined, first: Buffer, fallback: 'g711a' | 'g711u'): AudioGuess {
  if (hasAdtsSync(first)) return 'aac';
  switch (streamType) {
    case STREAM_TYPE.AAC_ADTS:
    case STREAM_TYPE.AAC_RAW:
      return 'aac';
    case STREAM_TYPE.G711A:
      return 'g711a';
    case STREAM_TYPE.G711U:
      return 'g711u';
    case undefined:
      return hasMpegAudioSync(first) ? 'unsupported' : fallback;
    default:
      return 'unsupported';
  }
}

export class AudioEs {
  readonly stats: AudioEsStats = { accessUnits: 0, errors: 0, droppedBytes: 0, mislabelled: false };
  private codecValue: AudioGuess | undefined;
  private remainder: Buffer | undefined;
  private g711: Buffer[] = [];
  private g711Bytes = 0;
  /** PTS of the frame that starts at the head of the pending data. */
  private headPts: number | undefined;
  /** PTS of the frame after the one spanning a PES boundary. */
  private queuedPts: number | undefined;
  private nextPts: number | undefined;
  private readonly waiting: { au: RawAudioAu; duration: number }[] = [];

  constructor(
    private readonly streamType: number | undefined,
    private readonly fallback: 'g711a' | 'g711u',
    private readonly emit: (au: RawAudioAu) => void,
  ) {}

  get codec(): AudioGuess | undefined {
    return this.codecValue;
  }

  pesStart(pts: number | undefined): void {
    if (this.codecValue !== 'aac') this.flushG711();
    if (pts === undefined) return;
    // The PTS belongs to the first frame that starts in this PES: the next one to start, or,
    // when a frame spans the boundary, the one after it.
    if (this.remainder === undefined) this.headPts = pts;
    else this.queuedPts = pts;
  }

  data(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.codecValue === undefined) {
      this.codecValue = guessAudioCodec(this.streamType, chunk, this.fallback);
      this.stats.mislabelled = this.codecValue === 'aac' && (this.streamType === STREAM_TYPE.G711A || this.streamType === STREAM_TYPE.G711U);
    }
    if (this.codecValue === 'unsupported') {
      this.stats.droppedBytes += chunk.length;
    } else if (this.codecValue === 'aac') {
      this.aac(chunk);
    } else if (this.g711Bytes + chunk.length > MAX_G711_PES_BYTES) {
      this.stats.errors++;
      this.stats.droppedBytes += this.g711Bytes + chunk.length;
      this.g711 = [];
      this.g711Bytes = 0;
    } else {
      this.g711.push(chunk);
      this.g711Bytes += chunk.length;
    }
  }

  pesEnd(): void {
    if (this.codecValue === 'g711a' || this.codecValue === 'g711u') this.flushG711();
  }

  discontinuity(): void {
    for (const w of this.waiting.splice(0)) this.stats.droppedBytes += w.au.data.length;
    this.stats.droppedBytes += (this.remainder?.length ?? 0) + this.g711Bytes;
    this.remainder = undefined;
    this.g711 = [];
    this.g711Bytes = 0;
    this.headPts = undefined;
    this.queuedPts = undefined;
  }

  private flushG711(): void {
    if (this.g711Bytes === 0) return;
    const codec = this.codecValue as 'g711a' | 'g711u';
    const data = Buffer.concat(this.g711, this.g711Bytes);
    this.g711 = [];
    this.g711Bytes = 0;
    const pts = this.takePts();
    const duration = (data.length * 90_000) / 8000;
    if (pts !== undefined) this.nextPts = pts + duration;
    this.output({ codec, data, ...(pts !== undefined ? { pts } : {}) }, duration);
  }

  /** The time of the frame at the head of the data: its PES PTS, else extrapolated. */
  private takePts(): number | undefined {
    const pts = this.headPts ?? this.nextPts;
    this.headPts = this.queuedPts;
    this.queuedPts = undefined;
    return pts === undefined ? undefined : Math.round(pts);
  }

  private aac(chunk: Buffer): void {
    const buf = this.remainder ? Buffer.concat([this.remainder, chunk]) : chunk;
    this.remainder = undefined;
    let o = 0;
    while (o < buf.length) {
      let header: AdtsHeader | undefined;
      try {
        header = parseAdtsHeader(buf, o);
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
        // Garbage where a frame should start: skip to the next plausible ADTS header.
        this.stats.errors++;
        const next = this.findSync(buf, o + 1);
        const resume = next < 0 ? Math.max(o + 1, buf.length - 1) : next;
        this.stats.droppedBytes += resume - o;
        this.headPts = undefined;
        o = resume;
        continue;
      }
      if (!header || header.frameLength > buf.length - o) break;
      this.emitAac(buf.subarray(o + header.headerLength, o + header.frameLength), header);
      o += header.frameLength;
    }
    if (o < buf.length) this.remainder = Buffer.from(buf.subarray(o));
  }

  private findSync(buf: Buffer, from: number): number {
    for (let i = buf.indexOf(0xff, from); i >= 0; i = buf.indexOf(0xff, i + 1)) {
      if (!hasAdtsSync(buf, i)) continue;
      try {
        parseAdtsHeader(buf, i);
        return i;
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
      }
    }
    return -1;
  }

  private emitAac(frame: Buffer, config: AdtsHeader): void {
    const pts = this.takePts();
    const duration = (AAC_FRAME_SAMPLES * 90_000) / config.sampleRate;
    if (pts !== undefined) this.nextPts = pts + duration;
    this.output({ codec: 'aac', data: Buffer.from(frame), adts: config, ...(pts !== undefined ? { pts } : {}) }, duration);
  }

  /**
   * Frames before the first PTS wait (a few) and are back-dated from it, rather than lost or
   * timed on another clock; once the wait is full they go out untimed.
   */
  private output(au: RawAudioAu, duration: number): void {
    this.stats.accessUnits++;
    if (au.pts === undefined && this.nextPts === undefined && this.waiting.length < MAX_UNTIMED_FRAMES) {
      this.waiting.push({ au, duration });
      return;
    }
    if (au.pts !== undefined && this.waiting.length > 0) {
      let t = au.pts;
      for (const w of this.waiting) t -= w.duration;
      for (const w of this.waiting.splice(0)) {
        this.emit({ ...w.au, pts: Math.round(t) });
        t += w.duration;
      }
    }
    for (const w of this.waiting.splice(0)) this.emit(w.au);
    this.emit(au);
  }
}
