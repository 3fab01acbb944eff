/**
 * RTMP push: a hub Sink that publishes a stream's frames through an RtmpClient to another
 * server (a CDN). The sink outlives its connections: while there is none it takes nothing;
 * each new one starts with onMetaData, the sequence headers and a keyframe, on a timeline
 * that starts at 0 (a CDN that sees a reconnect wants small timestamps), and the hub's
 * timeline keeps it continuous across a reconnect of the source.
 *
 * Backpressure of its own, before the hub's: when the socket holds more than
 * `maxPendingBytes`, frames are dropped (and counted) until the next keyframe, so a slow CDN
 * costs that bound in memory and nothing to the stream's other readers.
 *
 * Spec: Enhanced RTMP v1 (hvc1), FLV v10.1 §E.4 (tag bodies), RTMP 1.0 §7.1.5 (media messages).
 */
import type { Frame } from '../../core/frame';
import type { Sink, SinkDescription, StreamInfo } from '../../core/sink';
import { ticksToMs } from '../../core/time';
import { isVideoTrack, type Track } from '../../core/track';
import { encodeAmf0 } from '../../formats/amf0/amf0';
import { audioFrameBody, videoFrameBody } from '../../formats/flv/bodies';
import { onMetaDataBody } from '../../formats/flv/metadata';
import { ChunkStream, MessageType, sequenceHeaderMessages, type OutgoingMessage } from './message';

/** How H.265 goes to the target: Enhanced RTMP (hvc1), legacy codec id 12, or not at all. */
export type PushHevcMode = 'enhanced' | 'legacy' | 'drop';

/** The connection a push writes to (an RtmpClient). */
export interface PushConnection {
  readonly streamId: number;
  readonly pendingBytes: number;
  readonly bytesOut: number;
  send(messages: readonly OutgoingMessage[]): void;
}

export interface PushSinkOptions {
  readonly hevcMode: PushHevcMode;
  /** Socket bytes queued above which frames are dropped to the next keyframe. */
  readonly maxPendingBytes: number;
  readonly remote: string;
  /** The stream ended, or the hub dropped this reader. */
  readonly onEnd: (reason: string) => void;
  /** Media bytes handed to the connection (for a bit-rate meter). */
  readonly onSent?: (bytes: number) => void;
}

const SET_DATA_FRAME = encodeAmf0('@setDataFrame');

export class RtmpPushSink implements Sink {
  /** The tracks sent (H.265 left out with hevc: drop). */
  private tracks: readonly Track[] = [];
  private sourceCodecs: string[] = [];
  private connection: PushConnection | undefined;
  /** hub dts (ticks) that is 0 ms on the current connection. */
  private base: number | undefined;
  private headersDue = true;
  private waitKeyframe = true;
  private skipping = false;
  private bytesBefore = 0;
  framesOut = 0;
  framesDropped = 0;
  started = false;

  constructor(private readonly options: PushSinkOptions) {}

  /** A new connection (or none): it starts with headers and the next keyframe. */
  attach(connection: PushConnection | undefined): void {
    if (this.connection) this.bytesBefore += this.connection.bytesOut;
    this.connection = connection;
    this.base = undefined;
    this.headersDue = true;
    this.waitKeyframe = true;
    this.skipping = false;
  }

  get bytesOut(): number {
    return this.bytesBefore + (this.connection?.bytesOut ?? 0);
  }

  /** Codecs of the source, for the status (`h264`, `aac` ...). */
  get codecs(): string[] {
    return this.sourceCodecs;
  }

  /** True when H.265 video is dropped (hevc: drop) and the target gets audio only. */
  get videoDropped(): boolean {
    return this.options.hevcMode === 'drop' && this.sourceCodecs.includes('h265');
  }

  onStart(info: StreamInfo): void {
    this.started = true;
    this.onTracks(info.tracks);
  }

  onTracks(tracks: readonly Track[]): void {
    this.sourceCodecs = tracks.map((t) => t.codec);
    this.tracks = tracks.filter((t) => this.carried(t));
    this.headersDue = true;
  }

  onFrame(frame: Frame): void {
    const connection = this.connection;
    if (!connection) return;
    const track = this.tracks.find((t) => t.id === frame.trackId);
    if (!track) return;
    const video = isVideoTrack(track);
    const hasVideo = this.tracks.some(isVideoTrack);
    if (this.waitKeyframe && hasVideo) {
      if (!(video && frame.keyframe)) {
        if (this.skipping) this.framesDropped++;
        return;
      }
    }
    if (connection.pendingBytes > this.options.maxPendingBytes) {
      this.framesDropped++;
      this.skipping = true;
      this.waitKeyframe = true;
      return;
    }
    this.waitKeyframe = false;
    this.skipping = false;
    this.base ??= frame.dts;
    const ms = Math.max(0, ticksToMs(frame.dts - this.base));
    const messages = this.headersDue ? this.headers(connection.streamId, ms) : [];
    messages.push(this.mediaMessage(connection.streamId, frame, track, ms));
    connection.send(messages);
    this.framesOut++;
    this.options.onSent?.(frame.byteLength);
  }

  onEnd(reason: string): void {
    this.options.onEnd(reason);
  }

  pendingBytes(): number {
    return this.connection?.pendingBytes ?? 0;
  }

  describe(): SinkDescription {
    return { protocol: 'relay', remote: this.options.remote, bytesOut: this.bytesOut };
  }

  private carried(track: Track): boolean {
    if (track.codec === 'h265' && this.options.hevcMode === 'drop') return false;
    return track.ready;
  }

  private hevcMode(): 'enhanced' | 'legacy' {
    return this.options.hevcMode === 'legacy' ? 'legacy' : 'enhanced';
  }

  /** `@setDataFrame onMetaData` and every track's sequence header, at the next frame's time. */
  private headers(streamId: number, ms: number): OutgoingMessage[] {
    this.headersDue = false;
    const hevcMode = this.hevcMode();
    const messages: OutgoingMessage[] = [
      { chunkStreamId: ChunkStream.data, typeId: MessageType.dataAmf0, streamId, timestamp: 0, body: [SET_DATA_FRAME, onMetaDataBody(this.tracks, {}, hevcMode)] },
    ];
    messages.push(...sequenceHeaderMessages(this.tracks, streamId, ms, hevcMode));
    return messages;
  }

  private mediaMessage(streamId: number, frame: Frame, track: Track, ms: number): OutgoingMessage {
    const video = isVideoTrack(track);
    return {
      chunkStreamId: video ? ChunkStream.video : ChunkStream.audio,
      typeId: video ? MessageType.video : MessageType.audio,
      streamId,
      timestamp: ms,
      body: video ? videoFrameBody(frame, this.hevcMode()) : audioFrameBody(frame, track),
    };
  }
}
