import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError } from '../../core/errors';
import type { Frame } from '../../core/frame';
import type { PlaybackDeps, RecordingEntry } from './deps';
import { Pacer, rangeMuxer, type PlaybackFormat, type RangeMuxer } from './output';
import { planRange, type RangePlan, type SegmentFormat } from './range-plan';
import { readRange } from './range-reader';

const PACED_CHUNK = 32 * 1024;
const DOWNLOAD_CHUNK = 512 * 1024;
const DOWNLOAD_BATCH = 256 * 1024;

/** Where the range is open-ended: what exists up to a day past now. */
const OPEN_END_MS = 24 * 3600_000;

const PREFER: Readonly<Record<PlaybackFormat, readonly SegmentFormat[]>> = { flv: ['flv', 'ts', 'hls'], ts: ['ts', 'hls', 'flv'], mp4: ['flv', 'ts', 'hls'] };

/** The plan of a request; NOT_FOUND when nothing was recorded there. */
export function planRequest(deps: PlaybackDeps, path: string, startMs: number, endMs: number | undefined, format: PlaybackFormat): RangePlan {
  const end = endMs ?? Date.now() + OPEN_END_MS;
  if (end <= startMs) throw new GatewayError('BAD_REQUEST', 'end must be after start');
  const rows = deps.index.find({ path, startMs, endMs: end }).filter(playable);
  let plan = planRange(rows, startMs, end, { prefer: PREFER[format] });
  if (plan.parts.length === 0) {
    throw new GatewayError('NOT_FOUND', `no recording of ${path} between ${new Date(startMs).toISOString()} and ${new Date(end).toISOString()}`);
  }
  if (format === 'mp4') plan = cutAtCodecChange(plan);
  return plan;
}

export function playable(row: RecordingEntry): boolean {
  return row.status !== 'missing' && row.endMs > row.startMs;
}

/** One MP4 has one set of sample entries: the range stops before a codec or size change. */
function cutAtCodecChange(plan: RangePlan): RangePlan {
  const cut = plan.parts.findIndex((p) => p.discontinuity === 'codec');
  if (cut < 0) return plan;
  const parts = plan.parts.slice(0, cut);
  const endMs = parts.at(-1)!.toMs;
  return { ...plan, parts, endMs, gaps: plan.gaps.filter((g) => g.endMs <= endMs) };
}

/** Headers that describe the range: its real bounds and the gaps that were closed. */
export function rangeHeaders(plan: RangePlan, path: string, format: PlaybackFormat, download: boolean): Record<string, string> {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const headers: Record<string, string> = {
    'X-Playback-Start': iso(plan.startMs),
    'X-Playback-End': iso(plan.endMs),
    'X-Playback-Gaps': plan.gaps.map((g) => `${iso(g.startMs)}/${iso(g.endMs)}`).join(','),
  };
  if (download) {
    const stamp = (ms: number): string =>
      iso(ms)
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z');
    headers['Content-Disposition'] = `attachment; filename="${path.replace('/', '_')}_${stamp(plan.startMs)}-${stamp(plan.endMs)}.${format}"`;
  }
  return headers;
}

export interface RangeOutput {
  /** Writes one frame's bytes; resolves when the peer can take more (backpressure). */
  write(parts: Buffer[]): Promise<void> | void;
}

/**
 * Reads the plan and writes it through the format's muxer, paced at `speed` when given, until
 * the end or until `signal` aborts (the client left): then the file read stops at once.
 * Returns the number of frames written.
 */
export interface PumpOptions {
  /** Real-time pacing factor; undefined: as fast as the peer reads. */
  readonly speed?: number;
  /** Output time 0 in wall-clock ms (HLS VOD segments of one playlist share it). */
  readonly originWallMs?: number;
  readonly chunkSize?: number;
}

export async function pumpRange(deps: PlaybackDeps, plan: RangePlan, format: PlaybackFormat, out: RangeOutput, signal: AbortSignal, options: PumpOptions = {}): Promise<number> {
  const muxer: RangeMuxer = rangeMuxer(format, deps.hevcMode);
  const pacer = options.speed === undefined ? undefined : new Pacer(options.speed);
  // Paced players need little read-ahead; downloads read big chunks.
  const chunkSize = options.chunkSize ?? (pacer ? PACED_CHUNK : DOWNLOAD_CHUNK);
  const reader = readRange(plan, deps.dir, { originWallMs: options.originWallMs, chunkSize });
  let frames = 0;
  let lastDts = 0;
  // Downloads write in batches (one write per ~256 KB, not per frame); paced output per frame.
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const parts = batch;
    batch = [];
    batchBytes = 0;
    const wait = out.write(parts);
    if (wait) await wait;
  };
  try {
    for await (const event of reader) {
      if (signal.aborted) break;
      let parts: Buffer[];
      if (event.type === 'tracks') parts = muxer.tracks(event.tracks);
      else if (event.type === 'gap') parts = muxer.gap(event.gap, lastDts);
      else {
        if (pacer) await pace(pacer, event.frame, signal);
        if (signal.aborted) break;
        parts = muxer.frame(event.frame);
        lastDts = event.frame.dts;
        frames++;
      }
      for (const part of parts) batchBytes += part.length;
      batch.push(...parts);
      if (pacer || batchBytes >= DOWNLOAD_BATCH) await flush();
    }
    if (!signal.aborted) {
      batch.push(...muxer.end());
      await flush();
    }
  } finally {
    await reader.return(undefined);
  }
  return frames;
}

/** Waits until `frame` is due by `pacer`, less `leadMs` (sent that much ahead of its time). */
export async function pace(pacer: Pacer, frame: Frame, signal: AbortSignal, leadMs = 0): Promise<void> {
  const wait = pacer.delayMs(frame.dts) - leadMs;
  if (wait < 1) return;
  try {
    await sleep(wait, undefined, { signal });
  } catch {
    // aborted: the caller sees signal.aborted
  }
}
