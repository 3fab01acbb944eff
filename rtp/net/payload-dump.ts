import { createWriteStream, type WriteStream } from 'node:fs';
import type { Logger } from '../../src/core/log';

/** Bytes queued towards the disk before payloads are dropped instead (a slow disk never grows memory). */
const MAX_QUEUED = 8 * 1024 * 1024;
/** Default size cap of one dump file (rtp.dumpMaxBytes). */
export const DEFAULT_DUMP_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Writes RTP payloads, in sequence order, to a file: for PS that is a program stream ffprobe
 * and VLC open, the first thing to look at when "there is no picture" (ZLMediaKit's dumpDir).
 */
export class PayloadDump {
  dropped = 0;
  /** Bytes handed to the file so far. */
  written = 0;
  /** The file reached maxBytes: nothing more is written. */
  full = false;
  private stream: WriteStream | undefined;

  constructor(
    path: string,
    private readonly log: Logger,
    private readonly maxBytes = DEFAULT_DUMP_MAX_BYTES,
  ) {
    const stream = createWriteStream(path);
    stream.on('error', (err) => {
      log.warn({ err, path }, 'RTP dump failed; dumping stops');
      this.stream = undefined;
    });
    this.stream = stream;
  }

  /** Queues a payload (the Buffer is kept until written). */
  write(payload: Buffer): void {
    if (!this.stream) return;
    if (this.written + payload.length > this.maxBytes) {
      this.full = true;
      this.log.warn({ bytes: this.written, maxBytes: this.maxBytes }, 'RTP dump reached rtp.dumpMaxBytes: dumping stops');
      this.close();
      return;
    }
    this.written += payload.length;
    if (this.stream.writableLength > MAX_QUEUED) {
      this.dropped++;
      return;
    }
    this.stream.write(payload);
  }

  close(): void {
    this.stream?.end();
    this.stream = undefined;
  }
}
