/**
 * One RTMP connection, server side: handshake, chunk streams, NetConnection/NetStream
 * commands, and the publish or play it carries.
 *
 * Spec: RTMP 1.0 §5.2 (handshake), §5.4 (protocol control), §7.2 (commands). The replies
 * follow what ffmpeg, OBS (librtmp) and VLC expect from FMS/SRS/nginx-rtmp.
 *
 * Isolation: input is parsed as it arrives with bounded state (a ParseError closes this
 * session only, with one log line), output goes through the socket's own buffer, which the
 * hub watches (pendingBytes) and a hard cap bounds; handshake and idle timers close stalled
 * peers.
 */
import type { Socket } from 'node:net';
import { GatewayError, ParseError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Publisher } from '../../core/source';
import type { HevcMode } from '../../formats/flv/bodies';
import type { Registry, Subscription } from '../../hub/registry';
import { appFromConnect, streamAddress, type NameWithQuery, type StreamAddress } from './address';
import { ChunkReader } from './chunk-reader';
import { ChunkMemo, chunkMessage } from './chunk-writer';
import {
  connectResultMessage,
  decodeCommand,
  decodeData,
  metadataOf,
  onStatusMessage,
  resultMessage,
  statusInfo,
  type Command,
} from './command';
import {
  acknowledgementMessage,
  decodeControl,
  isControlMessage,
  pingRequestMessage,
  pingResponseMessage,
  setChunkSizeMessage,
  setPeerBandwidthMessage,
  windowAckSizeMessage,
} from './control';
import { ServerHandshake } from './handshake';
import { MessageType, type OutgoingMessage, type RtmpMessage } from './message';
import { RtmpPlaySink, type PlayOutput } from './play';
import { RtmpIngest } from './publish';

export interface RtmpSessionOptions {
  readonly id: string;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly hevcMode: HevcMode;
  /** Our outgoing chunk size. */
  readonly chunkSize: number;
  /** Close a session that sent nothing (and drained nothing) for this long. */
  readonly idleTimeoutMs: number;
  /** Close a session that has not finished the handshake and connect within this. */
  readonly handshakeTimeoutMs: number;
  /** The window acknowledgement size we announce. */
  readonly windowAckSize: number;
  /** Close a session whose socket holds more than this many unsent bytes. */
  readonly maxWriteBufferBytes: number;
  /** Most message streams (createStream) per connection. */
  readonly maxStreams: number;
  readonly onClose: (session: RtmpSession) => void;
}

export type SessionState = 'handshake' | 'connecting' | 'connected' | 'closed';

export interface SessionSnapshot {
  readonly id: string;
  readonly remote: string | undefined;
  readonly state: SessionState;
  readonly app: string | undefined;
  readonly role: 'publisher' | 'player' | undefined;
  readonly path: string | undefined;
  readonly since: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

interface PlaySlot {
  readonly address: StreamAddress;
  readonly abort: AbortController;
  subscription?: Subscription;
  /** Set when the client stopped it (deleteStream, close): the sink must not end the session. */
  stopped: boolean;
}

interface StreamSlot {
  publish?: { address: StreamAddress; publisher: Publisher; ingest: RtmpIngest };
  play?: PlaySlot;
}

export class RtmpSession {
  readonly since = Date.now();
  readonly remote: string | undefined;
  private state: SessionState = 'handshake';
  private readonly log: Logger;
  private readonly handshake = new ServerHandshake();
  private readonly reader = new ChunkReader();
  private app: NameWithQuery | undefined;
  private readonly streams = new Map<number, StreamSlot>();
  private nextStreamId = 1;
  private peerWindow = 0;
  private ackedBytes = 0;
  private lastInputAt = performance.now();
  private lastFlushed = 0;
  private readonly timer: NodeJS.Timeout;
  /** The chunk size the peer reads with: 128 until our Set Chunk Size went out. */
  private outChunkSize = 128;

  constructor(
    private readonly socket: Socket,
    private readonly options: RtmpSessionOptions,
  ) {
    this.remote = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : undefined;
    this.log = options.logger.child({ session: options.id, remote: this.remote });
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`, false));
    socket.on('close', () => this.close('peer closed the connection', false));
    const tick = Math.min(10_000, Math.max(250, Math.floor(Math.min(options.idleTimeoutMs / 3, options.handshakeTimeoutMs / 2))));
    this.timer = setInterval(() => this.onTimer(), tick);
    this.timer.unref();
  }

  get id(): string {
    return this.options.id;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  snapshot(): SessionSnapshot {
    const slot = [...this.streams.values()].find((s) => s.publish || s.play);
    const address = slot?.publish?.address ?? slot?.play?.address;
    return {
      id: this.id,
      remote: this.remote,
      state: this.state,
      app: this.app?.name,
      role: slot?.publish ? 'publisher' : slot?.play ? 'player' : undefined,
      path: address?.path,
      since: this.since,
      bytesIn: this.reader.bytesIn,
      bytesOut: this.socket.bytesWritten,
    };
  }

  /** Ends publish/play, closes the socket (flushing it when `graceful`). Idempotent. */
  close(reason: string, graceful = false): void {
    if (this.state === 'closed') return;
    const wasState = this.state;
    this.state = 'closed';
    clearInterval(this.timer);
    for (const [, slot] of this.streams) this.stopSlot(slot, reason);
    this.streams.clear();
    if (graceful && !this.socket.destroyed) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 2000).unref();
    } else {
      this.socket.destroy();
    }
    this.log.info({ reason, state: wasState, bytesIn: this.reader.bytesIn, bytesOut: this.socket.bytesWritten }, 'session closed');
    this.options.onClose(this);
  }

  // -------------------------------------------------------------------------------------------
  // Input

  private onData(data: Buffer): void {
    if (this.state === 'closed') return;
    this.lastInputAt = performance.now();
    try {
      if (this.state === 'handshake') {
        const progress = this.handshake.feed(data);
        if (progress.reply) this.write(progress.reply);
        if (!progress.done) return;
        this.state = 'connecting';
        this.log.debug({ mode: this.handshake.mode }, 'handshake done');
        if (progress.rest) this.onChunks(progress.rest);
        return;
      }
      this.onChunks(data);
    } catch (err) {
      if (err instanceof ParseError) {
        this.log.warn({ err: err.message, state: this.state }, 'closing: bad RTMP input');
        this.close(`bad input: ${err.message}`);
      } else {
        this.log.error({ err }, 'closing: internal error');
        this.close(`internal error: ${errorMessage(err)}`);
      }
    }
  }

  private onChunks(data: Buffer): void {
    for (const message of this.reader.feed(data)) {
      if (this.state === 'closed') return;
      this.onMessage(message);
    }
    if (this.peerWindow > 0 && this.reader.bytesIn - this.ackedBytes >= this.peerWindow) {
      // Spec: RTMP 1.0 §5.4.3: acknowledge once a window of bytes has been received.
      this.ackedBytes = this.reader.bytesIn;
      this.send([acknowledgementMessage(this.reader.bytesIn)]);
    }
  }

  private onMessage(message: RtmpMessage): void {
    switch (message.typeId) {
      case MessageType.audio:
      case MessageType.video:
      case MessageType.aggregate:
        this.streams.get(message.streamId)?.publish?.ingest.media(message.typeId, message.timestamp, message.body);
        return;
      case MessageType.commandAmf0:
      case MessageType.commandAmf3:
        this.onCommand(message.streamId, decodeCommand(message));
        return;
      case MessageType.dataAmf0:
      case MessageType.dataAmf3:
        this.onDataMessage(message);
        return;
      default:
        if (isControlMessage(message.typeId)) this.onControl(message);
      // shared objects and unknown types are ignored
    }
  }

  private onControl(message: RtmpMessage): void {
    const control = decodeControl(message);
    if (control.kind === 'windowAckSize') this.peerWindow = control.size;
    else if (control.kind === 'pingRequest') this.send([pingResponseMessage(control.timestamp)]);
  }

  private onDataMessage(message: RtmpMessage): void {
    const publish = this.streams.get(message.streamId)?.publish;
    if (!publish) return;
    const metadata = metadataOf(decodeData(message));
    if (metadata) publish.ingest.metadata(metadata);
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  private onCommand(streamId: number, cmd: Command): void {
    if (this.state === 'connecting' && cmd.name !== 'connect') {
      throw new ParseError(`RTMP: ${cmd.name} before connect`);
    }
    switch (cmd.name) {
      case 'connect':
        return this.onConnect(cmd);
      case 'createStream':
        return this.onCreateStream(cmd);
      case 'releaseStream':
      case 'FCPublish':
      case 'FCUnpublish':
        // Flash-era bookkeeping: acknowledge and carry on (publish and deleteStream do the work).
        if (cmd.transactionId > 0) this.send([resultMessage(cmd.transactionId, undefined)]);
        return;
      case 'publish':
        return this.onPublish(streamId, cmd);
      case 'play':
        return this.onPlay(streamId, cmd);
      case 'deleteStream':
        return this.onDeleteStream(typeof cmd.args[0] === 'number' ? cmd.args[0] : streamId);
      case 'closeStream':
        return this.onDeleteStream(streamId);
      default:
        // getStreamLength, checkBandwidth, _checkbw, receiveAudio, pause, seek ...: not for live.
        this.log.debug({ command: cmd.name }, 'ignoring command');
    }
  }

  private onConnect(cmd: Command): void {
    if (this.state !== 'connecting') throw new ParseError('RTMP: second connect');
    const props = (typeof cmd.commandObject === 'object' && cmd.commandObject !== null ? cmd.commandObject : {}) as Record<string, unknown>;
    this.app = appFromConnect(props.app, props.tcUrl);
    this.state = 'connected';
    this.log.info(
      { app: this.app.name, flashVer: props.flashVer, tcUrl: props.tcUrl, fourCcList: props.fourCcList },
      'connected',
    );
    this.send([
      windowAckSizeMessage(this.options.windowAckSize),
      setPeerBandwidthMessage(this.options.windowAckSize, 2),
      setChunkSizeMessage(this.options.chunkSize),
      connectResultMessage(cmd.transactionId, 0),
    ]);
  }

  private onCreateStream(cmd: Command): void {
    if (this.streams.size >= this.options.maxStreams) throw new ParseError('RTMP: too many streams on one connection');
    const id = this.nextStreamId++;
    this.streams.set(id, {});
    this.send([resultMessage(cmd.transactionId, id)]);
  }

  private slot(streamId: number): StreamSlot {
    let slot = this.streams.get(streamId);
    if (!slot) {
      // Some clients publish/play on a stream id they never created: accept it, within bounds.
      if (this.streams.size >= this.options.maxStreams) throw new ParseError('RTMP: too many streams on one connection');
      slot = {};
      this.streams.set(streamId, slot);
    }
    return slot;
  }

  private onPublish(streamId: number, cmd: Command): void {
    const name = typeof cmd.args[0] === 'string' ? cmd.args[0] : '';
    const slot = this.slot(streamId);
    const address = streamAddress(this.app!, name);
    const refuse = (description: string): void => {
      this.log.warn({ name, reason: description }, 'publish refused');
      this.send([onStatusMessage(streamId, statusInfo('error', 'NetStream.Publish.BadName', description))]);
      this.close(`publish refused: ${description}`, true);
    };
    if (!address) return refuse(`invalid stream name "${this.app!.name}/${name.slice(0, 100)}"`);
    if (slot.publish || slot.play) return refuse('this stream is already in use on the connection');
    let publisher: Publisher;
    try {
      publisher = this.options.registry.publish(address.path, {
        kind: 'rtmp',
        remote: this.remote,
        close: (reason) => this.close(reason, true),
      });
    } catch (err) {
      if (err instanceof GatewayError) return refuse(err.message);
      throw err;
    }
    const ingest = new RtmpIngest(publisher, this.log.child({ stream: address.path }));
    slot.publish = { address, publisher, ingest };
    this.log.info({ path: address.path, type: cmd.args[1], query: address.query !== '' }, 'publishing');
    this.send([
      onStatusMessage(streamId, statusInfo('status', 'NetStream.Publish.Start', `${address.path} is now published.`, { details: address.path })),
    ]);
  }

  private onPlay(streamId: number, cmd: Command): void {
    const name = typeof cmd.args[0] === 'string' ? cmd.args[0] : '';
    const slot = this.slot(streamId);
    const address = streamAddress(this.app!, name);
    if (!address || slot.publish || slot.play) {
      this.notFound(streamId, address ? 'this stream is already in use on the connection' : `invalid stream name "${name.slice(0, 100)}"`);
      return;
    }
    const play: PlaySlot = { address, abort: new AbortController(), stopped: false };
    slot.play = play;
    const sink = new RtmpPlaySink(this.playOutput(play), {
      streamId,
      path: address.path,
      hevcMode: this.options.hevcMode,
      memo: () => this.options.registry.shared(address.path, 'rtmp-chunks', () => new ChunkMemo()) ?? new ChunkMemo(),
    });
    this.log.info({ path: address.path, query: address.query !== '' }, 'play requested');
    this.options.registry.subscribe(address.path, sink, { signal: play.abort.signal }).then(
      (subscription) => {
        if (slot.play !== play || this.state === 'closed') subscription.close('viewer left');
        else play.subscription = subscription;
      },
      (err: unknown) => {
        if (slot.play !== play || this.state === 'closed') return;
        slot.play = undefined;
        this.notFound(streamId, errorMessage(err));
      },
    );
  }

  private notFound(streamId: number, description: string): void {
    this.log.info({ reason: description }, 'play refused');
    this.send([onStatusMessage(streamId, statusInfo('error', 'NetStream.Play.StreamNotFound', description))]);
    this.close(`play refused: ${description}`, true);
  }

  private onDeleteStream(streamId: number): void {
    const slot = this.streams.get(streamId);
    if (!slot) return;
    if (slot.publish) {
      this.send([onStatusMessage(streamId, statusInfo('status', 'NetStream.Unpublish.Success', `${slot.publish.address.path} is now unpublished.`))]);
    }
    this.stopSlot(slot, 'stream deleted by the client');
    this.streams.delete(streamId);
  }

  private stopSlot(slot: StreamSlot, reason: string): void {
    if (slot.publish) {
      this.log.info({ path: slot.publish.address.path, frames: slot.publish.ingest.frames, reason }, 'publish ended');
      slot.publish.publisher.end(reason);
      slot.publish = undefined;
    }
    if (slot.play) {
      const play = slot.play;
      slot.play = undefined;
      play.stopped = true;
      play.abort.abort();
      play.subscription?.close(reason);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Output

  private playOutput(play: { stopped: boolean }): PlayOutput {
    return {
      chunkSize: this.options.chunkSize,
      remote: this.remote,
      send: (messages) => this.send(messages),
      write: (buffers) => this.write(buffers),
      pendingBytes: () => this.socket.writableLength,
      bytesOut: () => this.socket.bytesWritten,
      ended: (reason) => {
        // The hub ended the stream or dropped this viewer: the connection has no purpose left.
        if (!play.stopped) this.close(reason, true);
      },
    };
  }

  /** Chunks and writes messages (control, commands, headers) with the chunk size in force. */
  private send(messages: readonly OutgoingMessage[]): void {
    if (this.state === 'closed') return;
    const buffers: Buffer[] = [];
    for (const m of messages) {
      for (const b of chunkMessage(m, this.outChunkSize)) buffers.push(b);
      if (m.typeId === MessageType.setChunkSize) this.outChunkSize = this.options.chunkSize;
    }
    this.write(buffers);
  }

  /** One writev for a list of Buffers; never copies them. */
  private write(buffers: readonly Buffer[]): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    this.socket.cork();
    for (const b of buffers) this.socket.write(b);
    this.socket.uncork();
    if (this.socket.writableLength > this.options.maxWriteBufferBytes) {
      this.log.warn({ pending: this.socket.writableLength }, 'closing: peer does not read');
      this.close('peer does not read (write buffer over the cap)');
    }
  }

  private onTimer(): void {
    if (this.state === 'handshake' || this.state === 'connecting') {
      if (Date.now() - this.since > this.options.handshakeTimeoutMs) {
        this.close(`no ${this.state === 'handshake' ? 'handshake' : 'connect'} within ${this.options.handshakeTimeoutMs} ms`);
      }
      return;
    }
    const now = performance.now();
    // A player that reads is active even if it sends nothing (not every player answers pings).
    const flushed = this.socket.bytesWritten - this.socket.writableLength;
    if (flushed !== this.lastFlushed && this.isPlaying()) this.lastInputAt = now;
    this.lastFlushed = flushed;
    if (now - this.lastInputAt > this.options.idleTimeoutMs) {
      this.close(`idle for ${this.options.idleTimeoutMs} ms`);
      return;
    }
    // Spec: RTMP 1.0 §7.1.7: PingRequest; the answer counts as activity.
    this.send([pingRequestMessage((Date.now() - this.since) >>> 0)]);
  }

  private isPlaying(): boolean {
    for (const slot of this.streams.values()) if (slot.play?.subscription) return true;
    return false;
  }
}
