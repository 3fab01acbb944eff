/**
 * The playback timeline's arithmetic (pure): a view window over one day, zoomable from 24 h to
 * minutes around the pointer, pixel/ms mapping, tick marks, and where a click lands in the
 * recorded intervals.
 */

export interface TimeView {
  startMs: number;
  endMs: number;
}

export interface RecordedInterval {
  startMs: number;
  endMs: number;
}

/** Widths the view can take, widest first: 24 h down to 5 min. */
export const ZOOM_SPANS_MS = [24, 12, 6, 3, 1].map((h) => h * 3600_000).concat([30, 10, 5].map((m) => m * 60_000));

const TICK_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360].map((m) => m * 60_000);

export function msAtX(x: number, width: number, view: TimeView): number {
  return view.startMs + (Math.min(Math.max(x, 0), width) / width) * (view.endMs - view.startMs);
}

export function xAtMs(ms: number, width: number, view: TimeView): number {
  return ((ms - view.startMs) / (view.endMs - view.startMs)) * width;
}

/** A view of `spanMs` that keeps `anchorMs` under the same pixel, kept inside `day`. */
export function zoomTo(view: TimeView, spanMs: number, anchorMs: number, day: TimeView): TimeView {
  const span = Math.min(spanMs, day.endMs - day.startMs);
  const share = (anchorMs - view.startMs) / (view.endMs - view.startMs);
  const start = anchorMs - share * span;
  return clampView({ startMs: start, endMs: start + span }, day);
}

/** The next zoom step in (`+1`) or out (`-1`) from the current span. */
export function nextSpan(view: TimeView, direction: 1 | -1): number {
  const span = view.endMs - view.startMs;
  const index = ZOOM_SPANS_MS.findIndex((s) => s <= span + 1);
  const at = index < 0 ? ZOOM_SPANS_MS.length - 1 : index;
  return ZOOM_SPANS_MS[Math.min(Math.max(at + direction, 0), ZOOM_SPANS_MS.length - 1)]!;
}

/** Moves the view by `deltaMs`, kept inside `day`. */
export function pan(view: TimeView, deltaMs: number, day: TimeView): TimeView {
  return clampView({ startMs: view.startMs + deltaMs, endMs: view.endMs + deltaMs }, day);
}

function clampView(view: TimeView, day: TimeView): TimeView {
  const span = view.endMs - view.startMs;
  const start = Math.min(Math.max(view.startMs, day.startMs), day.endMs - span);
  return { startMs: start, endMs: start + span };
}

/** Tick instants inside the view (at most about `maxTicks`), on round local minutes. */
export function ticks(view: TimeView, maxTicks: number, zoneOffsetMs: number): number[] {
  const span = view.endMs - view.startMs;
  const step = TICK_STEPS_MS.find((s) => span / s <= maxTicks) ?? TICK_STEPS_MS[TICK_STEPS_MS.length - 1]!;
  const out: number[] = [];
  const first = Math.ceil((view.startMs + zoneOffsetMs) / step) * step - zoneOffsetMs;
  for (let t = first; t <= view.endMs; t += step) out.push(t);
  return out;
}

/**
 * Where playback starts for a click at `ms`: there when it is recorded, else the start of the next
 * recorded interval (a click in a gap plays what comes next), else null.
 */
export function playableAt(ms: number, intervals: readonly RecordedInterval[]): number | null {
  for (const interval of intervals) {
    if (ms >= interval.startMs && ms < interval.endMs) return ms;
    if (interval.startMs > ms) return interval.startMs;
  }
  return null;
}
