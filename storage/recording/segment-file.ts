import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage } from '../../src/core/errors';

/** What a segment file needs of an open file (fs/promises FileHandle has it). */
export interface SegmentFileHandle {
  writev(buffers: Buffer[]): Promise<{ bytesWritten: number }>;
  close(): Promise<void>;
}

/** Creates a new file (it must not exist yet). */
export type OpenSegmentFileHandle = (absolutePath: string) => Promise<SegmentFileHandle>;

const openExclusive: OpenSegmentFileHandle = (absolutePath) => open(absolutePath, 'wx');

export interface SegmentFileOptions {
  /** Queued bytes reach the file at least this often (crash safety: what kill -9 may lose). */
  readonly flushMs: number;
  /** Queued bytes above this are written at once instead of waiting for the timer. */
  readonly eagerBytes?: number;
  /** A write failed (ENOSPC, EIO, EACCES ...): the file takes nothing more. */
  readonly onError: (err: NodeJS.ErrnoException) => void;
  /** How the file is created; default fs/promises open(path, 'wx'). */
  readonly openFile?: OpenSegmentFileHandle;
}

/**
 * One file being recorded: buffers are queued in memory and written with one writev at least
 * every `flushMs`, one write in flight at a time. `pendingBytes` is what the disk has not taken
 * yet: the recorder drops to the next keyframe when it grows too large. Keeps the Buffers it is
 * given until they are written (they are shared, immutable frame data).
 */
export class SegmentFile {
  private handle: SegmentFileHandle | undefined;
  private opening: Promise<void>;
  private queue: Buffer[] = [];
  private queued = 0;
  private inFlight = 0;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failed: NodeJS.ErrnoException | undefined;
  private closed = false;
  private written = 0;
  private readonly eagerBytes: number;

  constructor(
    readonly absolutePath: string,
    private readonly options: SegmentFileOptions,
  ) {
    this.eagerBytes = options.eagerBytes ?? 1024 * 1024;
    this.opening = this.openFile();
    this.timer = setInterval(() => void this.flush(), Math.max(50, options.flushMs));
    this.timer.unref();
  }

  /** Bytes handed to write() so far (queued or written). */
  get bytes(): number {
    return this.written + this.inFlight + this.queued;
  }

  /** Bytes on disk (written and acknowledged). */
  get bytesWritten(): number {
    return this.written;
  }

  get pendingBytes(): number {
    return this.queued + this.inFlight;
  }

  get error(): NodeJS.ErrnoException | undefined {
    return this.failed;
  }

  write(buffers: readonly Buffer[]): void {
    if (this.closed || this.failed) return;
    for (const b of buffers) {
      this.queue.push(b);
      this.queued += b.length;
    }
    if (this.queued >= this.eagerBytes) void this.flush();
  }

  /** Writes what is queued (after any write in flight). Never rejects: errors go to onError. */
  flush(): Promise<void> {
    if (this.writing) return this.writing.then(() => (this.queued > 0 && !this.failed ? this.flush() : undefined));
    if (this.queued === 0 || this.failed) return Promise.resolve();
    const parts = this.queue;
    const bytes = this.queued;
    this.queue = [];
    this.queued = 0;
    this.inFlight = bytes;
    this.writing = this.writeAll(parts, bytes).finally(() => {
      this.inFlight = 0;
      this.writing = undefined;
    });
    return this.writing;
  }

  /** Flushes and closes. Resolves once the file handle is closed. Idempotent. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.opening;
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }

  private async openFile(): Promise<void> {
    try {
      mkdirSync(dirname(this.absolutePath), { recursive: true });
      this.handle = await (this.options.openFile ?? openExclusive)(this.absolutePath);
    } catch (err) {
      this.fail(err);
    }
  }

  private async writeAll(parts: Buffer[], bytes: number): Promise<void> {
    await this.opening;
    const handle = this.handle;
    if (!handle || this.failed) return;
    try {
      let remaining = parts;
      let left = bytes;
      while (left > 0) {
        const { bytesWritten } = await handle.writev(remaining);
        this.written += bytesWritten;
        left -= bytesWritten;
        if (left > 0) remaining = skipBytes(remaining, bytesWritten);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    const error = (err instanceof Error ? err : new Error(errorMessage(err))) as NodeJS.ErrnoException;
    this.failed = error;
    this.queue = [];
    this.queued = 0;
    this.options.onError(error);
  }
}

function skipBytes(parts: readonly Buffer[], count: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = count;
  for (const part of parts) {
    if (skip >= part.length) {
      skip -= part.length;
      continue;
    }
    out.push(skip > 0 ? part.subarray(skip) : part);
    skip = 0;
  }
  return out;
}
