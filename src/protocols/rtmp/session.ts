/**
 * One RTMP connection, server side: NetConnection/NetStream commands and the publish or play
 * they set up, on top of an RtmpConnection (handshake, chunks, control, timeouts).
 *
 * Spec: RTMP 1.0 §7.2 (commands). The replies follow what ffmpeg, OBS (librtmp) and VLC
 * expect from FMS/SRS/nginx-rtmp.
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
import { ChunkMemo } from './chunk-writer';
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
import { setChunkSizeMessage, setPeerBandwidthMessage, windowAckSizeMessage } from './control';
import { RtmpConnection, type ActivityRole, type ConnectionOptions } from './connection';
import { MessageType, type OutgoingMessage, type RtmpMessage } from './message';
import { RtmpPlaySink, type PlayOutput } from './play';
import { RtmpIngest } from './publish';

/** FourCCs (Enhanced RTMP) the hub carries. */
const SUPPORTED_FOURCC = ['avc1', 'hvc1', 'mp4a'];

export interface RtmpSessionOptions extends ConnectionOptions {
  readonly id: string;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly hevcMode: HevcMode;
  /** The window acknowledgement size we announce. */
  readonly windowAckSize: number;
  /** Most message streams (createStream) per connection. */
  readonly maxStreams: number;
  /** TCP_NODELAY once a player plays (see RtmpServerOptions.playNoDelay). */
  readonly playNoDelay: boolean;
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
  private readonly log: Logger;
  private readonly connection: RtmpConnection;
  private connected = false;
  private app: NameWithQuery | undefined;
  private readonly streams = new Map<number, StreamSlot>();
  private nextStreamId = 1;

  constructor(
    socket: Socket,
    private readonly options: RtmpSessionOptions,
  ) {
    const remote = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : undefined;
    this.log = options.logger.child({ session: options.id, remote });
    this.connection = new RtmpConnection(
      socket,
      options,
      {
        onOpen: () => this.onOpen(),
        onMessage: (message) => this.onMessage(message),
        role: () => this.role(),
        onClosed: (reason) => this.onClosed(reason),
      },
      this.log,
    );
  }

  get id(): string {
    return this.options.id;
  }

  get remote(): string | undefined {
    return this.connection.remote;
  }

  get isClosed(): boolean {
    return this.connection.phase === 'closed';
  }

  private role(): ActivityRole {
    let role: ActivityRole = 'other';
    for (const slot of this.streams.values()) {
      if (slot.publish) return 'publishing';
      if (slot.play?.subscription) role = 'playing';
    }
    return role;
  }

  private get state(): SessionState {
    if (this.connection.phase === 'closed') return 'closed';
    if (this.connection.phase === 'handshake') return 'handshake';
    return this.connected ? 'connected' : 'connecting';
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
      since: this.connection.since,
      bytesIn: this.connection.bytesIn,
      bytesOut: this.connection.bytesOut,
    };
  }

  /** Ends publish/play and closes the connection (flushing it when `graceful`). Idempotent. */
  close(reason: string, graceful = false): void {
    this.connection.close(reason, graceful);
  }

  private onClosed(reason: string): void {
    for (const [, slot] of this.streams) this.stopSlot(slot, reason);
    this.streams.clear();
    const { bytesIn, bytesOut } = this.connection;
    this.log.info({ reason, connected: this.connected, bytesIn, bytesOut }, 'session closed');
    this.options.onClose(this);
  }

  private send(messages: readonly OutgoingMessage[]): void {
    this.connection.send(messages);
  }

  /**
   * Our protocol settings go out as soon as C2 is in, not after connect: the bytes also
   * acknowledge C2 at once. Clients (ffmpeg, librtmp/OBS) write C2 and connect separately, so
   * with Nagle on their side the connect waits for that ACK, and a delayed ACK costs 40 ms.
   */
  private onOpen(): void {
    this.send([
      windowAckSizeMessage(this.options.windowAckSize),
      setPeerBandwidthMessage(this.options.windowAckSize, 2),
      setChunkSizeMessage(this.options.chunkSize),
    ]);
  }

  private onMessage(message: RtmpMessage): void {
    switch (message.typeId) {
      case MessageType.audio:
      case MessageType.video:
      case MessageType.aggregate: {
        const publish = this.streams.get(message.streamId)?.publish;
        if (!publish) return;
        this.connection.markActive();
        publish.ingest.media(message.typeId, message.timestamp, message.body);
        return;
      }
      case MessageType.commandAmf0:
      case MessageType.commandAmf3:
        this.onCommand(message.streamId, decodeCommand(message));
        return;
      case MessageType.dataAmf0:
      case MessageType.dataAmf3:
        this.onDataMessage(message);
      // shared objects and unknown types are ignored
    }
  }

  private onDataMessage(message: RtmpMessage): void {
    const publish = this.streams.get(message.streamId)?.publish;
    if (!publish) return;
    let metadata: ReturnType<typeof metadataOf>;
    try {
      metadata = metadataOf(decodeData(message));
    } catch (err) {
      // Metadata is optional: a malformed data message costs itself, not the publish.
      if (!(err instanceof ParseError)) throw err;
      this.log.debug({ err: err.message }, 'ignoring a malformed data message');
      return;
    }
    if (metadata) publish.ingest.metadata(metadata);
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  private onCommand(streamId: number, cmd: Command): void {
    if (!this.connected && cmd.name !== 'connect') {
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
    if (this.connected) throw new ParseError('RTMP: second connect');
    const props = (typeof cmd.commandObject === 'object' && cmd.commandObject !== null ? cmd.commandObject : {}) as Record<string, unknown>;
    this.app = appFromConnect(props.app, props.tcUrl);
    this.connected = true;
    this.connection.markEstablished();
    this.log.info(
      { app: this.app.name, flashVer: props.flashVer, tcUrl: props.tcUrl, fourCcList: props.fourCcList },
      'connected',
    );
    // Enhanced RTMP v1: answer a fourCcList with the FourCCs of it that the hub carries.
    const asked = Array.isArray(props.fourCcList) ? (props.fourCcList as unknown[]) : undefined;
    const fourCcList = asked && SUPPORTED_FOURCC.filter((c) => asked.includes(c) || asked.includes('*'));
    this.send([connectResultMessage(cmd.transactionId, 0, fourCcList ? { fourCcList } : {})]);
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
      onStatusMessage(
        streamId,
        statusInfo('status', 'NetStream.Publish.Start', `${address.path} is now published.`, { details: address.path }),
      ),
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
        if (slot.play !== play || this.isClosed) subscription.close('viewer left');
        else {
          play.subscription = subscription;
          this.connection.setNoDelay(this.options.playNoDelay);
        }
      },
      (err: unknown) => {
        if (slot.play !== play || this.isClosed) return;
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
      const path = slot.publish.address.path;
      this.send([onStatusMessage(streamId, statusInfo('status', 'NetStream.Unpublish.Success', `${path} is now unpublished.`))]);
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
    const connection = this.connection;
    return {
      chunkSize: this.options.chunkSize,
      remote: this.remote,
      send: (messages) => connection.send(messages),
      write: (buffers) => connection.write(buffers),
      pendingBytes: () => connection.pendingBytes,
      bytesOut: () => connection.bytesOut,
      ended: (reason) => {
        // The hub ended the stream or dropped this viewer: the connection has no purpose left.
        if (!play.stopped) this.close(reason, true);
      },
    };
  }
}
