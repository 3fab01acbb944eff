import type { FileHandle } from 'node:fs/promises';
import { isVideoCodec } from '../../core/codec';
import type { Frame } from '../../core/frame';
import { isVideoTrack, type Track } from '../../core/track';
import type { PlanPart } from './range-plan';
import { FLV_CLOCK_TICKS, FlvSegmentDecoder, TS_CLOCK_TICKS, clockDelta, decoderFor, findFlvTagStart, type DecodedItem, type SegmentDecoder } from './segment-decoder';

export type PartEvent = { readonly kind: 'tracks'; readonly tracks: readonly Track[] } | { readonly kind: 'frame'; readonly frame: Frame; readonly wallMs: number };

export interface PartReadOptions {
  /** Bytes per file read (default 128 KiB). */
  readonly chunkSize?: number;
  /** The first part starts at the keyframe at or before fromMs; later ones at their first keyframe. */
  readonly first: boolean;
}

/** A segment's head must give its first frame within this many bytes. */
const MAX_HEAD_BYTES = 4 * 1024 * 1024;
/** A resync in the middle of an FLV file gives up (and reads from the head) after this much. */
const MAX_RESYNC_BYTES = 8 * 1024 * 1024;
/** Later parts begin at a keyframe this close before their start (segment boundaries jitter). */
const LATER_PART_SLACK_MS = 100;
/** How long the start waits for a declared track's config. */
const TRACK_WAIT_MS = 1000;

/**
 * Sequential reads of one file with one chunk read ahead (the next read runs while the caller
 * works on this one); never more than one chunk ahead of what the caller took.
 */
class Cursor {
  private ahead: Promise<Buffer | undefined> | undefined;

  constructor(
    private readonly handle: FileHandle,
    public position: number,
    private readonly chunkSize: number,
  ) {}

  next(): Promise<Buffer | undefined> {
    const current = this.ahead ?? this.read();
    this.ahead = current.then((chunk) => (chunk ? this.read() : undefined));
    this.ahead.catch(() => undefined); // a read cut short by close(): nobody waits for it
    return current;
  }

  private async read(): Promise<Buffer | undefined> {
    // A new Buffer per read: frames keep subarrays of it.
    const buf = Buffer.allocUnsafe(this.chunkSize);
    const { bytesRead } = await this.handle.read(buf, 0, this.chunkSize, this.position);
    if (bytesRead === 0) return undefined;
    this.position += bytesRead;
    return bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
  }
}

/** Reads from the head until the first frame: its clock value and (FLV) the codec state. */
async function readHead(handle: FileHandle, format: string, chunkSize: number): Promise<{ decoder: SegmentDecoder; headSrc: number } | undefined> {
  const decoder = decoderFor(format);
  const cursor = new Cursor(handle, 0, chunkSize);
  while (cursor.position < MAX_HEAD_BYTES) {
    const chunk = await cursor.next();
    if (!chunk) return undefined;
    const first = decoder.feed(chunk).find((item) => item.kind === 'frame');
    if (first?.kind === 'frame') return { decoder, headSrc: first.srcTicks };
  }
  return undefined;
}

/** Finds the first whole FLV tag at or after the cursor; the bytes from there on. */
async function resyncFlv(cursor: Cursor): Promise<Buffer | undefined> {
  let buf: Buffer = Buffer.alloc(0);
  let from = 0;
  while (buf.length < MAX_RESYNC_BYTES) {
    const chunk = await cursor.next();
    if (!chunk) return undefined;
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    const at = findFlvTagStart(buf, from);
    if (typeof at === 'number' && at >= 0) return buf.subarray(at);
    if (at === -1) from = Math.max(0, buf.length - 11);
  }
  return undefined;
}

/**
 * The frames of one plan part, read from disk chunk by chunk (the caller's pace is the read's
 * pace: nothing is read ahead of what it takes), on the file's wall clock: row start + the
 * frame's clock distance from the file's first frame. The first part seeks to the planned byte
 * offset and goes back to the head if that overshot the keyframe it needs.
 */
export async function* readPart(handle: FileHandle, part: PlanPart, options: PartReadOptions): AsyncGenerator<PartEvent> {
  const chunkSize = options.chunkSize ?? 128 * 1024;
  if (part.startByte > 0) {
    const head = await readHead(handle, part.segment.format, chunkSize);
    if (head) {
      const seek = scanPart(handle, part, options.first, chunkSize, head.headSrc, part.startByte, head.decoder);
      const outcome = yield* seek;
      if (outcome !== 'overshot') return;
    }
  }
  yield* scanPart(handle, part, options.first, chunkSize, undefined, 0, undefined);
}

async function* scanPart(
  handle: FileHandle,
  part: PlanPart,
  first: boolean,
  chunkSize: number,
  knownHeadSrc: number | undefined,
  startByte: number,
  head: SegmentDecoder | undefined,
): AsyncGenerator<PartEvent, 'done' | 'overshot'> {
  const segment = part.segment;
  const modulo = segment.format === 'flv' ? FLV_CLOCK_TICKS : TS_CLOCK_TICKS;
  const cursor = new Cursor(handle, startByte, chunkSize);
  let decoder: SegmentDecoder;
  let pending: Buffer | undefined;
  if (startByte > 0 && head instanceof FlvSegmentDecoder) {
    pending = await resyncFlv(cursor);
    if (!pending) return 'overshot';
    decoder = head.resumeAtTag();
  } else {
    decoder = decoderFor(segment.format);
  }
  let headSrc = knownHeadSrc;
  let gop: Frame[] = [];
  let gopWall: number[] = [];
  let started = false;
  while (true) {
    const chunk = pending ?? (await cursor.next());
    pending = undefined;
    const items: DecodedItem[] = chunk ? decoder.feed(chunk) : decoder.end();
    for (const item of items) {
      if (item.kind === 'tracks') {
        if (started) yield { kind: 'tracks', tracks: readyTracks(item.tracks) };
        continue;
      }
      headSrc ??= item.srcTicks;
      const wallMs = segment.startMs + clockDelta(item.srcTicks, headSrc, modulo) / 90;
      const frame = item.frame;
      if (started) {
        if (wallMs >= part.toMs) return 'done';
        yield { kind: 'frame', frame, wallMs };
        continue;
      }
      const startPoint = frame.keyframe && (isVideoCodec(frame.codec) || !decoder.tracks.some(isVideoTrack));
      if (!first) {
        if (gop.length === 0 && (!startPoint || wallMs < part.fromMs - LATER_PART_SLACK_MS)) continue;
        gop.push(frame);
        gopWall.push(wallMs);
      } else if (startPoint && wallMs <= part.fromMs) {
        gop = [frame];
        gopWall = [wallMs];
        if (wallMs < part.fromMs) continue;
      } else if (wallMs < part.fromMs) {
        if (gop.length > 0) {
          gop.push(frame);
          gopWall.push(wallMs);
        }
        continue;
      } else if (gop.length === 0) {
        if (startByte > 0) return 'overshot';
        if (!startPoint) continue; // the head has no keyframe before fromMs: start at the first one
        gop = [frame];
        gopWall = [wallMs];
      } else {
        gop.push(frame);
        gopWall.push(wallMs);
      }
      // A declared track (TS audio before its first ADTS header) gets a moment to become ready.
      if (decoder.tracks.some((t) => !t.ready) && wallMs - gopWall[0]! < TRACK_WAIT_MS) continue;
      started = true;
      yield { kind: 'tracks', tracks: readyTracks(decoder.tracks) };
      for (let i = 0; i < gop.length; i++) {
        if (gopWall[i]! >= part.toMs) return 'done';
        yield { kind: 'frame', frame: gop[i]!, wallMs: gopWall[i]! };
      }
      gop = [];
      gopWall = [];
    }
    if (!chunk) return 'done';
  }
}

function readyTracks(tracks: readonly Track[]): Track[] {
  return tracks.filter((t) => t.ready);
}
