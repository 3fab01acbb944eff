import { ParseError } from '../../core/errors';
import { PID_NULL, PID_PAT, STREAM_TYPE, TS_PACKET_SIZE, TS_SYNC_BYTE } from './constants';
import { pesStart, type EsKind, type EsSink, type EsStreamDecl } from './es-sink';
import { parsePesHeader } from './pes';
import { MAX_SECTION_LENGTH, parsePat, parsePmt } from './psi';

/**
 * The project's one MPEG-TS demuxer: TS byte streams and "TS over RTP" (payloads made of
 * 188-byte packets, RFC 2250 §2; rtp/ingest.ts): PAT -> PMT -> PES of the H.264/H.265/AAC (and
 * G.711) streams, reported to an EsSink with PIDs as stream ids. Continuity errors drop the
 * broken PES (and are counted); garbage is skipped by resynchronising on two sync bytes 188
 * bytes apart. Spec: ISO/IEC 13818-1 §2.4.3 (transport packets), §2.4.4 (PSI).
 *
 * Never throws on bad input. Payload handed to the sink is a subarray of the fed chunk.
 */

const SYNC = TS_SYNC_BYTE;
/** A PES header is at most 9 + 255 bytes (MPEG-2 syntax). */
const MAX_PES_HEADER = 9 + 255;

export interface TsDemuxerStats {
  packets: number;
  pes: number;
  unsupportedPes: number;
  continuityErrors: number;
  garbageBytes: number;
  errors: number;
}

interface PesState {
  kind: EsKind;
  streamType: number;
  supported: boolean;
  cc: number;
  open: boolean;
  remaining: number;
  /** Header bytes gathered when a PES header spans TS packets. */
  header: Buffer | undefined;
  /** random_access_indicator of the packet that started the PES being gathered. */
  randomAccess: boolean;
}

interface SectionState {
  cc: number;
  data: Buffer | undefined;
}

const VIDEO_TYPES = new Set<number>([STREAM_TYPE.H264, STREAM_TYPE.H265]);
const AUDIO_TYPES = new Set<number>([STREAM_TYPE.AAC_ADTS, STREAM_TYPE.AAC_RAW, STREAM_TYPE.G711A, STREAM_TYPE.G711U]);
const OTHER_AUDIO_TYPES = new Set<number>([STREAM_TYPE.MPEG1_AUDIO, STREAM_TYPE.MPEG2_AUDIO, STREAM_TYPE.AAC_LATM, 0x81]);

/** True if a payload looks like TS: whole packets, each opening with the sync byte. */
export function looksLikeTs(payload: Buffer): boolean {
  if (payload.length === 0 || payload.length % TS_PACKET_SIZE !== 0) return false;
  for (let o = 0; o < payload.length; o += TS_PACKET_SIZE) if (payload[o] !== SYNC) return false;
  return true;
}

export class TsDemuxer {
  readonly stats: TsDemuxerStats = { packets: 0, pes: 0, unsupportedPes: 0, continuityErrors: 0, garbageBytes: 0, errors: 0 };
  private pending: Buffer | undefined;
  private pmtPid: number | undefined;
  private readonly sections = new Map<number, SectionState>();
  private readonly streams = new Map<number, PesState>();

  constructor(private readonly sink: EsSink) {}

  feed(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let o = 0;
    while (buf.length - o >= TS_PACKET_SIZE) {
      if (buf[o] !== SYNC) {
        const next = this.findSync(buf, o + 1);
        this.stats.garbageBytes += (next < 0 ? buf.length : next) - o;
        if (next < 0) {
          o = buf.length;
          break;
        }
        o = next;
        continue;
      }
      try {
        this.packet(buf.subarray(o, o + TS_PACKET_SIZE));
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
        this.stats.errors++;
      }
      o += TS_PACKET_SIZE;
    }
    if (o < buf.length) this.pending = buf.subarray(o);
  }

  /** Data was lost: every open PES is broken. */
  discontinuity(): void {
    this.pending = undefined;
    for (const s of this.streams.values()) {
      s.open = false;
      s.header = undefined;
      s.cc = -1;
    }
    for (const s of this.sections.values()) s.data = undefined;
    this.sink.onDiscontinuity();
  }

  /** End of input: every PES still open (an unbounded one waits for the next start) ends now. */
  flush(): void {
    for (const [pid, s] of this.streams) if (s.open) this.endPes(pid, s);
  }

  /** A sync byte followed by another one packet later (or at the end of the data). */
  private findSync(buf: Buffer, from: number): number {
    for (let i = buf.indexOf(SYNC, from); i >= 0; i = buf.indexOf(SYNC, i + 1)) {
      if (i + TS_PACKET_SIZE >= buf.length || buf[i + TS_PACKET_SIZE] === SYNC) return i;
    }
    return -1;
  }

  private packet(p: Buffer): void {
    this.stats.packets++;
    const pusi = (p[1]! & 0x40) !== 0;
    const pid = p.readUInt16BE(1) & 0x1fff;
    const scrambled = p[3]! >> 6 !== 0;
    const afc = (p[3]! >> 4) & 0x03;
    const cc = p[3]! & 0x0f;
    if (scrambled || (afc & 0x01) === 0 || pid === PID_NULL) return;
    let o = 4;
    let discontinuityFlag = false;
    let randomAccess = false;
    if (afc === 0x03) {
      const afLength = p[4]!;
      if (afLength > 183) throw new ParseError(`adaptation_field_length ${afLength} over 183`);
      discontinuityFlag = afLength > 0 && (p[5]! & 0x80) !== 0;
      randomAccess = afLength > 0 && (p[5]! & 0x40) !== 0;
      o = 5 + afLength;
    }
    const payload = p.subarray(o);
    if (pid === PID_PAT || pid === this.pmtPid) {
      this.section(pid, cc, pusi, payload);
      return;
    }
    const stream = this.streams.get(pid);
    if (!stream) return;
    if (pusi) stream.randomAccess = randomAccess;
    this.pes(pid, stream, cc, pusi, discontinuityFlag, payload);
  }

  private section(pid: number, cc: number, pusi: boolean, payload: Buffer): void {
    let state = this.sections.get(pid);
    if (!state) {
      state = { cc: -1, data: undefined };
      this.sections.set(pid, state);
    }
    if (state.cc >= 0 && cc !== ((state.cc + 1) & 0x0f)) state.data = undefined;
    state.cc = cc;
    let data: Buffer;
    if (pusi) {
      const pointer = payload[0] ?? 0;
      if (1 + pointer > payload.length) throw new ParseError('PSI pointer_field past the packet');
      data = payload.subarray(1 + pointer);
    } else {
      if (!state.data) return;
      data = Buffer.concat([state.data, payload]);
    }
    if (data.length < 3 || data[0] === 0xff) {
      state.data = data[0] === 0xff ? undefined : data;
      return;
    }
    const total = 3 + (data.readUInt16BE(1) & 0x0fff);
    if (total - 3 > MAX_SECTION_LENGTH) throw new ParseError('PSI section too long');
    if (data.length < total) {
      state.data = Buffer.from(data);
      return;
    }
    state.data = undefined;
    const section = data.subarray(0, total);
    if (pid === PID_PAT) this.onPat(section);
    else this.onPmt(section);
  }

  private onPat(section: Buffer): void {
    const program = parsePat(section).find((e) => e.program !== 0);
    if (program && program.pid !== this.pmtPid) {
      this.pmtPid = program.pid;
      this.sections.delete(program.pid);
    }
  }

  private onPmt(section: Buffer): void {
    const decls: EsStreamDecl[] = [];
    for (const { streamType, pid } of parsePmt(section)) {
      const video = VIDEO_TYPES.has(streamType);
      const audio = AUDIO_TYPES.has(streamType) || OTHER_AUDIO_TYPES.has(streamType);
      if (!video && !audio) continue;
      const kind: EsKind = video ? 'video' : 'audio';
      const supported = video || AUDIO_TYPES.has(streamType);
      const existing = this.streams.get(pid);
      if (!existing || existing.streamType !== streamType) {
        this.streams.set(pid, { kind, streamType, supported, cc: -1, open: false, remaining: -1, header: undefined, randomAccess: false });
      }
      if (supported) decls.push({ id: pid, kind, streamType });
    }
    this.sink.onStreams(decls);
  }

  private pes(pid: number, s: PesState, cc: number, pusi: boolean, reset: boolean, payload: Buffer): void {
    if (s.cc >= 0 && !reset) {
      if (cc === s.cc) return; // duplicate packet (§2.4.3.3)
      if (cc !== ((s.cc + 1) & 0x0f)) {
        this.stats.continuityErrors++;
        if (s.open || s.header) {
          s.open = false;
          s.header = undefined;
          this.sink.onDiscontinuity();
        }
      }
    }
    s.cc = cc;
    if (pusi) {
      if (s.open) this.endPes(pid, s);
      s.header = undefined;
      this.startPes(pid, s, payload);
      return;
    }
    if (s.header) {
      this.startPes(pid, s, Buffer.concat([s.header, payload]));
      return;
    }
    if (s.open) this.pesData(pid, s, payload);
  }

  private startPes(pid: number, s: PesState, data: Buffer): void {
    const header = parsePesHeader(data, 0);
    if (!header) {
      if (data.length > MAX_PES_HEADER) throw new ParseError('PES header spans too many TS packets');
      s.header = Buffer.from(data);
      return;
    }
    s.header = undefined;
    if (data[0] !== 0 || data[1] !== 0 || data[2] !== 1) throw new ParseError('PES without start code');
    if (!s.supported) {
      this.stats.unsupportedPes++;
      return;
    }
    this.stats.pes++;
    s.open = true;
    s.remaining = header.payloadLength;
    this.sink.onPesStart(pesStart(pid, s.kind, s.streamType, header, s.randomAccess));
    this.pesData(pid, s, data.subarray(header.headerLength));
  }

  private pesData(pid: number, s: PesState, data: Buffer): void {
    let chunk = data;
    if (s.remaining >= 0 && chunk.length > s.remaining) chunk = chunk.subarray(0, s.remaining);
    if (chunk.length > 0) this.sink.onPesData(pid, chunk);
    if (s.remaining >= 0) {
      s.remaining -= chunk.length;
      if (s.remaining === 0) this.endPes(pid, s);
    }
  }

  private endPes(pid: number, s: PesState): void {
    s.open = false;
    this.sink.onPesEnd(pid);
  }
}
