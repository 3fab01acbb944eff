import type { VideoCodec } from '../../src/core/codec';
import { NAL_CLASSIFY_BYTES, NalClass, classifyNal, guessCodecFromNal, isVcl } from './nal-scan';

/**
 * Splits one video elementary stream (the concatenated PES payloads of a PS or TS stream) into
 * access units at NAL level: a new access unit starts at an AUD, parameter set, SEI or first
 * slice following a slice of the previous picture, or at the first NAL of a PES with a new PTS.
 * This works for GB28181 packing (a PES per frame, or a frame split over several PES with or
 * without repeated PTS) and for generic program streams whose PES do not align with frames.
 *
 * Accepts Annex B and, for odd muxers, 4-byte length-prefixed (AVCC) payload. Copies the data
 * it is given into a working buffer; each emitted access unit owns one exact-size Buffer.
 */

export interface RawVideoAu {
  readonly codec: VideoCodec;
  /** NAL units without start codes (subarrays of one Buffer owned by this access unit). */
  readonly units: Buffer[];
  /** Unwrapped 90 kHz PES timestamps, when the PES that opened the access unit had them. */
  readonly pts?: number;
  readonly dts?: number;
  /** RTP timestamp of the packet during which the access unit started, when fed from RTP. */
  readonly rtpTimestamp?: number;
}

export interface VideoEsStats {
  accessUnits: number;
  /** Access units dropped incomplete (loss, garbage, oversize). */
  droppedAccessUnits: number;
  /** Bytes thrown away while waiting for the start of an access unit. */
  droppedBytes: number;
}

/** One access unit may not exceed this (a 4K intra frame is a few MB). */
export const MAX_ACCESS_UNIT_BYTES = 16 * 1024 * 1024;
/** Bytes kept while the codec is still unknown (no parameter set or AUD seen yet). */
const MAX_UNDECIDED_BYTES = 1024 * 1024;
const INITIAL_CAPACITY = 64 * 1024;
const START_CODE = Buffer.from([0, 0, 1]);

interface Nal {
  start: number;
  /** -1 until the next start code is found (Annex B). */
  end: number;
}

interface Times {
  pts?: number;
  dts?: number;
}

export class VideoEs {
  readonly stats: VideoEsStats = { accessUnits: 0, droppedAccessUnits: 0, droppedBytes: 0 };
  private work = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private len = 0;
  private format: 'annexb' | 'avcc' | undefined;
  private scanPos = 0;
  private nals: Nal[] = [];
  private auOpen = false;
  private hasVcl = false;
  private auTimes: Times = {};
  private auRtp: number | undefined;
  private pending: Times | undefined;
  /** Work offset where a PES with a new PTS began: a NAL starting right there opens an AU. */
  private forceAt = -1;
  private rtpTimestamp: number | undefined;
  /** After loss: skip data until a PES with a new time. */
  private skip: { pts?: number; rtp?: number } | undefined;
  /** AVCC framing lost: wait for a PES start to find NAL boundaries again. */
  private avccLost = false;

  constructor(
    private codecValue: VideoCodec | undefined,
    private readonly emit: (au: RawVideoAu) => void,
  ) {}

  get codec(): VideoCodec | undefined {
    return this.codecValue;
  }

  /** Time of the access unit being assembled. */
  get currentPts(): number | undefined {
    return this.auOpen ? this.auTimes.pts : undefined;
  }

  setRtpTimestamp(ts: number): void {
    this.rtpTimestamp = ts;
  }

  /** A PES of this stream starts; timestamps already unwrapped. */
  pesStart(pts: number | undefined, dts: number | undefined): void {
    if (this.skip) {
      const newTime = pts !== undefined ? pts !== this.skip.pts : this.skip.rtp === undefined || this.rtpTimestamp !== this.skip.rtp;
      if (!newTime) return;
      this.skip = undefined;
    }
    if (this.avccLost) {
      this.avccLost = false;
      this.discard(this.len);
    }
    if (pts === undefined || (this.auOpen && pts === this.auTimes.pts)) return;
    this.pending = dts === undefined ? { pts } : { pts, dts };
    this.forceAt = this.len;
  }

  data(chunk: Buffer): void {
    if (this.skip || this.avccLost) {
      this.stats.droppedBytes += chunk.length;
      return;
    }
    if (this.len + chunk.length > MAX_ACCESS_UNIT_BYTES) {
      this.dropAll();
      this.stats.droppedBytes += chunk.length;
      return;
    }
    this.reserve(chunk.length);
    chunk.copy(this.work, this.len);
    this.len += chunk.length;
    this.scan(false);
  }

  /** The access unit in progress is complete (RTP marker, timestamp change): emit it now. */
  flush(): void {
    if (!this.auOpen || !this.hasVcl || this.skip) return;
    this.scan(true);
    if (this.format === 'avcc' && this.scanPos !== this.len) return;
    this.emitAu(this.len);
    this.auOpen = false;
  }

  /** Data was lost: drop the access unit in progress and the rest of its picture. */
  discontinuity(): void {
    if (this.auOpen || this.len > 0) {
      const pts = this.auOpen ? this.auTimes.pts : this.pending?.pts;
      const rtp = this.auOpen ? this.auRtp : this.rtpTimestamp;
      this.skip = { ...(pts !== undefined ? { pts } : {}), ...(rtp !== undefined ? { rtp } : {}) };
    }
    if (this.auOpen) this.stats.droppedAccessUnits++;
    this.dropAll();
    if (this.format === 'avcc') this.avccLost = true;
  }

  private dropAll(): void {
    if (this.auOpen && this.len > 0) this.stats.droppedBytes += this.len;
    this.len = 0;
    this.scanPos = 0;
    this.nals = [];
    this.auOpen = false;
    this.hasVcl = false;
    this.pending = undefined;
    this.forceAt = -1;
  }

  private reserve(extra: number): void {
    if (this.len + extra <= this.work.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.work.length * 2, this.len + extra));
    this.work.copy(next, 0, 0, this.len);
    this.work = next;
  }

  /** Forgets the first `count` bytes of the working buffer (nothing of an open AU). */
  private discard(count: number): void {
    if (count <= 0) return;
    this.work.copy(this.work, 0, count, this.len);
    this.len -= count;
    this.scanPos = Math.max(0, this.scanPos - count);
    this.forceAt = this.forceAt >= count ? this.forceAt - count : -1;
    for (const nal of this.nals) {
      nal.start -= count;
      if (nal.end >= 0) nal.end -= count;
    }
  }

  private scan(final: boolean): void {
    if (this.format === undefined && !this.detectFormat(final)) return;
    if (this.format === 'annexb') this.scanAnnexB(final);
    else this.scanAvcc();
    if (!this.auOpen) this.trimUnopened();
  }

  private detectFormat(final: boolean): boolean {
    if (this.len < 8 && !final) return false;
    const w = this.work;
    const startCode = w[0] === 0 && w[1] === 0 && (w[2] === 1 || (w[2] === 0 && w[3] === 1));
    if (!startCode && this.len >= 8) {
      const length = w.readUInt32BE(0);
      if (length > 0 && length < MAX_ACCESS_UNIT_BYTES && (w[4]! & 0x80) === 0 && (4 + length === this.len || this.plausibleAvccAt(4 + length))) {
        this.format = 'avcc';
        return true;
      }
    }
    this.format = 'annexb';
    return true;
  }

  private plausibleAvccAt(offset: number): boolean {
    if (offset + 5 > this.len) return false;
    const length = this.work.readUInt32BE(offset);
    return length > 0 && length < MAX_ACCESS_UNIT_BYTES && (this.work[offset + 4]! & 0x80) === 0;
  }

  private scanAnnexB(final: boolean): void {
    let view = this.work.subarray(0, this.len);
    for (;;) {
      const p = view.indexOf(START_CODE, this.scanPos);
      if (p < 0) {
        this.scanPos = Math.max(this.scanPos, this.len - 2);
        break;
      }
      const header = p + 3;
      const available = this.len - header;
      if (available < NAL_CLASSIFY_BYTES && !(final && available > 0)) {
        this.scanPos = p;
        break;
      }
      this.scanPos = header;
      const before = this.len;
      if (this.nalFound(p, header, -1)) {
        // the codec was just decided: classify everything again from the start
        this.scanPos = 0;
        this.nals = [];
        continue;
      }
      // emitting an access unit moves the bytes that follow it to the front
      if (this.len !== before) view = this.work.subarray(0, this.len);
    }
    if (final && this.auOpen) this.closeLastNal(this.len);
  }

  private scanAvcc(): void {
    while (this.len - this.scanPos >= 4 + NAL_CLASSIFY_BYTES) {
      const length = this.work.readUInt32BE(this.scanPos);
      if (length === 0 || length > MAX_ACCESS_UNIT_BYTES || (this.work[this.scanPos + 4]! & 0x80) !== 0) {
        if (this.auOpen) this.stats.droppedAccessUnits++;
        this.dropAll();
        this.avccLost = true;
        return;
      }
      const header = this.scanPos + 4;
      this.scanPos = header + length;
      if (this.nalFound(header - 4, header, header + length)) {
        this.scanPos = 0;
        this.nals = [];
      }
    }
  }

  /** Handles a NAL found at `header` (its framing starts at `framing`). True if the codec was just decided. */
  private nalFound(framing: number, header: number, end: number): boolean {
    if (this.codecValue === undefined) {
      const guess = guessCodecFromNal(this.work, header, this.len - header);
      if (guess === undefined) return false;
      this.codecValue = guess;
      return true;
    }
    const cls = classifyNal(this.codecValue, this.work, header, this.len - header);
    const forced = this.forceAt >= 0 && framing >= this.forceAt - 1 && framing <= this.forceAt + 1;
    if (this.forceAt >= 0 && framing > this.forceAt + 1) this.forceAt = -1;
    const startsAu = forced || cls === NalClass.AuStart || cls === NalClass.FirstSlice;
    if (this.auOpen && this.hasVcl && startsAu) {
      this.closeLastNal(framing);
      this.emitAu(framing);
      this.auOpen = false;
      header -= framing;
      if (end >= 0) end -= framing;
      framing = 0;
    }
    if (!this.auOpen) {
      if (!startsAu) return false;
      this.countDropped(framing);
      this.discard(framing);
      header -= framing;
      if (end >= 0) end -= framing;
      this.openAu();
    } else {
      this.closeLastNal(framing);
    }
    this.nals.push({ start: header, end });
    if (isVcl(cls)) this.hasVcl = true;
    return false;
  }

  private openAu(): void {
    this.auOpen = true;
    this.hasVcl = false;
    this.nals = [];
    this.auTimes = this.pending ?? {};
    this.pending = undefined;
    this.forceAt = -1;
    this.auRtp = this.rtpTimestamp;
  }

  private closeLastNal(at: number): void {
    const last = this.nals[this.nals.length - 1];
    if (!last || last.end >= 0) return;
    let end = at;
    while (end > last.start && this.work[end - 1] === 0) end--;
    last.end = end;
  }

  /** Emits the access unit occupying work[0, end) and moves what follows to the front. */
  private emitAu(end: number): void {
    const frame = Buffer.allocUnsafe(end);
    this.work.copy(frame, 0, 0, end);
    const units: Buffer[] = [];
    for (const nal of this.nals) {
      const nalEnd = Math.min(nal.end < 0 ? end : nal.end, end);
      if (nalEnd > nal.start) units.push(frame.subarray(nal.start, nalEnd));
    }
    this.nals = [];
    this.discard(end);
    this.stats.accessUnits++;
    this.emit({
      codec: this.codecValue!,
      units,
      ...(this.auTimes.pts !== undefined ? { pts: this.auTimes.pts } : {}),
      ...(this.auTimes.dts !== undefined ? { dts: this.auTimes.dts } : {}),
      ...(this.auRtp !== undefined ? { rtpTimestamp: this.auRtp } : {}),
    });
  }

  /** With no access unit open, keep only what may still hold the start of one. */
  private trimUnopened(): void {
    if (this.codecValue === undefined) {
      if (this.len > MAX_UNDECIDED_BYTES) {
        this.stats.droppedBytes += this.len;
        this.len = 0;
        this.scanPos = 0;
        this.forceAt = -1;
      }
      return;
    }
    const keepFrom = this.format === 'avcc' ? this.scanPos : Math.min(this.scanPos, Math.max(0, this.len - 2));
    const drop = Math.min(keepFrom, this.forceAt >= 0 ? Math.max(0, this.forceAt - 1) : keepFrom);
    if (drop > 0) {
      this.countDropped(drop);
      this.discard(drop);
    }
  }

  /** Counts thrown-away bytes, not the zero bytes of a 4-byte start code or trailing padding. */
  private countDropped(count: number): void {
    let n = count;
    while (n > 0 && this.work[n - 1] === 0) n--;
    this.stats.droppedBytes += n;
  }
}
