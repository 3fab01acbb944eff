import { join } from 'node:path';
import type { Logger } from '../../core/log';
import type { JobPlacement } from '../../core/source';
import { assertTimeZone, systemTimeZone } from '../../core/zoned-time';
import { GatewayError } from '../../core/errors';
import type { GatewayConfig } from '../../config/schema';
import type { TsFeeds } from '../../formats/mpegts/ts-feeds';
import { FLV_TAG_FEEDS } from '../../formats/flv/viewer-muxer';
import type { Registry } from '../../hub/registry';
import type { Db } from '../../../storage/db';
import { RecordingsRepo, type RecordingRow } from '../../../storage/repos/recordings';
import { RecordPlanRepo, type RecordPlan } from '../../../storage/repos/record-plans';
import { RecordingLayout } from '../../../storage/recording/layout';
import { SegmentStore } from '../../../storage/recording/segment-store';
import { Retention } from '../../../storage/recording/retention';
import { recoverOpenSegments } from '../../../storage/recording/recovery';
import { existsSync } from 'node:fs';
import type { RecordingsService } from '../../api/recordings';
import { RecordingManager } from './manager';
import { normalizePlan } from './plans';

export interface Recording {
  readonly manager: RecordingManager;
  readonly repo: RecordingsRepo;
  readonly layout: RecordingLayout;
  readonly retention: Retention;
  /** What the API calls. */
  readonly service: RecordingsService;
  /** Recovers segments a crash left open, then starts the plans. */
  start(): void;
  /** Recovers the given open rows (a restarted cluster worker: those no live worker writes). */
  recoverRows(rows: readonly RecordingRow[]): { recovered: number; missing: number };
  close(): Promise<void>;
}

export interface RecordingCompose {
  readonly config: GatewayConfig;
  readonly registry: Registry;
  readonly feeds: TsFeeds;
  readonly db: Db;
  readonly log: Logger;
  readonly gbPaths?: (id: string) => string[];
  /** Several workers: where plans record (manager), and whether this process recovers a crashed run's segments. */
  readonly placement?: JobPlacement;
  readonly recovers?: boolean;
}

/** Builds the recording side (index, store, retention, manager) from the config. */
export function createRecording({ config, registry, feeds, db, log, gbPaths, placement, recovers = true }: RecordingCompose): Recording {
  const record = config.record;
  const timeZone = record.timezone || systemTimeZone();
  try {
    assertTimeZone(timeZone);
  } catch {
    throw new GatewayError('CONFIG_INVALID', `config key "record.timezone": "${timeZone}" is not a time zone this system knows`);
  }
  const layout = new RecordingLayout(record.dir || join(config.storage.dir, 'record'), timeZone);
  const repo = new RecordingsRepo(db);
  const recLog = log.child({ component: 'recording' });
  let manager: RecordingManager | undefined;
  const store = new SegmentStore({ layout, repo, flushMs: record.flushSeconds * 1000, log: recLog, onSegment: (event) => manager?.events.emit('segment', event) });
  const retention = new Retention({
    store,
    repo,
    log: recLog.child({ part: 'retention' }),
    daysFor: (planId) => manager?.daysFor(planId) ?? record.deleteAfterDays,
    shortestDays: () => manager?.shortestDays() ?? record.deleteAfterDays,
    minFreeBytes: record.minFreeBytes,
    maxBytes: record.maxBytes,
  });
  const configPlans: RecordPlan[] = record.plans.map((p) => {
    try {
      return normalizePlan(p, timeZone);
    } catch (err) {
      throw new GatewayError('CONFIG_INVALID', `config key "record.plans" (${p.id}): ${(err as Error).message}`);
    }
  });
  const hevcMode = config.http.flvHevcMode;
  manager = new RecordingManager({
    registry,
    feeds,
    store,
    retention,
    plans: new RecordPlanRepo(db),
    configPlans,
    tagCache: (info) => info.feed(FLV_TAG_FEEDS[hevcMode]),
    settings: {
      segmentSeconds: record.segmentSeconds,
      timeZone,
      retryMs: record.retry * 1000,
      maxPendingBytes: record.maxPendingBytes,
      preRollMaxBytes: record.preRollMaxBytes,
      deleteAfterDays: record.deleteAfterDays,
    },
    log: recLog,
    gbPaths,
    placement,
  });
  const ready = manager;
  const service: RecordingsService = {
    find(query) {
      const rows = repo.find(query);
      for (const row of rows) {
        // A file deleted by hand: the row says so from now on.
        if ((row.status === 'complete' || row.status === 'recovered') && !existsSync(layout.inside(row.file))) {
          repo.setStatus(row.id, 'missing');
          row.status = 'missing';
        }
      }
      return { rows, total: repo.count(query) };
    },
    remove(id) {
      const row = repo.get(id);
      if (!row) return false;
      if (row.status === 'recording') throw new GatewayError('STREAM_BUSY', `recording ${id} is still being written`);
      return retention.deleteRow(row);
    },
    startManual: (path, formats, duration) => ready.startManual(path, formats, duration),
    stopManual: (path) => ready.stopManual(path),
    event: (path, pre, post) => ready.event(path, pre, post),
    active: () => ready.active(),
    listPlans: () => ready.listPlans(),
    getPlan: (id) => ready.getPlan(id),
    createPlan: (body) => ready.createPlan(body),
    updatePlan: (id, body) => ready.updatePlan(id, body),
    deletePlan: (id) => ready.deletePlan(id),
  };
  function recoverRows(rows: readonly RecordingRow[]): { recovered: number; missing: number } {
    const result = recoverOpenSegments(repo, layout, recLog, rows);
    for (const folder of result.hlsFolders) store.writePlaylist(folder.path, folder.startMs, true);
    if (result.recovered || result.missing) recLog.warn(result, 'segments left open by an unclean stop were recovered');
    return { recovered: result.recovered, missing: result.missing };
  }
  return {
    manager: ready,
    repo,
    layout,
    retention,
    service,
    start() {
      if (recovers) recoverRows(repo.open());
      ready.start();
    },
    recoverRows,
    close: () => ready.close(),
  };
}
