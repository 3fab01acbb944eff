/**
 * The bench's publisher: the source FLV sent over RTMP by the project's RTMP client, one
 * message (one writev) per frame at its media time, as a camera or a GB28181 bridge sends, and
 * looped with timestamps that go on. It remembers when each video frame was sent, so that
 * the viewers can tell the latency the server added.
 */
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../../src/core/log';
import { dataMessage } from '../../src/protocols/rtmp/command';
import { RtmpClient } from '../../src/protocols/rtmp/client';
import { ChunkStream, MessageType, type OutgoingMessage } from '../../src/protocols/rtmp/message';
import { FLV_TAG_VIDEO } from '../../src/formats/flv/tag';
import type { FlvSource, SourceTag } from './flv-source';

/** Send times are kept this long (ms of media) for the latency lookup. */
const KEEP_SEND_TIMES_MS = 30_000;

export class NodePublisher {
  /** Video frame timestamp (ms, as sent) to performance.now() when it was written. */
  readonly sentAt = new Map<number, number>();
  framesSent = 0;
  private timer: NodeJS.Timeout | undefined;
  private index = 0;
  private loop = 0;
  private startedAt = 0;
  private stopped = false;

  private constructor(
    private readonly client: RtmpClient,
    private readonly source: FlvSource,
  ) {}

  /** Connects, publishes, sends onMetaData and the sequence headers, then the frames in real time. */
  static async start(url: string, source: FlvSource): Promise<NodePublisher> {
    const client = await RtmpClient.open({ url, mode: 'publish', log: silentLogger(), connectTimeoutMs: 10_000, stallTimeoutMs: 60_000, chunkSize: 4096 });
    const publisher = new NodePublisher(client, source);
    const first: OutgoingMessage[] = [];
    if (source.metadata) first.push(dataMessage(client.streamId, '@setDataFrame', 'onMetaData', source.metadata));
    for (const tag of source.headers) first.push(publisher.message(tag, 0));
    client.send(first);
    publisher.startedAt = performance.now();
    publisher.schedule();
    return publisher;
  }

  get closed(): boolean {
    return this.stopped || this.client.isClosed;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.client.close('bench over');
  }

  private message(tag: SourceTag, timestamp: number): OutgoingMessage {
    const video = tag.type === FLV_TAG_VIDEO;
    return {
      chunkStreamId: video ? ChunkStream.video : ChunkStream.audio,
      typeId: video ? MessageType.video : MessageType.audio,
      streamId: this.client.streamId,
      timestamp,
      body: [tag.body],
    };
  }

  private dueAt(): number {
    return this.startedAt + this.loop * this.source.durationMs + this.source.frames[this.index]!.timestampMs;
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => this.sendDue(), Math.max(0, this.dueAt() - performance.now()));
  }

  private sendDue(): void {
    const now = performance.now();
    while (!this.closed && this.dueAt() <= now) {
      const tag = this.source.frames[this.index]!;
      const timestamp = this.loop * this.source.durationMs + tag.timestampMs;
      this.client.send([this.message(tag, timestamp)]);
      this.framesSent++;
      if (tag.type === FLV_TAG_VIDEO) this.remember(timestamp, performance.now());
      if (++this.index === this.source.frames.length) {
        this.index = 0;
        this.loop++;
      }
    }
    this.schedule();
  }

  private remember(timestamp: number, at: number): void {
    this.sentAt.set(timestamp, at);
    for (const ts of this.sentAt.keys()) {
      if (ts > timestamp - KEEP_SEND_TIMES_MS) break;
      this.sentAt.delete(ts);
    }
  }
}
