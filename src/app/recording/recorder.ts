import { errorMessage } from '../../core/errors';
import type { Frame } from '../../core/frame';
import type { Logger } from '../../core/log';
import type { Sink, SinkDescription, StreamInfo } from '../../core/sink';
import { isVideoTrack, type Track } from '../../core/track';
import type { FlvTagCache } from '../../formats/flv/viewer-muxer';
import type { TsChunk, TsConsumer } from '../../formats/mpegts/ts-feed';
import type { TsFeeds } from '../../formats/mpegts/ts-feeds';
import type { Registry } from '../../hub/registry';
import type { RecordingFormat } from '../../../storage/repos/recordings';
import { FlvSegmentMuxer } from '../../../storage/recording/flv-segment-muxer';
import type { SegmentStore } from '../../../storage/recording/segment-store';
import { SegmentSeries, type SeriesContext } from './segment-series';

/** Where a recorder's frames come from: the hub, or a pre-roll buffer that replays first. */
export interface FrameSource {
  subscribe(path: string, sink: Sink): Promise<{ close(reason?: string): void }>;
}

export interface RecorderDeps {
  readonly registry: Registry;
  readonly feeds: TsFeeds;
  readonly store: SegmentStore;
  /** The stream's shared FLV tags, leased at start (hub rule 9). */
  readonly tagCache: (info: StreamInfo) => FlvTagCache;
  readonly log: Logger;
  readonly onWriteError: (recorder: Recorder, format: RecordingFormat, err: NodeJS.ErrnoException) => void;
  /** What `snapshot()` says (state, last error) may have changed. */
  readonly onChange?: () => void;
}

export interface RecorderSpec {
  readonly path: string;
  readonly formats: readonly RecordingFormat[];
  readonly reason: 'plan' | 'manual' | 'event' | 'download';
  readonly planId: string | null;
  readonly segmentSeconds: number;
  readonly maxPendingBytes: number;
  /** Delay before a failed subscription or write is tried again. */
  readonly retryMs: number;
  /** FLV frames come from here instead of the hub (event pre-roll). */
  readonly frames?: FrameSource;
  /** A device's clip: its first frame's epoch ms on the device clock (see SeriesContext.startAtMs). */
  readonly startAtMs?: number;
}

/** A recorder as GET /api/record/active shows it. */
export interface ActiveRecording {
  readonly path: string;
  readonly formats: readonly RecordingFormat[];
  readonly reason: string;
  readonly planId: string | null;
  readonly since: string;
  readonly sinceMs: number;
  readonly state: 'waiting' | 'recording';
  readonly bytes: number;
  readonly files: readonly string[];
  readonly segments: number;
  readonly drops: number;
  /** Bytes handed to open files that the disk has not taken yet (bounded by record.maxPendingBytes per format). */
  readonly pendingBytes: number;
  readonly lastError: string | null;
  readonly until: string | null;
}

function codecsOf(tracks: readonly Track[]): { videoCodec: string | null; width: number | null; height: number | null; audioCodec: string | null } {
  const video = tracks.find(isVideoTrack);
  const audio = tracks.find((t) => !isVideoTrack(t));
  return { videoCodec: video?.codec ?? null, width: video?.width ?? null, height: video?.height ?? null, audioCodec: audio?.codec ?? null };
}

/**
 * Records one stream for one reason (a plan, a manual start, an event): FLV from the hub's
 * frames, TS and HLS from the stream's shared TS feed. It is a hub reader, so it keeps an
 * on-demand source up while it records; when the stream ends or is not there yet it tries
 * again every `retryMs` until stopped.
 */
export class Recorder {
  readonly sinceMs = Date.now();
  until: number | undefined;
  private readonly series = new Map<RecordingFormat, SegmentSeries>();
  private flv: { close(reason?: string): void } | undefined;
  private ts: { detach(): void } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private admitting = false;
  private tracks: readonly Track[] = [];
  private tsTracks: readonly Track[] = [];
  private lastConnectError: string | undefined;
  private readonly log: Logger;

  constructor(
    readonly spec: RecorderSpec,
    private readonly deps: RecorderDeps,
  ) {
    this.log = deps.log.child({ stream: spec.path, recorder: spec.reason, planId: spec.planId ?? undefined });
    const ctx: SeriesContext = {
      store: deps.store,
      path: spec.path,
      planId: spec.planId,
      reason: spec.reason,
      segmentMs: () => this.spec.segmentSeconds * 1000,
      maxPendingBytes: spec.maxPendingBytes,
      retryMs: spec.retryMs,
      log: this.log,
      onWriteError: (format, err) => deps.onWriteError(this, format, err),
      ...(deps.onChange ? { onChange: deps.onChange } : {}),
      ...(spec.startAtMs !== undefined ? { startAtMs: spec.startAtMs } : {}),
    };
    for (const format of spec.formats) {
      const tracks = (): readonly Track[] => (format === 'flv' ? this.tracks : this.tsTracks);
      this.series.set(format, new SegmentSeries(format, ctx, () => codecsOf(tracks())));
    }
  }

  get path(): string {
    return this.spec.path;
  }

  start(): void {
    this.connect();
  }

  /** Ends the recording: open segments are closed (HLS playlists get ENDLIST). */
  async stop(reason: string): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.flv?.close(reason);
    this.flv = undefined;
    this.ts?.detach();
    this.ts = undefined;
    await Promise.all([...this.series.values()].map((s) => s.close(true)));
    this.log.info({ reason }, 'recording stopped');
  }

  /** The end of the media recorded so far (epoch ms), over every format. */
  mediaEndMs(): number | undefined {
    const ends = [...this.series.values()].map((s) => s.mediaEndMs).filter((ms): ms is number => ms !== undefined);
    return ends.length ? Math.max(...ends) : undefined;
  }

  snapshot(): ActiveRecording {
    const all = [...this.series.values()];
    const files = all.map((s) => s.file).filter((f): f is string => f !== undefined);
    const lastError = all.map((s) => s.lastError).find((e) => e !== undefined) ?? this.lastConnectError ?? null;
    return {
      path: this.spec.path,
      formats: this.spec.formats,
      reason: this.spec.reason,
      planId: this.spec.planId,
      since: new Date(this.sinceMs).toISOString(),
      sinceMs: this.sinceMs,
      state: files.length > 0 ? 'recording' : 'waiting',
      bytes: all.reduce((n, s) => n + s.bytes, 0),
      files,
      segments: all.reduce((n, s) => n + s.segments, 0),
      drops: all.reduce((n, s) => n + s.dropped, 0),
      pendingBytes: all.reduce((n, s) => n + s.pendingBytes, 0),
      lastError,
      until: this.until === undefined ? null : new Date(this.until).toISOString(),
    };
  }

  /** Passes the admission chain as an internal reader (hub rule 11), then subscribes what is missing. */
  private connect(): void {
    if (this.stopped || this.admitting) return;
    this.admitting = true;
    const request = { action: 'play', path: this.spec.path, protocol: 'record', query: {}, internal: true } as const;
    this.deps.registry.admission.admit(request).then(
      () => {
        this.admitting = false;
        if (this.stopped) return;
        if (this.series.has('flv') && !this.flv) this.connectFlv();
        if ((this.series.has('ts') || this.series.has('hls')) && !this.ts) this.connectTs();
      },
      (err: unknown) => {
        this.admitting = false;
        this.retry(err);
      },
    );
  }

  private retry(err: unknown): void {
    const message = errorMessage(err);
    if (message !== this.lastConnectError) this.log.info({ err: message }, 'recording waits for its stream');
    this.lastConnectError = message;
    this.deps.onChange?.();
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, this.spec.retryMs);
  }

  private connectFlv(): void {
    const flv = this.series.get('flv')!;
    let muxer: FlvSegmentMuxer | undefined;
    const placeholder = { close: () => undefined };
    this.flv = placeholder;
    const sink: Sink = {
      onStart: (info: StreamInfo) => {
        muxer = new FlvSegmentMuxer(this.deps.tagCache(info));
        this.tracks = info.tracks;
        this.lastConnectError = undefined;
        this.deps.onChange?.();
      },
      onTracks: (tracks) => {
        this.tracks = tracks;
        flv.requestCut();
      },
      onFrame: (frame: Frame) => {
        const video = frame.codec === 'h264' || frame.codec === 'h265';
        const hasVideo = this.tracks.some(isVideoTrack);
        const unit = { dts: frame.dts, receivedAt: frame.receivedAt, startable: video ? frame.keyframe : !hasVideo, clock: video || !hasVideo };
        const m = muxer!;
        flv.push(unit, (opening) => (opening ? [...m.begin(this.tracks, frame.dts), ...m.frame(frame)] : m.frame(frame)));
      },
      onEnd: (reason) => {
        if (this.flv === placeholder || this.flv === subscription) this.flv = undefined;
        void flv.close(true);
        if (!this.stopped) this.retry(new Error(`stream ended: ${reason}`));
      },
      pendingBytes: () => 0, // the series drops to the next keyframe itself; the hub must never close a recorder
      describe: (): SinkDescription => ({ protocol: 'record', bytesOut: flv.bytes }),
    };
    let subscription: { close(reason?: string): void } | undefined;
    const source = this.spec.frames ?? this.deps.registry;
    source.subscribe(this.spec.path, sink).then(
      (sub) => {
        subscription = sub;
        if (this.stopped || this.flv !== placeholder) sub.close('recording stopped');
        else this.flv = sub;
      },
      (err: unknown) => {
        if (this.flv === placeholder) this.flv = undefined;
        this.retry(err);
      },
    );
  }

  private connectTs(): void {
    const targets = (['ts', 'hls'] as const).map((f) => this.series.get(f)).filter((s): s is SegmentSeries => s !== undefined);
    const placeholder = { detach: () => undefined };
    this.ts = placeholder;
    const consumer: TsConsumer = {
      onChunk: (chunk: TsChunk) => {
        if (chunk.discontinuity || this.tsTracks.length === 0) this.tsTracks = this.deps.feeds.get(this.spec.path)?.tracks ?? [];
        if (chunk.discontinuity) for (const s of targets) s.requestCut();
        const unit = { dts: chunk.dts, receivedAt: chunk.receivedAt, startable: chunk.randomAccess, clock: chunk.video || !this.tsTracks.some(isVideoTrack) };
        for (const s of targets) s.push(unit, () => [chunk.data]);
      },
      onEnd: (reason) => {
        reader.close(reason);
        if (this.ts === placeholder || this.ts === counted) this.ts = undefined;
        for (const s of targets) void s.close(true);
        if (!this.stopped) this.retry(new Error(`stream ended: ${reason}`));
      },
    };
    // The TS feed is shared and uncounted: the recorder counts itself as a reader (hub rule 10).
    const reader = this.deps.registry.reader(this.spec.path, { protocol: 'record', bytesOut: () => targets.reduce((n, s) => n + s.bytes, 0) });
    let counted: { detach(): void } | undefined;
    this.deps.feeds.attach(this.spec.path, consumer).then(
      (att) => {
        counted = {
          detach: () => {
            att.detach();
            reader.close('recording stopped');
          },
        };
        this.tsTracks = att.feed.tracks;
        if (this.stopped || this.ts !== placeholder) counted.detach();
        else this.ts = counted;
      },
      (err: unknown) => {
        reader.close('TS feed refused');
        if (this.ts === placeholder) this.ts = undefined;
        this.retry(err);
      },
    );
  }
}
