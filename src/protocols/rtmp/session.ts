/**
 * One RTMP connection, server side: the NetConnection commands (connect, createStream and the
 * Flash-era bookkeeping) on top of an RtmpConnection (handshake, chunks, control, timeouts);
 * publish and play live in ServerStreams (server-streams.ts).
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
import { ParseError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { HevcMode } from '../../formats/flv/bodies';
import type { Registry } from '../../hub/registry';
import { appFromConnect, type NameWithQuery } from './address';
import { connectResultMessage, decodeCommand, resultMessage, type Command } from './command';
import { setChunkSizeMessage, setPeerBandwidthMessage, windowAckSizeMessage } from './control';
import { RtmpConnection, type ConnectionOptions } from './connection';
import { ServerHandshake } from './handshake';
import { MessageType, type RtmpMessage } from './message';
import { ServerStreams } from './server-streams';

/** FourCCs (Enhanced RTMP) the hub carries. */
export const SUPPORTED_FOURCC = ['avc1', 'hvc1', 'mp4a'];

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

export class RtmpSession {
  readonly log: Logger;
  readonly connection: RtmpConnection;
  private connected = false;
  private app: NameWithQuery | undefined;
  private readonly streams: ServerStreams;

  constructor(
    socket: Socket,
    private readonly options: RtmpSessionOptions,
  ) {
    const remote = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : undefined;
    this.log = options.logger.child({ session: options.id, remote });
    this.streams = new ServerStreams(this, options);
    this.connection = new RtmpConnection(
      socket,
      options,
      {
        onOpen: () => this.onOpen(),
        onMessage: (message) => this.onMessage(message),
        role: () => this.streams.role(),
        onClosed: (reason) => this.onClosed(reason),
      },
      this.log,
      new ServerHandshake(),
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

  private get state(): SessionState {
    if (this.connection.phase === 'closed') return 'closed';
    if (this.connection.phase === 'handshake') return 'handshake';
    return this.connected ? 'connected' : 'connecting';
  }

  snapshot(): SessionSnapshot {
    const current = this.streams.current();
    return {
      id: this.id,
      remote: this.remote,
      state: this.state,
      app: this.app?.name,
      role: current?.role,
      path: current?.address.path,
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
    this.streams.stopAll(reason);
    const { bytesIn, bytesOut } = this.connection;
    this.log.info({ reason, connected: this.connected, bytesIn, bytesOut }, 'session closed');
    this.options.onClose(this);
  }

  /**
   * Our protocol settings go out as soon as C2 is in, not after connect: the bytes also
   * acknowledge C2 at once. Clients (ffmpeg, librtmp/OBS) write C2 and connect separately, so
   * with Nagle on their side the connect waits for that ACK, and a delayed ACK costs 40 ms.
   */
  private onOpen(): void {
    this.connection.send([windowAckSizeMessage(this.options.windowAckSize), setPeerBandwidthMessage(this.options.windowAckSize, 2), setChunkSizeMessage(this.options.chunkSize)]);
  }

  dispatch(message: RtmpMessage): void {
    this.onMessage(message);
  }

  private onMessage(message: RtmpMessage): void {
    if (this.streams.hold(message)) return;
    switch (message.typeId) {
      case MessageType.audio:
      case MessageType.video:
      case MessageType.aggregate:
        if (this.streams.media(message)) this.connection.markActive();
        return;
      case MessageType.commandAmf0:
      case MessageType.commandAmf3:
        this.onCommand(message.streamId, decodeCommand(message));
        return;
      case MessageType.dataAmf0:
      case MessageType.dataAmf3:
        this.streams.data(message);
      // shared objects and unknown types are ignored
    }
  }

  private onCommand(streamId: number, cmd: Command): void {
    if (!this.connected && cmd.name !== 'connect') {
      throw new ParseError(`RTMP: ${cmd.name} before connect`);
    }
    switch (cmd.name) {
      case 'connect':
        return this.onConnect(cmd);
      case 'createStream':
        return this.streams.createStream(cmd);
      case 'releaseStream':
      case 'FCPublish':
      case 'FCUnpublish':
        // Flash-era bookkeeping: acknowledge and carry on (publish and deleteStream do the work).
        if (cmd.transactionId > 0) this.connection.send([resultMessage(cmd.transactionId, undefined)]);
        return;
      case 'publish':
        return this.streams.publish(this.app!, streamId, cmd);
      case 'play':
        return this.streams.play(this.app!, streamId, cmd);
      case 'deleteStream':
        return this.streams.deleteStream(typeof cmd.args[0] === 'number' ? cmd.args[0] : streamId);
      case 'closeStream':
        return this.streams.deleteStream(streamId);
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
    this.log.info({ app: this.app.name, flashVer: props.flashVer, tcUrl: props.tcUrl, fourCcList: props.fourCcList }, 'connected');
    // Enhanced RTMP v1: answer a fourCcList with the FourCCs of it that the hub carries.
    const asked = Array.isArray(props.fourCcList) ? (props.fourCcList as unknown[]) : undefined;
    const fourCcList = asked && SUPPORTED_FOURCC.filter((c) => asked.includes(c) || asked.includes('*'));
    this.connection.send([connectResultMessage(cmd.transactionId, 0, fourCcList ? { fourCcList } : {})]);
  }
}
