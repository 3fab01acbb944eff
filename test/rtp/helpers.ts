import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame } from '../../src/core/frame';
import type { Track } from '../../src/core/track';
import { ParseError } from '../../src/core/errors';
import { buildRtpPacket, parseRtpPacket, type RtpPacket } from '../../rtp/packet';
import { pesHeader } from '../../src/formats/mpegts/pes';
import { buildPsm } from '../../rtp/ps/psm';
import type { FramePublisher } from '../../rtp/frame-assembler';

/** test/fixtures, from dist/test/rtp (compiled) or test/rtp. */
export const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures');

export function fixture(...parts: string[]): Buffer {
  return readFileSync(join(FIXTURES, ...parts));
}

/** Splits an RFC 4571 framed file (2-byte length before each packet) into packets. */
export function readRfc4571(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let o = 0;
  while (o + 2 <= buf.length) {
    const len = buf.readUInt16BE(o);
    out.push(buf.subarray(o + 2, o + 2 + len));
    o += 2 + len;
  }
  return out;
}

export function readRtpFixture(name: string): RtpPacket[] {
  return readRfc4571(fixture('rtp', name)).map((b) => parseRtpPacket(b));
}

/** Collects what a source publishes. */
export class FakePublisher implements FramePublisher {
  readonly frames: Frame[] = [];
  readonly trackUpdates: (readonly Track[])[] = [];
  constructor(readonly resumeDts = 0) {}
  setTracks(tracks: readonly Track[]): void {
    this.trackUpdates.push(tracks);
  }
  write(frame: Frame): void {
    this.frames.push(frame);
  }
  get tracks(): readonly Track[] {
    return this.trackUpdates[this.trackUpdates.length - 1] ?? [];
  }
  count(trackId: number): number {
    return this.frames.filter((f) => f.trackId === trackId).length;
  }
  keyframes(trackId: number): number {
    return this.frames.filter((f) => f.trackId === trackId && f.keyframe).length;
  }
  /** dts per track never decreases and pts >= dts. */
  assertTimestamps(): void {
    const last = new Map<number, number>();
    for (const f of this.frames) {
      if (f.pts < f.dts) throw new Error(`pts ${f.pts} < dts ${f.dts}`);
      const prev = last.get(f.trackId);
      if (prev !== undefined && f.dts < prev) throw new Error(`track ${f.trackId} dts went back: ${prev} -> ${f.dts}`);
      last.set(f.trackId, f.dts);
    }
  }
}

/**
 * Packetises a program stream into RTP the way a GB28181 device does: each pack (from one
 * 00 00 01 BA to the next) split into payloads of at most `mtu` bytes, all with one timestamp
 * (the first PTS in the pack), the marker on the last packet of the pack.
 */
export function packetizePs(ps: Buffer, options: { mtu?: number; ssrc?: number; payloadType?: number } = {}): RtpPacket[] {
  const mtu = options.mtu ?? 1400;
  const packets: RtpPacket[] = [];
  const packStart = Buffer.from([0, 0, 1, 0xba]);
  let start = ps.indexOf(packStart);
  let seq = 1000;
  let timestamp = 0;
  while (start >= 0 && start < ps.length) {
    const next = ps.indexOf(packStart, start + 4);
    const end = next < 0 ? ps.length : next;
    const pack = ps.subarray(start, end);
    timestamp = firstPts(pack) ?? timestamp + 3600;
    for (let o = 0; o < pack.length; o += mtu) {
      const payload = pack.subarray(o, Math.min(pack.length, o + mtu));
      const buf = buildRtpPacket({
        payloadType: options.payloadType ?? 96,
        sequence: seq++ & 0xffff,
        timestamp: timestamp >>> 0,
        ssrc: options.ssrc ?? 200000001,
        marker: o + mtu >= pack.length,
        payload,
      });
      packets.push(parseRtpPacket(buf));
    }
    start = next;
  }
  return packets;
}

function firstPts(pack: Buffer): number | undefined {
  for (let i = pack.indexOf(Buffer.from([0, 0, 1])); i >= 0 && i + 14 <= pack.length; i = pack.indexOf(Buffer.from([0, 0, 1]), i + 1)) {
    const id = pack[i + 3]!;
    if (((id >= 0xe0 && id <= 0xef) || (id >= 0xc0 && id <= 0xdf)) && (pack[i + 6]! & 0xc0) === 0x80 && pack[i + 7]! & 0x80) {
      const b = pack.subarray(i + 9, i + 14);
      return ((b[0]! >> 1) & 7) * 2 ** 30 + ((b[1]! << 7) | (b[2]! >> 1)) * 2 ** 15 + ((b[3]! << 7) | (b[4]! >> 1));
    }
  }
  return undefined;
}

/** Deterministic pseudo-random generator for loss/reorder injection. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

export interface Impairment {
  loss?: number;
  duplicate?: number;
  /** Probability that a packet is swapped with one up to `reorderDistance` later. */
  reorder?: number;
  reorderDistance?: number;
  seed?: number;
}

/** Applies loss, duplication and reordering; returns the packets in arrival order and the dropped sequence numbers. */
export function impair<T extends { sequence: number }>(packets: readonly T[], imp: Impairment): { arrived: T[]; lost: Set<number> } {
  const random = rng(imp.seed ?? 1);
  const lost = new Set<number>();
  let arrived: T[] = [];
  for (const p of packets) {
    if (random() < (imp.loss ?? 0)) {
      lost.add(p.sequence);
      continue;
    }
    arrived.push(p);
    if (random() < (imp.duplicate ?? 0)) arrived.push(p);
  }
  const distance = imp.reorderDistance ?? 3;
  arrived = [...arrived];
  for (let i = 0; i < arrived.length; i++) {
    if (random() < (imp.reorder ?? 0)) {
      const j = Math.min(arrived.length - 1, i + 1 + Math.floor(random() * distance));
      [arrived[i], arrived[j]] = [arrived[j]!, arrived[i]!];
    }
  }
  return { arrived, lost };
}

/** Runs `fn`; a ParseError is fine, anything else is rethrown. */
export function parseErrorOnly(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
}

/** Builds a PES packet with payload (for hand-made program streams). */
export function pes(streamId: number, payload: Buffer, pts?: number, dts?: number, unbounded = false): Buffer {
  const header = pesHeader(streamId, pts, dts, payload.length, !unbounded);
  return Buffer.concat([header, payload]);
}

/** An MPEG-2 pack header with `stuffing` bytes of stuffing. */
export function packHeader(stuffing = 0, scr = 0): Buffer {
  const out = Buffer.alloc(14 + stuffing, 0xff);
  out.writeUInt32BE(0x000001ba, 0);
  const base = Math.floor(scr) % 2 ** 33;
  const hi = Math.floor(base / 2 ** 30);
  const mid = Math.floor(base / 2 ** 15) & 0x7fff;
  const lo = base & 0x7fff;
  out[4] = 0x44 | (hi << 3) | (mid >> 13);
  out[5] = (mid >> 5) & 0xff;
  out[6] = ((mid & 0x1f) << 3) | 0x04 | (lo >> 13);
  out[7] = (lo >> 5) & 0xff;
  out[8] = ((lo & 0x1f) << 3) | 0x04;
  out[9] = 0x01;
  out[10] = 0x01;
  out[11] = 0x89;
  out[12] = 0xc3;
  out[13] = 0xf8 | stuffing;
  return out;
}

/** An MPEG-1 pack header (12 bytes). */
export function mpeg1PackHeader(): Buffer {
  return Buffer.from([0, 0, 1, 0xba, 0x21, 0x00, 0x01, 0x00, 0x01, 0x80, 0x00, 0x01]);
}

/** A system header (skipped by the demuxer; content is plausible only). */
export function systemHeader(): Buffer {
  return Buffer.from([0, 0, 1, 0xbb, 0, 12, 0x80, 0x01, 0x01, 0x04, 0xe1, 0xff, 0xe0, 0xe0, 0xe8, 0xc0, 0xc0, 0x20]);
}

/** Wraps payloads into RTP packets with consecutive sequence numbers. */
export function toRtp(payloads: readonly Buffer[], options: { timestamps?: number[]; markers?: boolean[]; ssrc?: number; pt?: number; seq?: number } = {}): RtpPacket[] {
  return payloads.map((payload, i) =>
    parseRtpPacket(
      buildRtpPacket({
        payloadType: options.pt ?? 96,
        sequence: ((options.seq ?? 0) + i) & 0xffff,
        timestamp: (options.timestamps?.[i] ?? i * 3600) >>> 0,
        ssrc: options.ssrc ?? 1,
        marker: options.markers?.[i] ?? false,
        payload,
      }),
    ),
  );
}

export interface PsMuxOptions {
  videoStreamType: number;
  /** PSM stream type written for the audio (0x90 G.711A, 0x91 G.711U, 0x0F AAC ...). */
  audioStreamType?: number;
  /** Video PES larger than this are split; the later parts carry no PTS (as cameras do). */
  maxPesPayload?: number;
  frameTicks?: number;
  /** Write PES_packet_length 0 for video (Hikvision style). */
  unboundedVideo?: boolean;
}

/**
 * A GB28181-style program stream made by hand (no tool writes G.711 in PS): per video frame a
 * pack header, at keyframes a system header and a PSM, the frame in one or more PES, then the
 * audio frame of the same period. Used where no third-party muxer covers the case.
 */
export function muxPs(video: readonly Buffer[], audio: readonly Buffer[], keyframes: readonly boolean[], options: PsMuxOptions): Buffer {
  const parts: Buffer[] = [];
  const ticks = options.frameTicks ?? 3600;
  const maxPes = options.maxPesPayload ?? 65_000;
  video.forEach((frame, i) => {
    const pts = 90_000 + i * ticks;
    parts.push(packHeader(i % 3, pts));
    if (keyframes[i]) {
      parts.push(systemHeader());
      const entries = [{ streamType: options.videoStreamType, id: 0xe0 }];
      if (options.audioStreamType !== undefined) entries.push({ streamType: options.audioStreamType, id: 0xc0 });
      parts.push(buildPsm(entries));
    }
    if (options.unboundedVideo) {
      parts.push(pes(0xe0, frame, pts, undefined, true));
    } else {
      for (let o = 0; o < frame.length; o += maxPes) parts.push(pes(0xe0, frame.subarray(o, o + maxPes), o === 0 ? pts : undefined));
    }
    if (audio[i]) parts.push(pes(0xc0, audio[i]!, pts));
  });
  return Buffer.concat(parts);
}

/** Splits an Annex B file into access units at its AUDs (the fixtures were made with aud=1). */
export function annexBAccessUnits(es: Buffer, codec: 'h264' | 'h265'): Buffer[] {
  const aud = codec === 'h264' ? Buffer.from([0, 0, 0, 1, 0x09]) : Buffer.from([0, 0, 0, 1, 0x46, 0x01]);
  const out: Buffer[] = [];
  let at = es.indexOf(aud);
  while (at >= 0) {
    const next = es.indexOf(aud, at + 1);
    out.push(es.subarray(at, next < 0 ? es.length : next));
    at = next;
  }
  return out;
}
