/**
 * Which recorded segments serve a time range, where to start reading each, and where the range
 * has holes. Pure: segments in, a plan out; the reader (./segment-reader) follows the plan.
 */

export type SegmentFormat = 'flv' | 'ts' | 'hls';

/** What the planner needs of a recording row (storage/repos/recordings.ts RecordingRow). */
export interface PlanSegment {
  readonly id: number;
  readonly format: SegmentFormat;
  readonly file: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly bytes: number;
  readonly keyframes: number;
  readonly videoCodec: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly audioCodec: string | null;
}

export interface Interval {
  readonly startMs: number;
  readonly endMs: number;
}

export interface PlanPart {
  readonly segment: PlanSegment;
  /** Wall-clock ms this part covers; the first part starts at the keyframe at or before fromMs. */
  readonly fromMs: number;
  readonly toMs: number;
  /**
   * Where reading may start: a guess at least two GOPs (by the segment's average bitrate and
   * keyframe count) before fromMs, TS packet aligned; 0 = from the head. The reader falls back
   * to the head if the first keyframe it finds there is already past fromMs.
   */
  readonly startByte: number;
  /** Sum of the gaps closed before this part: output time = wall time - closedMs - origin. */
  readonly closedMs: number;
  /** A gap or a codec/size change comes before this part (players need a discontinuity). */
  readonly discontinuity: 'gap' | 'codec' | undefined;
}

export interface RangePlan {
  readonly parts: readonly PlanPart[];
  /** Uncovered stretches inside the range (between parts only: the range is cut to what exists). */
  readonly gaps: readonly Interval[];
  readonly startMs: number;
  readonly endMs: number;
}

export interface PlanOptions {
  /** Holes shorter than this between segments are not gaps (segment boundaries jitter). Default 1000. */
  readonly gapToleranceMs?: number;
  /** Format preferred when several cover the range equally (the one the output is made of). */
  readonly prefer?: readonly SegmentFormat[];
}

export const DEFAULT_GAP_TOLERANCE_MS = 1000;
const TS_PACKET = 188;

function overlap(s: Interval, startMs: number, endMs: number): number {
  return Math.max(0, Math.min(s.endMs, endMs) - Math.max(s.startMs, startMs));
}

/** One format only: recordings of one stream in two formats at once would interleave. */
export function pickFormat(segments: readonly PlanSegment[], startMs: number, endMs: number, prefer: readonly SegmentFormat[]): SegmentFormat | undefined {
  const cover = new Map<SegmentFormat, number>();
  for (const s of segments) cover.set(s.format, (cover.get(s.format) ?? 0) + overlap(s, startMs, endMs));
  let best: SegmentFormat | undefined;
  let bestCover = 0;
  const rank = (f: SegmentFormat): number => (prefer.includes(f) ? prefer.indexOf(f) : prefer.length);
  for (const [format, covered] of cover) {
    if (covered <= 0) continue;
    if (best === undefined || covered > bestCover || (covered === bestCover && rank(format) < rank(best))) {
      best = format;
      bestCover = covered;
    }
  }
  return best;
}

function codecKey(s: PlanSegment): string {
  return `${s.videoCodec ?? '-'} ${s.width ?? 0}x${s.height ?? 0} ${s.audioCodec ?? '-'}`;
}

/** The byte guess for a read that must see the keyframe at or before `fromMs`. */
export function startByteFor(segment: PlanSegment, fromMs: number): number {
  const duration = segment.endMs - segment.startMs;
  if (duration <= 0 || segment.bytes <= 0 || segment.keyframes <= 1 || fromMs <= segment.startMs) return 0;
  const gopMs = duration / segment.keyframes;
  const fraction = (fromMs - segment.startMs - 2 * gopMs) / duration;
  if (fraction <= 0) return 0;
  const guess = Math.floor(Math.min(1, fraction) * segment.bytes);
  return segment.format === 'flv' ? guess : guess - (guess % TS_PACKET);
}

/**
 * Plans [startMs, endMs): segments of one format (the one covering most of the range) in time
 * order, each cut to the range and to where the previous one ended; holes longer than the
 * tolerance are reported as gaps and closed in the output timeline. Empty when nothing overlaps.
 */
export function planRange(segments: readonly PlanSegment[], startMs: number, endMs: number, options: PlanOptions = {}): RangePlan {
  const tolerance = options.gapToleranceMs ?? DEFAULT_GAP_TOLERANCE_MS;
  const format = pickFormat(segments, startMs, endMs, options.prefer ?? []);
  const chosen = segments
    .filter((s) => s.format === format && s.endMs > s.startMs && overlap(s, startMs, endMs) > 0)
    .sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs || a.id - b.id);
  const parts: PlanPart[] = [];
  const gaps: Interval[] = [];
  let cursor: number | undefined;
  let closedMs = 0;
  let lastKey: string | undefined;
  for (const segment of chosen) {
    const fromMs = Math.max(segment.startMs, startMs, cursor ?? -Infinity);
    const toMs = Math.min(segment.endMs, endMs);
    if (toMs <= fromMs) continue;
    let discontinuity: PlanPart['discontinuity'];
    if (cursor !== undefined && fromMs - cursor > tolerance) {
      gaps.push({ startMs: cursor, endMs: fromMs });
      closedMs += fromMs - cursor;
      discontinuity = 'gap';
    }
    const key = codecKey(segment);
    if (!discontinuity && lastKey !== undefined && key !== lastKey) discontinuity = 'codec';
    lastKey = key;
    const first = parts.length === 0;
    parts.push({ segment, fromMs, toMs, startByte: first ? startByteFor(segment, fromMs) : 0, closedMs, discontinuity });
    cursor = toMs;
  }
  const first = parts[0];
  const last = parts.at(-1);
  return { parts, gaps, startMs: first?.fromMs ?? startMs, endMs: last?.toMs ?? startMs };
}

/**
 * The rest of `plan` from `atMs` on its output timeline (0 is `originWallMs`, the wall time of
 * the range's first frame; closed gaps take no time), for a second reader that must keep that
 * timeline (the audio feed beside the video of the same range): the parts from that instant on,
 * the first cut there with its own byte guess, every `closedMs` as it was. Undefined past the end.
 */
export function planFrom(plan: RangePlan, originWallMs: number, atMs: number): { plan: RangePlan; fromWallMs: number } | undefined {
  for (const [index, part] of plan.parts.entries()) {
    const wall = originWallMs + Math.max(0, atMs) + part.closedMs;
    if (wall >= part.toMs) continue;
    const fromWallMs = Math.max(wall, index === 0 ? Math.min(originWallMs, part.fromMs) : part.fromMs);
    const first: PlanPart = { ...part, fromMs: fromWallMs, startByte: startByteFor(part.segment, fromWallMs), discontinuity: undefined };
    const parts = [first, ...plan.parts.slice(index + 1)];
    return { plan: { parts, gaps: plan.gaps.filter((g) => g.startMs >= fromWallMs), startMs: fromWallMs, endMs: plan.endMs }, fromWallMs };
  }
  return undefined;
}

/**
 * Covered intervals of a day bar: segments overlapping [startMs, endMs), cut to it and merged
 * where they touch or overlap (holes up to the tolerance join too).
 */
export function mergeIntervals(segments: readonly Interval[], startMs: number, endMs: number, toleranceMs = DEFAULT_GAP_TOLERANCE_MS): Interval[] {
  const cut = segments
    .map((s) => ({ startMs: Math.max(s.startMs, startMs), endMs: Math.min(s.endMs, endMs) }))
    .filter((s) => s.endMs > s.startMs)
    .sort((a, b) => a.startMs - b.startMs);
  const out: { startMs: number; endMs: number }[] = [];
  for (const s of cut) {
    const last = out.at(-1);
    if (last && s.startMs - last.endMs <= toleranceMs) last.endMs = Math.max(last.endMs, s.endMs);
    else out.push({ ...s });
  }
  return out;
}
