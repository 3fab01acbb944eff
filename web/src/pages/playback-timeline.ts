/**
 * The playback timeline widget: one local day of recorded intervals, zoomable from 24 h to
 * minutes (wheel around the pointer, or the buttons), panned with the arrows; a click plays from
 * that instant, a drag selects a range (for the MP4 download). The arithmetic is timeline-scale.ts.
 */
import { el, type AppContext } from '../app';
import { msAtX, nextSpan, pan, playableAt, ticks, xAtMs, zoomTo, type RecordedInterval, type TimeView } from './timeline-scale';
import { localClock, zoneOffsetMs } from './zoned-day';

export interface TimelineEvents {
  /** A click at `ms` (already moved to the next recorded instant when it fell in a gap). */
  play(ms: number): void;
  /** A drag selected `[startMs, endMs)`, or cleared it (null). */
  select(range: TimeView | null): void;
}

/** Pixels the pointer must move before a press is a drag, not a click. */
const DRAG_PX = 5;

export class PlaybackTimeline {
  readonly root: HTMLElement;
  private readonly track: HTMLElement;
  private readonly label: HTMLElement;
  private day: TimeView = { startMs: 0, endMs: 1 };
  private view: TimeView = { startMs: 0, endMs: 1 };
  private intervals: RecordedInterval[] = [];
  private selection: TimeView | null = null;
  private playhead: number | null = null;
  private timeZone = 'UTC';
  private readonly playheadMark = el('div', { class: 'playhead', hidden: true });
  private press: { x: number; ms: number } | undefined;

  constructor(
    ctx: AppContext,
    private readonly events: TimelineEvents,
  ) {
    this.track = el('div', { class: 'timeline-track', id: 'timeline', role: 'slider', 'aria-label': ctx.t('playback.timeline') });
    this.label = el('span', { class: 'timeline-span' });
    const zoomIn = el('button', { type: 'button', id: 'zoom-in', title: ctx.t('playback.zoomIn') }, '+');
    const zoomOut = el('button', { type: 'button', id: 'zoom-out', title: ctx.t('playback.zoomOut') }, '−');
    const left = el('button', { type: 'button', title: ctx.t('playback.earlier') }, '◀');
    const right = el('button', { type: 'button', title: ctx.t('playback.later') }, '▶');
    zoomIn.addEventListener('click', () => this.zoom(1, this.center()));
    zoomOut.addEventListener('click', () => this.zoom(-1, this.center()));
    left.addEventListener('click', () => this.shift(-0.5));
    right.addEventListener('click', () => this.shift(0.5));
    this.track.addEventListener('wheel', (event) => {
      event.preventDefault();
      this.zoom(event.deltaY < 0 ? 1 : -1, this.msAt(event.clientX));
    });
    this.track.addEventListener('pointerdown', (event) => {
      this.press = { x: event.clientX, ms: this.msAt(event.clientX) };
      this.track.setPointerCapture(event.pointerId);
    });
    this.track.addEventListener('pointermove', (event) => {
      if (!this.press || Math.abs(event.clientX - this.press.x) < DRAG_PX) return;
      const ms = this.msAt(event.clientX);
      this.selection = { startMs: Math.min(ms, this.press.ms), endMs: Math.max(ms, this.press.ms) };
      this.draw();
    });
    this.track.addEventListener('pointerup', (event) => this.release(event.clientX));
    this.root = el('div', { class: 'timeline' }, el('div', { class: 'timeline-tools' }, left, zoomOut, this.label, zoomIn, right), this.track);
    new ResizeObserver(() => this.draw()).observe(this.track);
  }

  /** Shows a new day (whole) with its recorded intervals. */
  setDay(day: TimeView, intervals: RecordedInterval[], timeZone: string): void {
    this.day = day;
    this.view = { ...day };
    this.intervals = intervals;
    this.timeZone = timeZone;
    this.selection = null;
    this.draw();
  }

  /** Moves the playhead only (it is called four times a second: the rest of the track stays). */
  setPlayhead(ms: number | null): void {
    this.playhead = ms;
    this.placePlayhead();
  }

  /** The visible window (for the tests and the page's readout). */
  get visible(): TimeView {
    return { ...this.view };
  }

  private release(clientX: number): void {
    const press = this.press;
    this.press = undefined;
    if (!press) return;
    if (Math.abs(clientX - press.x) >= DRAG_PX && this.selection) {
      this.events.select(this.selection);
      return;
    }
    if (this.selection) {
      this.selection = null;
      this.events.select(null);
    }
    const at = playableAt(press.ms, this.intervals);
    if (at !== null) this.events.play(at);
    this.draw();
  }

  private msAt(clientX: number): number {
    const box = this.track.getBoundingClientRect();
    return msAtX(clientX - box.left, box.width || 1, this.view);
  }

  private center(): number {
    return (this.view.startMs + this.view.endMs) / 2;
  }

  private zoom(direction: 1 | -1, anchorMs: number): void {
    this.view = zoomTo(this.view, nextSpan(this.view, direction), anchorMs, this.day);
    this.draw();
  }

  private shift(share: number): void {
    this.view = pan(this.view, (this.view.endMs - this.view.startMs) * share, this.day);
    this.draw();
  }

  private placePlayhead(): void {
    const ms = this.playhead;
    const shown = ms !== null && ms >= this.view.startMs && ms <= this.view.endMs;
    this.playheadMark.hidden = !shown;
    if (shown) this.playheadMark.style.left = `${(((ms - this.view.startMs) / (this.view.endMs - this.view.startMs)) * 100).toFixed(3)}%`;
  }

  private draw(): void {
    const width = this.track.clientWidth || 1;
    const pct = (ms: number): string => `${((xAtMs(ms, width, this.view) / width) * 100).toFixed(3)}%`;
    const parts: HTMLElement[] = [];
    for (const i of this.intervals) {
      if (i.endMs <= this.view.startMs || i.startMs >= this.view.endMs) continue;
      const from = Math.max(i.startMs, this.view.startMs);
      const to = Math.min(i.endMs, this.view.endMs);
      parts.push(
        el('div', { class: 'recorded', style: `left:${pct(from)};width:${pct(this.view.startMs + to - from)}`, dataset: { start: String(i.startMs), end: String(i.endMs) } }),
      );
    }
    const offset = zoneOffsetMs(this.view.startMs, this.timeZone);
    for (const tick of ticks(this.view, Math.max(2, Math.floor(width / 80)), offset)) {
      parts.push(el('div', { class: 'tick', style: `left:${pct(tick)}` }, el('span', {}, localClock(tick, this.timeZone).slice(0, 5))));
    }
    if (this.selection) {
      const s = this.selection;
      parts.push(el('div', { class: 'selection', style: `left:${pct(s.startMs)};width:${pct(this.view.startMs + s.endMs - s.startMs)}` }));
    }
    this.track.replaceChildren(...parts, this.playheadMark);
    this.placePlayhead();
    this.track.dataset.viewStart = String(Math.round(this.view.startMs));
    this.track.dataset.viewEnd = String(Math.round(this.view.endMs));
    this.label.textContent = `${localClock(this.view.startMs, this.timeZone)} – ${localClock(this.view.endMs - 1, this.timeZone)}`;
  }
}
