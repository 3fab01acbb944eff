import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { errorMessage } from '../../src/core/errors';
import type { Logger } from '../../src/core/log';
import { localDayBounds } from '../../src/core/zoned-time';
import type { RecordingFormat, RecordingRow, RecordingsRepo, RecordingStatus } from '../repos/recordings';
import type { RecordingLayout } from './layout';
import { SegmentFile, type OpenSegmentFileHandle, type SegmentFileOptions } from './segment-file';
import { renderVodPlaylist } from './vod-playlist';
import { cutAfterLastComplete } from './recovery';

/** What the recorder knows when a segment opens. */
export interface SegmentMeta {
  readonly path: string;
  readonly format: RecordingFormat;
  /** Wall clock of the first frame, ms since the epoch. */
  readonly startMs: number;
  readonly videoCodec: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly audioCodec: string | null;
  readonly planId: string | null;
  readonly reason: string;
}

/** A closed segment, for hooks (on_record_segment) and logs. */
export interface SegmentEvent {
  readonly id: number;
  readonly path: string;
  readonly format: RecordingFormat;
  readonly file: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly bytes: number;
}

export interface SegmentStoreOptions {
  readonly layout: RecordingLayout;
  readonly repo: RecordingsRepo;
  readonly flushMs: number;
  readonly log: Logger;
  /** Every segment that closed (complete or cut short by an error). */
  readonly onSegment: (event: SegmentEvent) => void;
  /** How segment files are created (default: the file system). */
  readonly openFile?: OpenSegmentFileHandle;
}

/** Opens segment files, keeps their rows in step and rewrites HLS VOD playlists. */
export class SegmentStore {
  constructor(private readonly options: SegmentStoreOptions) {}

  get layout(): RecordingLayout {
    return this.options.layout;
  }

  open(meta: SegmentMeta, onError: (err: NodeJS.ErrnoException) => void): OpenSegment {
    const { layout, repo } = this.options;
    const file = layout.newFile(meta.path, meta.format, meta.startMs, (f) => repo.byFile(f) !== undefined);
    const id = repo.insert({ ...meta, file, endMs: meta.startMs, bytes: 0, keyframes: 0, status: 'recording' });
    return new OpenSegment(this, id, file, meta, layout.inside(file), { flushMs: this.options.flushMs, onError, openFile: this.options.openFile });
  }

  /** @internal progress of an open segment (once per flush). */
  progress(id: number, endMs: number, bytes: number, keyframes: number): void {
    try {
      this.options.repo.progress(id, { endMs, bytes, keyframes });
    } catch (err) {
      this.options.log.warn({ err: errorMessage(err), id }, 'recording progress not saved');
    }
  }

  /** @internal a segment closed: row final, playlist rewritten, event emitted. */
  closed(segment: OpenSegment, endMs: number, bytes: number, keyframes: number, status: RecordingStatus, ended: boolean): void {
    const { repo, log } = this.options;
    if (bytes === 0) {
      repo.delete(segment.id);
      rmSync(segment.absolutePath, { force: true });
      return;
    }
    if (status === 'recovered') {
      // A failed write may have left half a tag/packet: cut it like after a crash.
      try {
        bytes = cutAfterLastComplete(segment.absolutePath, segment.meta.format).validBytes;
      } catch (err) {
        log.warn({ err: errorMessage(err), file: segment.file }, 'failed segment could not be scanned');
      }
    }
    repo.progress(segment.id, { endMs, bytes, keyframes, status });
    if (segment.meta.format === 'hls') this.writePlaylist(segment.meta.path, segment.meta.startMs, ended);
    const event: SegmentEvent = { id: segment.id, path: segment.meta.path, format: segment.meta.format, file: segment.file, startMs: segment.meta.startMs, endMs, bytes };
    log.info(event, 'recording segment closed');
    try {
      this.options.onSegment(event);
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'segment listener failed');
    }
  }

  /**
   * Rewrites the `index.m3u8` of the HLS folder holding `startMs` from the index: every closed
   * segment of the folder in time order; ENDLIST when nothing records there any more.
   */
  writePlaylist(path: string, startMs: number, ended: boolean): void {
    const { layout, repo } = this.options;
    const folder = layout.folder(path, 'hls', startMs);
    const day = localDayBounds(startMs, layout.timeZone);
    const rows = repo.find({ path, startMs: day.start, endMs: day.end, format: 'hls' }).filter((r) => r.file.startsWith(`${folder}/`));
    const done = rows.filter((r) => r.status === 'complete' || r.status === 'recovered');
    const open = rows.some((r) => r.status === 'recording');
    const target = layout.playlistOf(folder);
    const text = renderVodPlaylist(done, { folder, ended: ended && !open });
    try {
      writeFileSync(`${target}.tmp`, text);
      renameSync(`${target}.tmp`, target);
    } catch (err) {
      this.options.log.warn({ err: errorMessage(err), folder }, 'hls playlist not written');
    }
  }
}

/** One segment being written: a file and its row. */
export class OpenSegment {
  private readonly file_: SegmentFile;
  private endMs: number;
  private keyframes = 0;
  private closing: Promise<RecordingRow | undefined> | undefined;
  private lastSaved = -1;

  constructor(
    private readonly store: SegmentStore,
    readonly id: number,
    readonly file: string,
    readonly meta: SegmentMeta,
    readonly absolutePath: string,
    fileOptions: SegmentFileOptions,
  ) {
    this.endMs = meta.startMs;
    this.file_ = new SegmentFile(absolutePath, fileOptions);
    this.saveTimer = setInterval(() => this.save(), Math.max(250, fileOptions.flushMs));
    this.saveTimer.unref();
  }

  private saveTimer: NodeJS.Timeout;

  get bytes(): number {
    return this.file_.bytes;
  }

  get pendingBytes(): number {
    return this.file_.pendingBytes;
  }

  get error(): NodeJS.ErrnoException | undefined {
    return this.file_.error;
  }

  get durationMs(): number {
    return this.endMs - this.meta.startMs;
  }

  write(buffers: readonly Buffer[], endMs: number, keyframe: boolean): void {
    this.file_.write(buffers);
    if (endMs > this.endMs) this.endMs = endMs;
    if (keyframe) this.keyframes++;
  }

  /** Flushes, closes the file and finalises the row. `ended`: the recording stops here. */
  close(endMs: number | undefined, ended: boolean): Promise<RecordingRow | undefined> {
    this.closing ??= (async () => {
      clearInterval(this.saveTimer);
      if (endMs !== undefined && endMs > this.endMs) this.endMs = endMs;
      await this.file_.close();
      const failed = this.file_.error !== undefined;
      this.store.closed(this, this.endMs, this.file_.bytesWritten, this.keyframes, failed ? 'recovered' : 'complete', ended);
      return undefined;
    })();
    return this.closing;
  }

  private save(): void {
    const written = this.file_.bytesWritten;
    if (written === this.lastSaved) return;
    this.lastSaved = written;
    this.store.progress(this.id, this.endMs, written, this.keyframes);
  }
}
