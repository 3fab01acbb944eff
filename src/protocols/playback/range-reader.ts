import { open, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { GatewayError, ParseError } from '../../core/errors';
import type { Frame } from '../../core/frame';
import type { Track } from '../../core/track';
import type { Interval, RangePlan } from './range-plan';
import { readPart } from './segment-reader';

export type RangeEvent =
  | { readonly type: 'tracks'; readonly tracks: readonly Track[]; readonly discontinuity: 'gap' | 'codec' | undefined }
  | { readonly type: 'frame'; readonly frame: Frame; readonly wallMs: number }
  | { readonly type: 'gap'; readonly gap: Interval };

export interface RangeReadOptions {
  readonly chunkSize?: number;
  /** Wall-clock ms that is output time 0 (default: the first frame read); HLS VOD segments share one. */
  readonly originWallMs?: number;
}

/**
 * Opens a recording file under the recordings folder; a path that would leave it (an index row
 * that was tampered with) is refused.
 */
export async function openRecordingFile(dir: string, file: string): Promise<FileHandle> {
  const root = resolve(dir);
  const full = resolve(root, file);
  const rel = relative(root, full);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new GatewayError('NOT_FOUND', `recording file ${file} is outside the recordings folder`);
  }
  return open(full, 'r');
}

function sameTracks(a: readonly Track[] | undefined, b: readonly Track[]): boolean {
  if (!a || a.length !== b.length) return false;
  return a.every((t, i) => {
    const u = b[i]!;
    if (t.id !== u.id || t.codec !== u.codec) return false;
    const keys = ['sps', 'pps', 'vps', 'asc'] as const;
    return keys.every((k) => {
      const x = (t as Partial<Record<(typeof keys)[number], Buffer>>)[k];
      const y = (u as Partial<Record<(typeof keys)[number], Buffer>>)[k];
      return x === y || (x !== undefined && y !== undefined && x.equals(y));
    });
  });
}

/**
 * One continuous stream of frames for a plan: segment after segment, on one timeline that starts
 * at 0 at the first (key)frame and closes every gap; gaps and codec changes are announced before
 * the frames after them. A segment whose file is gone, or the rest of a damaged one, is
 * reported as a gap. Returning (a client
 * that left) closes the open file at once.
 */
export async function* readRange(plan: RangePlan, dir: string, options: RangeReadOptions = {}): AsyncGenerator<RangeEvent> {
  let originWall: number | undefined = options.originWallMs;
  let tracks: readonly Track[] | undefined;
  const lastDts = new Map<number, number>();
  let extraClosedMs = 0;
  let gapIndex = 0;
  for (const [index, part] of plan.parts.entries()) {
    if (part.discontinuity === 'gap') {
      const gap = plan.gaps[gapIndex++];
      if (gap) yield { type: 'gap', gap };
    }
    let handle: FileHandle;
    try {
      handle = await openRecordingFile(dir, part.segment.file);
    } catch {
      yield { type: 'gap', gap: { startMs: part.fromMs, endMs: part.toMs } };
      extraClosedMs += part.toMs - part.fromMs;
      continue;
    }
    let announced = false;
    let reachedMs = part.fromMs;
    try {
      for await (const event of readPart(handle, part, { first: index === 0, chunkSize: options.chunkSize })) {
        if (event.kind === 'tracks') {
          if (event.tracks.length === 0 || sameTracks(tracks, event.tracks)) continue;
          tracks = event.tracks;
          yield { type: 'tracks', tracks, discontinuity: announced ? 'codec' : part.discontinuity };
          announced = true;
          continue;
        }
        originWall ??= event.wallMs;
        const frame = event.frame;
        let dts = Math.round((event.wallMs - part.closedMs - extraClosedMs - originWall) * 90);
        const last = lastDts.get(frame.trackId);
        if (last !== undefined && dts < last) dts = last;
        lastDts.set(frame.trackId, dts);
        reachedMs = event.wallMs;
        yield { type: 'frame', frame: { ...frame, dts, pts: dts + (frame.pts - frame.dts) }, wallMs: event.wallMs };
      }
    } catch (err) {
      // A damaged file costs the rest of its part (reported as a gap), never the range.
      if (!(err instanceof ParseError)) throw err;
      yield { type: 'gap', gap: { startMs: reachedMs, endMs: part.toMs } };
      extraClosedMs += Math.max(0, part.toMs - reachedMs);
    } finally {
      await handle.close();
    }
  }
}

/**
 * The wall-clock ms of the first frame `readRange(plan)` gives, which is its output time 0
 * (undefined when nothing in the plan can be read): a second reader on the same range learns
 * the first one's timeline from it. Reads only the first part's first GOP.
 */
export async function rangeOrigin(plan: RangePlan, dir: string, chunkSize?: number): Promise<number | undefined> {
  const reader = readRange(plan, dir, { chunkSize });
  try {
    for await (const event of reader) if (event.type === 'frame') return event.wallMs;
  } finally {
    await reader.return(undefined);
  }
  return undefined;
}
