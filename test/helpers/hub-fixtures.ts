import type { Frame } from '../../src/core/frame';
import type { Sink, SinkDescription, StreamInfo } from '../../src/core/sink';
import type { Source } from '../../src/core/source';
import type { Track } from '../../src/core/track';

/** An H.264 track for hub tests: the hub never parses parameter sets, so these bytes are opaque. */
export const H264_TEST_TRACK: Track = {
  id: 0,
  codec: 'h264',
  ready: true,
  sps: Buffer.from('6742c00dd9014a6b840000030004000003009078a15480', 'hex'),
  pps: Buffer.from('68cb83cb20', 'hex'),
  width: 320,
  height: 240,
  profile: 66,
  compatibility: 0xc0,
  level: 13,
};

export const AAC_TEST_TRACK: Track = { id: 1, codec: 'aac', ready: true, asc: Buffer.from([0x12, 0x10]), sampleRate: 44100, channels: 2 };

export function videoFrame(dts: number, keyframe = false, size = 100): Frame {
  const unit = Buffer.alloc(size, keyframe ? 0x65 : 0x41);
  return { trackId: 0, codec: 'h264', dts, pts: dts, keyframe, units: [unit], byteLength: size, receivedAt: performance.now() };
}

export function audioFrame(dts: number, size = 20): Frame {
  return { trackId: 1, codec: 'aac', dts, pts: dts, keyframe: true, units: [Buffer.alloc(size, 1)], byteLength: size, receivedAt: performance.now() };
}

/** A Sink that records what the hub calls, with a settable backlog. */
export class RecordingSink implements Sink {
  info: StreamInfo | undefined;
  frames: Frame[] = [];
  trackChanges: (readonly Track[])[] = [];
  ended: string | undefined;
  backlog = 0;
  throwOnFrame = false;

  constructor(private readonly protocol = 'test') {}

  onStart(info: StreamInfo): void {
    this.info = info;
  }
  onTracks(tracks: readonly Track[]): void {
    this.trackChanges.push(tracks);
  }
  onFrame(frame: Frame): void {
    if (this.throwOnFrame) throw new Error('sink exploded');
    this.frames.push(frame);
  }
  onEnd(reason: string): void {
    this.ended = reason;
  }
  pendingBytes(): number {
    return this.backlog;
  }
  describe(): SinkDescription {
    return { protocol: this.protocol, remote: '127.0.0.1:1', bytesOut: this.frames.reduce((n, f) => n + f.byteLength, 0) };
  }
}

export class TestSource implements Source {
  readonly kind = 'test';
  readonly remote = 'test://';
  closedWith: string | undefined;
  close(reason: string): void {
    this.closedWith = reason;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A StreamInfo as the hub gives it, for sinks tested on their own: every feed is made fresh. */
export function streamInfo(path: string, tracks: readonly Track[]): StreamInfo {
  return { path, tracks, feed: (key) => key.create(path) };
}
