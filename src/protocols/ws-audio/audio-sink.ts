import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Frame } from '../../core/frame';
import type { Sink, SinkDescription, StreamInfo, TrackSelector } from '../../core/sink';
import type { Track } from '../../core/track';
import { closeWebSocket } from '../shared/sockets';
import { audioMessage, type AudioStartMessage, type G711Codec } from './message';

/** The hub's track selection of an audio feed: G.711 only (AAC plays inside the FLV). */
export const G711_TRACKS: TrackSelector = (track) => track.codec === 'g711a' || track.codec === 'g711u';

/** Close code when the stream carries no G.711 track (4000 + HTTP 415 Unsupported Media Type). */
export const NO_G711_CLOSE_CODE = 4415;

function g711Of(tracks: readonly Track[]): { id: number; codec: G711Codec } | undefined {
  const track = tracks.find(G711_TRACKS);
  return track && (track.codec === 'g711a' || track.codec === 'g711u') ? { id: track.id, codec: track.codec } : undefined;
}

/**
 * One listener of a stream's G.711 audio: a hub subscriber that selects G.711 only (so it
 * starts without a video keyframe, with the GOP cache's audio), sending each frame as one
 * binary message (message.ts). The samples are not decoded here: the page decodes them.
 */
export class WsAudioSink implements Sink {
  private bytesOut = 0;
  private ended = false;
  private track: { id: number; codec: G711Codec } | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    private readonly remote: string,
  ) {}

  onStart(info: StreamInfo): void {
    this.track = g711Of(info.tracks);
    if (!this.track) {
      this.end(NO_G711_CLOSE_CODE, `${info.path} has no G.711 audio (AAC plays in the video's own stream)`);
      return;
    }
    const start: AudioStartMessage = { type: 'start', path: info.path, codec: this.track.codec, sampleRate: 8000 };
    this.send(JSON.stringify(start));
  }

  onTracks(tracks: readonly Track[]): void {
    this.track = g711Of(tracks);
  }

  onFrame(frame: Frame): void {
    const track = this.track;
    if (!track || frame.trackId !== track.id) return;
    this.send(audioMessage(frame, track.codec));
  }

  onEnd(reason: string): void {
    this.end(1000, reason);
  }

  pendingBytes(): number {
    return this.socket.writableLength + this.ws.bufferedAmount;
  }

  describe(): SinkDescription {
    return { protocol: 'ws-audio', remote: this.remote, bytesOut: this.bytesOut };
  }

  private end(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    closeWebSocket(this.ws, code, reason);
  }

  private send(data: string | Buffer): void {
    if (this.ended || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(data, { binary: typeof data !== 'string' });
    this.bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  }
}
