import { GatewayError, errorMessage } from '../../core/errors';
import { TypedEmitter } from '../../core/events';
import type { Logger } from '../../core/log';
import type { JobPlacement } from '../../core/source';
import type { Registry } from '../../hub/registry';
import { assertStreamPath } from '../../hub/path';
import type { FlvTagCache } from '../../formats/flv/viewer-muxer';
import type { StreamInfo } from '../../core/sink';
import type { TsFeeds } from '../../formats/mpegts/ts-feeds';
import type { RecordPlan, RecordPlanRepo } from '../../../storage/repos/record-plans';
import type { RecordingFormat } from '../../../storage/repos/recordings';
import type { SegmentEvent, SegmentStore } from '../../../storage/recording/segment-store';
import type { Retention } from '../../../storage/recording/retention';
import { Recorder, type ActiveRecording, type FrameSource, type RecorderSpec } from './recorder';
import { PreRollBuffer } from './pre-roll';
import { normalizePlan, selectorMatches, type PlanInput } from './plans';
import { compileSchedule, weeklyHours, type PlanWindow } from './schedule';

export interface RecordingSettings {
  readonly segmentSeconds: number;
  readonly timeZone: string;
  readonly retryMs: number;
  readonly maxPendingBytes: number;
  readonly preRollMaxBytes: number;
  readonly deleteAfterDays: number;
}

export interface RecordingManagerDeps {
  readonly registry: Registry;
  readonly feeds: TsFeeds;
  readonly store: SegmentStore;
  readonly retention: Retention;
  readonly plans: RecordPlanRepo;
  readonly configPlans: readonly RecordPlan[];
  readonly tagCache: (info: StreamInfo) => FlvTagCache;
  readonly settings: RecordingSettings;
  readonly log: Logger;
  /** Paths of a GB28181 device id (its channels) or channel id. */
  readonly gbPaths?: (id: string) => string[];
  /** The clock (injected in tests). */
  readonly now?: () => number;
  /** Several workers: plans record a path in the process it runs in; patterns match every worker's live paths. */
  readonly placement?: JobPlacement;
}

export interface PlanView extends RecordPlan {
  readonly source: 'config' | 'api';
  readonly window: PlanWindow;
  /** A weekly plan's hours (7 rows Monday first, 24 `0`/`1`), for the console's grid. */
  readonly weeklyHours?: string[];
}

export interface RecordingEvents extends Record<string, unknown[]> {
  segment: [event: SegmentEvent];
  /** A recorder started, stopped, or its state or last error changed (`active()` tells). */
  recorders: [];
}

interface CompiledPlan {
  readonly plan: RecordPlan;
  readonly source: 'config' | 'api';
  readonly at: (now: number) => PlanWindow;
}

const TICK_MS = 1000;
const SWEEP_EVERY_TICKS = 60;

/**
 * Everything that records: plan recorders (started and stopped by their windows, ticked once a
 * second on the injected clock), manual and event recorders (with an end time), pre-roll
 * buffers, and the retention sweeps. Keys: `plan:{id}:{path}`, `manual:{path}`, `event:{path}`, `download:{path}`.
 */
export class RecordingManager {
  readonly events = new TypedEmitter<RecordingEvents>();
  private readonly recorders = new Map<string, Recorder>();
  private readonly preRolls = new Map<string, PreRollBuffer>();
  private plans = new Map<string, CompiledPlan>();
  private timer: NodeJS.Timeout | undefined;
  private offPublish: (() => void) | undefined;
  private ticks = 0;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly deps: RecordingManagerDeps) {
    this.now = deps.now ?? Date.now;
    for (const plan of deps.configPlans) this.compile(plan, 'config');
    this.loadStoredPlans();
  }

  /** Re-reads the API plans from the database (another worker changed them). */
  reloadPlans(): void {
    for (const [id, compiled] of [...this.plans]) if (compiled.source === 'api') this.plans.delete(id);
    this.loadStoredPlans();
    this.tick();
  }

  private loadStoredPlans(): void {
    for (const stored of this.deps.plans.list()) {
      if (this.plans.has(stored.plan.id)) continue; // a config plan of the same id wins
      try {
        this.compile(normalizePlan(stored.plan, this.deps.settings.timeZone), 'api');
      } catch (err) {
        this.deps.log.warn({ planId: stored.plan.id, err: errorMessage(err) }, 'stored record plan is invalid: ignored');
      }
    }
  }

  start(): void {
    // A new publisher is recorded from its first keyframe, not from the next tick.
    this.offPublish = this.deps.registry.events.on('publish', () => queueMicrotask(() => this.tick()));
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    this.tick();
  }

  /** Evaluates every plan now: starts recorders of open windows, stops those of closed ones. */
  tick(): void {
    if (this.closed) return;
    const now = this.now();
    const wanted = new Set<string>();
    const preRollWanted = new Map<string, number>();
    for (const { plan, at } of this.plans.values()) {
      if (!plan.enabled) continue;
      const paths = this.resolve(plan);
      if (plan.preRoll > 0) for (const path of paths) preRollWanted.set(path, Math.max(plan.preRoll, preRollWanted.get(path) ?? 0));
      const window = at(now);
      if (!window.active) continue;
      for (const path of paths) {
        const key = `plan:${plan.id}:${path}`;
        wanted.add(key);
        if (!this.recorders.has(key))
          this.startRecorder(key, { path, formats: plan.formats, reason: 'plan', planId: plan.id, segmentSeconds: plan.segmentSeconds || this.deps.settings.segmentSeconds });
      }
    }
    for (const [key, recorder] of this.recorders) {
      if (key.startsWith('plan:') && !wanted.has(key)) this.stopRecorder(key, 'the plan window closed');
      else if (recorder.until !== undefined && recorder.until <= now) this.stopRecorder(key, 'its time is up');
    }
    this.syncPreRolls(preRollWanted);
    this.guardDisk();
    if (++this.ticks % SWEEP_EVERY_TICKS === 0) this.sweep();
  }

  /** Manual recording; a second start of the same path changes its duration. */
  startManual(path: string, formats: readonly RecordingFormat[] | undefined, durationSeconds: number | undefined): ActiveRecording {
    assertStreamPath(path);
    const key = `manual:${path}`;
    let recorder = this.recorders.get(key);
    if (!recorder)
      recorder = this.startRecorder(key, { path, formats: formats?.length ? formats : ['flv'], reason: 'manual', planId: null, segmentSeconds: this.deps.settings.segmentSeconds });
    recorder.until = durationSeconds ? this.now() + durationSeconds * 1000 : undefined;
    return recorder.snapshot();
  }

  async stopManual(path: string): Promise<boolean> {
    const key = `manual:${path}`;
    if (!this.recorders.has(key)) return false;
    await this.stopRecorder(key, 'stopped through the API');
    return true;
  }

  /**
   * Event recording: the last `preSeconds` (from the path's pre-roll buffer, else the hub's GOP
   * cache) and `postSeconds` more, as FLV. An event inside a running window extends it.
   */
  event(path: string, preSeconds: number, postSeconds: number): ActiveRecording {
    assertStreamPath(path);
    const key = `event:${path}`;
    const until = this.now() + postSeconds * 1000;
    const running = this.recorders.get(key);
    if (running) {
      running.until = Math.max(running.until ?? 0, until);
      return running.snapshot();
    }
    const buffer = this.preRolls.get(path);
    const frames: FrameSource | undefined = buffer && preSeconds > 0 ? buffer.subscribeFrom(preSeconds) : undefined;
    const recorder = this.startRecorder(key, {
      path,
      formats: ['flv'],
      reason: 'event',
      planId: null,
      segmentSeconds: Math.max(this.deps.settings.segmentSeconds, preSeconds + postSeconds + 5),
      frames,
    });
    recorder.until = until;
    return recorder.snapshot();
  }

  /**
   * A device's clip (GB28181 download) as FLV, timed from `startAtMs` by its media clock. The
   * recorder waits `waitMs` for the stream (the INVITE may take that long) and records until
   * `stopDownload`.
   */
  startDownload(path: string, startAtMs: number, waitMs: number): Recorder {
    assertStreamPath(path);
    const key = `download:${path}`;
    if (this.recorders.has(key)) throw new GatewayError('STREAM_BUSY', `${path} is being downloaded already`);
    const registry = this.deps.registry;
    const frames: FrameSource = { subscribe: (p, sink) => registry.subscribe(p, sink, { waitMs }) };
    return this.startRecorder(key, { path, formats: ['flv'], reason: 'download', planId: null, segmentSeconds: this.deps.settings.segmentSeconds, frames, startAtMs });
  }

  /** Ends a download's recorder: its open segment is closed (and its row completed). */
  stopDownload(path: string, reason: string): Promise<void> {
    return this.stopRecorder(`download:${path}`, reason);
  }

  active(): ActiveRecording[] {
    return [...this.recorders.values()].map((r) => r.snapshot());
  }

  listPlans(): PlanView[] {
    const now = this.now();
    return [...this.plans.values()].map((c) => this.view(c, now));
  }

  getPlan(id: string): PlanView | undefined {
    const c = this.plans.get(id);
    return c ? this.view(c, this.now()) : undefined;
  }

  private view(c: { plan: RecordPlan; source: 'config' | 'api'; at: (now: number) => PlanWindow }, now: number): PlanView {
    return { ...c.plan, source: c.source, window: c.at(now), ...(c.plan.when === 'weekly' ? { weeklyHours: weeklyHours(c.plan.weekly) } : {}) };
  }

  createPlan(input: PlanInput): PlanView {
    const plan = normalizePlan(input, this.deps.settings.timeZone);
    if (this.plans.has(plan.id)) throw new GatewayError('STREAM_BUSY', `record plan ${plan.id} exists`);
    this.deps.plans.save(plan);
    this.compile(plan, 'api');
    this.tick();
    return this.getPlan(plan.id)!;
  }

  updatePlan(id: string, patch: PlanInput): PlanView {
    const current = this.editable(id);
    const plan = normalizePlan({ ...patch, id }, this.deps.settings.timeZone, current.plan);
    this.deps.plans.save(plan);
    this.compile(plan, 'api');
    this.tick();
    return this.getPlan(id)!;
  }

  deletePlan(id: string): void {
    this.editable(id);
    this.deps.plans.delete(id);
    this.plans.delete(id);
    this.tick();
  }

  /** Retention days of a segment by its plan (0: keep), for the sweeps. */
  daysFor(planId: string | null): number {
    const own = planId ? this.plans.get(planId)?.plan.deleteAfterDays : undefined;
    return own || this.deps.settings.deleteAfterDays;
  }

  shortestDays(): number {
    const all = [this.deps.settings.deleteAfterDays, ...[...this.plans.values()].map((c) => c.plan.deleteAfterDays)].filter((d) => d > 0);
    return all.length ? Math.min(...all) : 0;
  }

  /** A write error of a recorder: ENOSPC asks the disk guard for room at once. */
  writeError(recorder: Recorder, format: RecordingFormat, err: NodeJS.ErrnoException): void {
    this.deps.log.error({ stream: recorder.path, format, code: err.code, err: errorMessage(err) }, 'recording write failed');
    if (err.code === 'ENOSPC') this.guardDisk();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.offPublish?.();
    for (const buffer of this.preRolls.values()) buffer.close();
    this.preRolls.clear();
    await Promise.all([...this.recorders.keys()].map((key) => this.stopRecorder(key, 'shutting down')));
  }

  private compile(plan: RecordPlan, source: 'config' | 'api'): void {
    this.plans.set(plan.id, { plan, source, at: compileSchedule(plan, this.deps.settings.timeZone) });
  }

  private editable(id: string): CompiledPlan {
    const current = this.plans.get(id);
    if (!current) throw new GatewayError('NOT_FOUND', `no record plan ${id}`);
    if (current.source === 'config') throw new GatewayError('BAD_REQUEST', `record plan ${id} comes from the config file: change it there`);
    return current;
  }

  /** The paths a plan covers now: exact paths always, patterns over the live streams, GB ids via the catalog. */
  private resolve(plan: RecordPlan): string[] {
    const out = new Set<string>();
    let live: string[] | undefined;
    for (const selector of plan.streams) {
      if (/^\d{20}$/.test(selector)) for (const p of this.deps.gbPaths?.(selector) ?? []) out.add(p);
      else if (!selector.includes('*')) out.add(selector);
      else {
        live ??=
          this.deps.placement?.livePaths() ??
          this.deps.registry
            .list()
            .filter((s) => s.publisher)
            .map((s) => s.path);
        for (const p of live) if (selectorMatches(selector, p)) out.add(p);
      }
    }
    const placement = this.deps.placement;
    return placement ? [...out].filter((p) => placement.runsHere(p)) : [...out];
  }

  private startRecorder(key: string, spec: Omit<RecorderSpec, 'maxPendingBytes' | 'retryMs'>): Recorder {
    const { settings, log } = this.deps;
    const recorder = new Recorder(
      { ...spec, maxPendingBytes: settings.maxPendingBytes, retryMs: settings.retryMs },
      {
        registry: this.deps.registry,
        feeds: this.deps.feeds,
        store: this.deps.store,
        tagCache: this.deps.tagCache,
        log,
        onWriteError: (r, format, err) => this.writeError(r, format, err),
        onChange: () => this.events.emit('recorders'),
      },
    );
    this.recorders.set(key, recorder);
    log.info({ key, formats: spec.formats }, 'recording starts');
    recorder.start();
    this.events.emit('recorders');
    return recorder;
  }

  private async stopRecorder(key: string, reason: string): Promise<void> {
    const recorder = this.recorders.get(key);
    if (!recorder) return;
    this.recorders.delete(key);
    this.events.emit('recorders');
    await recorder.stop(reason);
  }

  private syncPreRolls(wanted: Map<string, number>): void {
    for (const [path, buffer] of this.preRolls) {
      if (!wanted.has(path)) {
        buffer.close();
        this.preRolls.delete(path);
      }
    }
    for (const [path, seconds] of wanted) {
      if (this.preRolls.has(path)) continue;
      const buffer = new PreRollBuffer(path, seconds, this.deps.settings.preRollMaxBytes, this.deps.registry, this.deps.log.child({ stream: path, component: 'pre-roll' }));
      this.preRolls.set(path, buffer);
      buffer.start();
    }
  }

  private guardDisk(): void {
    try {
      this.deps.retention.makeSpace();
    } catch (err) {
      this.deps.log.warn({ err: errorMessage(err) }, 'disk guard failed');
    }
  }

  private sweep(): void {
    try {
      this.deps.retention.sweep(this.now());
    } catch (err) {
      this.deps.log.warn({ err: errorMessage(err) }, 'retention sweep failed');
    }
  }
}
