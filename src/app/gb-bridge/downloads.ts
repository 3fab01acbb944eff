import { GatewayError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { DownloadDto, DownloadRequest } from '../../api/downloads';
import type { DownloadRecord, DownloadRepo, DownloadState } from '../../../storage/repos/gb-downloads';
import type { SegmentEvent } from '../../../storage/recording/segment-store';
import { downloadPath } from './bridge';
import type { PlaySession } from './play-session';

/** What the downloads need from the bridge (the Download INVITE) and from the recording manager (the recorder). */
export interface GbDownloadsDeps {
  bridge: {
    download(deviceId: string, channelId: string, range: { start: number; end: number }, speed: number, onEnd: (reason: string) => void): Promise<PlaySession>;
    stopDownload(session: PlaySession, reason: string): Promise<void>;
  };
  recording: {
    startDownload(path: string, startAtMs: number, waitMs: number): { mediaEndMs(): number | undefined; snapshot(): { bytes: number } };
    stopDownload(path: string, reason: string): Promise<void>;
    events: { on(event: 'segment', listener: (event: SegmentEvent) => void): () => void };
  };
  repo: DownloadRepo;
  /** How long the recorder waits for the stream to publish (the INVITE and the first RTP). */
  waitMs: number;
  maxSpeed: number;
  log: Logger;
  now?: () => number;
}

/** Longest range one download may ask for. */
export const MAX_DOWNLOAD_MS = 24 * 3600_000;
/** Media this close to the range's end counts as all of it when a device stops without MediaStatus 121 (wvp#1758). */
const END_TOLERANCE_MS = 2000;
/** Progress is written to SQLite this often while a download runs. */
const PERSIST_MS = 1000;

interface Running {
  readonly id: number;
  readonly record: DownloadRecord;
  readonly recorder: { mediaEndMs(): number | undefined; snapshot(): { bytes: number } };
  readonly recordingIds: number[];
  session?: PlaySession;
  starting?: Promise<unknown>;
  cancelled?: string;
  timer?: NodeJS.Timeout;
  finished?: Promise<void>;
}

/**
 * GB28181 downloads: each one is a Download INVITE whose media a recorder writes as FLV under
 * `rtp/{deviceId}_{channelId}_download`, timed by the device's clip (the range start plus media
 * time), so the playback API serves it by the device's own time range. One row per download in
 * gb_downloads with state and progress; rows a stopped gateway left running are failed at start.
 * Spec: GB/T 28181-2016 §9.9 (download speed in the offer, file size in the answer: Annex F)
 */
export class GbDownloads {
  private readonly running = new Map<number, Running>();
  private readonly offSegment: () => void;
  private readonly now: () => number;

  constructor(private readonly deps: GbDownloadsDeps) {
    this.now = deps.now ?? Date.now;
    const failed = deps.repo.failUnfinished('the gateway stopped during the download');
    if (failed) deps.log.warn({ failed }, 'downloads left running by a stopped gateway are marked failed');
    this.offSegment = deps.recording.events.on('segment', (event) => {
      for (const run of this.running.values()) if (run.record.path === event.path && !run.recordingIds.includes(event.id)) run.recordingIds.push(event.id);
    });
  }

  /** INVITEs the device and resolves once its media flows (or rejects with why it did not: 502/504). */
  async start(request: DownloadRequest): Promise<DownloadDto> {
    const { deviceId, channelId, startMs, endMs } = request;
    const speed = request.speed ?? 1;
    this.validate(startMs, endMs, speed);
    const path = downloadPath(deviceId, channelId);
    const busy = [...this.running.values()].find((r) => r.record.path === path);
    if (busy) throw new GatewayError('STREAM_BUSY', `channel ${channelId} of device ${deviceId} is being downloaded already (download ${busy.id}); one at a time per channel`);
    const recorder = this.deps.recording.startDownload(path, startMs, this.deps.waitMs);
    const id = this.deps.repo.insert({ deviceId, channelId, path, startMs, endMs, speed }, this.now());
    const run: Running = { id, record: this.deps.repo.get(id)!, recorder, recordingIds: [] };
    this.running.set(id, run);
    const log = this.deps.log.child({ download: id, stream: path });
    const range = { start: Math.floor(startMs / 1000), end: Math.ceil(endMs / 1000) };
    run.starting = this.deps.bridge.download(deviceId, channelId, range, speed, (reason) => void this.ended(run, reason));
    try {
      run.session = (await run.starting) as PlaySession;
    } catch (err) {
      await this.finish(run, run.cancelled ? 'cancelled' : 'failed', run.cancelled ?? errorMessage(err));
      if (run.cancelled) return this.view(id)!;
      throw err;
    }
    if (run.cancelled) {
      await this.deps.bridge.stopDownload(run.session, run.cancelled);
      await this.finish(run, 'cancelled', run.cancelled);
      return this.view(id)!;
    }
    this.deps.repo.update(id, { state: 'downloading', mediaAt: this.now(), fileSize: run.session.answer?.fileSize ?? null });
    run.timer = setInterval(() => this.persist(run), PERSIST_MS);
    run.timer.unref();
    log.info({ deviceId, channelId, startMs, endMs, speed }, 'GB28181 download started');
    return this.view(id)!;
  }

  /** Cancels a running download (BYE): what was received stays as a recording, the row says cancelled. undefined: not running. */
  async cancel(id: number, reason = 'cancelled through the API'): Promise<DownloadDto | undefined> {
    const run = this.running.get(id);
    if (!run) return undefined;
    if (!run.cancelled) {
      run.cancelled = `${reason} at ${this.percentOf(run.record, this.mediaMsOf(run))}%`;
      if (run.starting && !run.session) await run.starting.catch(() => undefined);
      if (run.session) {
        await this.deps.bridge.stopDownload(run.session, run.cancelled);
        await this.finish(run, 'cancelled', run.cancelled);
      }
    }
    await run.finished;
    return this.view(id);
  }

  get(id: number): DownloadDto | undefined {
    return this.view(id);
  }

  find(query: { deviceId?: string; state?: DownloadState; limit?: number; offset?: number }): { total: number; items: DownloadDto[] } {
    const { total, items } = this.deps.repo.find(query);
    return { total, items: items.map((r) => this.dto(r)) };
  }

  /** Forgets a finished download (its recordings stay). false: none; STREAM_BUSY while it runs. */
  remove(id: number): boolean {
    if (this.running.has(id)) throw new GatewayError('STREAM_BUSY', `download ${id} is running: DELETE cancels it first`);
    return this.deps.repo.remove(id);
  }

  /** Shutdown: every running download ends as failed (it did not finish), its recording closed. */
  async close(): Promise<void> {
    this.offSegment();
    await Promise.all(
      [...this.running.values()].map(async (run) => {
        if (run.session) await this.deps.bridge.stopDownload(run.session, 'the gateway is stopping');
        await this.finish(run, 'failed', 'the gateway stopped during the download');
      }),
    );
  }

  private validate(startMs: number, endMs: number, speed: number): void {
    if (!(endMs > startMs)) throw new GatewayError('BAD_REQUEST', 'end must be after start');
    if (endMs - startMs > MAX_DOWNLOAD_MS) throw new GatewayError('BAD_REQUEST', `a download covers at most ${MAX_DOWNLOAD_MS / 3600_000} h`);
    if (endMs > this.now() + 5000) throw new GatewayError('BAD_REQUEST', 'a download is of a recording that has ended: end is in the future');
    if (!Number.isInteger(speed) || speed < 1 || speed > this.deps.maxSpeed) throw new GatewayError('BAD_REQUEST', `speed must be an integer from 1 to ${this.deps.maxSpeed}`);
  }

  /** The session ended by itself: complete when the device said so (MediaStatus 121) or sent (nearly) the whole range. */
  private async ended(run: Running, reason: string): Promise<void> {
    if (run.cancelled || run.finished) return;
    const mediaMs = this.mediaMsOf(run);
    const whole = mediaMs >= run.record.endMs - run.record.startMs - END_TOLERANCE_MS;
    if (run.session?.deviceFinished || whole) await this.finish(run, 'complete', null);
    else await this.finish(run, 'failed', `${reason} at ${this.percentOf(run.record, mediaMs)}%`);
  }

  /** Closes the recorder (its segment row completes), writes the final state; once. */
  private finish(run: Running, state: DownloadState, error: string | null): Promise<void> {
    run.finished ??= (async () => {
      clearInterval(run.timer);
      try {
        await this.deps.recording.stopDownload(run.record.path, `download ${state}`);
      } catch (err) {
        this.deps.log.warn({ download: run.id, err: errorMessage(err) }, 'closing the download recording failed');
      }
      this.persist(run);
      this.deps.repo.update(run.id, { state, error, endedAt: this.now() });
      this.running.delete(run.id);
      this.deps.log.info({ download: run.id, state, error, mediaMs: this.mediaMsOf(run) }, 'GB28181 download ended');
    })();
    return run.finished;
  }

  private persist(run: Running): void {
    this.deps.repo.update(run.id, { mediaMs: this.mediaMsOf(run), bytes: run.recorder.snapshot().bytes, recordingIds: run.recordingIds });
  }

  private mediaMsOf(run: Running): number {
    const end = run.recorder.mediaEndMs();
    return end === undefined ? 0 : Math.max(0, end - run.record.startMs);
  }

  private percentOf(record: Pick<DownloadRecord, 'startMs' | 'endMs' | 'state'>, mediaMs: number): number {
    if (record.state === 'complete') return 100;
    return Math.min(99.9, Math.floor((mediaMs / (record.endMs - record.startMs)) * 1000) / 10);
  }

  private view(id: number): DownloadDto | undefined {
    const record = this.deps.repo.get(id);
    return record ? this.dto(record) : undefined;
  }

  /** A running download reads its progress live; a finished one as stored. */
  private dto(stored: DownloadRecord): DownloadDto {
    const run = this.running.get(stored.id);
    const mediaMs = run ? this.mediaMsOf(run) : stored.mediaMs;
    const bytes = run ? run.recorder.snapshot().bytes : stored.bytes;
    const recordingIds = run ? [...run.recordingIds] : stored.recordingIds;
    const wallMs = stored.mediaAt === null ? 0 : (stored.endedAt ?? this.now()) - stored.mediaAt;
    return {
      id: stored.id,
      deviceId: stored.deviceId,
      channelId: stored.channelId,
      path: stored.path,
      start: new Date(stored.startMs).toISOString(),
      end: new Date(stored.endMs).toISOString(),
      startMs: stored.startMs,
      endMs: stored.endMs,
      speed: stored.speed,
      state: stored.state,
      error: stored.error,
      percent: this.percentOf(stored, mediaMs),
      mediaMs,
      bytes,
      fileSize: stored.fileSize,
      achievedSpeed: wallMs > 0 && mediaMs > 0 ? Math.round((mediaMs / wallMs) * 100) / 100 : null,
      recordingIds,
      playback: `/record/${stored.path}.flv?start=${stored.startMs}&end=${stored.endMs}`,
      createdAt: new Date(stored.createdAt).toISOString(),
      endedAt: stored.endedAt === null ? null : new Date(stored.endedAt).toISOString(),
    };
  }
}
