/**
 * RTMP client: connects to rtmp:// or rtmps:// (TLS, server name verified), publishes or
 * plays one stream. It runs on the same RtmpConnection as the server (chunk reader and writer,
 * acknowledgements, ping answers, output cap), with the client's handshake.
 *
 * Spec: RTMP 1.0 §7.2.1.1 (connect), §7.2.1.3 (createStream), §7.2.2.1 (play),
 * §7.2.2.6 (publish). releaseStream and FCPublish before createStream are what FMLE, OBS and
 * ffmpeg send; CDNs (nginx-rtmp, SRS, YouTube) expect them.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import { amf0Properties, type Amf0Value } from '../../formats/amf0/amf0';
import { commandMessage, decodeCommand, type Command } from './command';
import { ClientHandshake } from './client-handshake';
import { RtmpConnection } from './connection';
import { setBufferLengthMessage, setChunkSizeMessage, windowAckSizeMessage } from './control';
import { MessageType, type OutgoingMessage, type RtmpMessage } from './message';
import { parseRtmpUrl, type RtmpUrl } from './url';
import { checkPeer, tlsClientOptions, type TlsTrust } from '../shared/tls';

export type RtmpFailure = 'unreachable' | 'refused' | 'tls' | 'rejected' | 'bad-name' | 'not-found' | 'reset' | 'stall' | 'timeout' | 'protocol' | 'ended';

/** Why a client connection failed or ended, in plain words. */
export class RtmpClientError extends Error {
  constructor(
    readonly failure: RtmpFailure,
    message: string,
  ) {
    super(message);
    this.name = 'RtmpClientError';
  }
}

/** What rtmps:// trusts (src/protocols/shared/tls.ts, shared with the other TLS clients). */
export type RtmpTlsOptions = TlsTrust;

export interface RtmpClientOptions {
  readonly url: string;
  readonly mode: 'publish' | 'play';
  readonly log: Logger;
  /** TCP + TLS + handshake + commands until publishing or playing. */
  readonly connectTimeoutMs: number;
  /** A publish whose output does not drain, or a play that receives no media, for this long ends. */
  readonly stallTimeoutMs: number;
  readonly chunkSize?: number;
  readonly maxWriteBufferBytes?: number;
  readonly tls?: RtmpTlsOptions;
  /** Enhanced RTMP FourCCs announced in connect (hvc1 for H.265). */
  readonly fourCcList?: readonly string[];
  /** Media and data messages of the played stream. */
  readonly onMessage?: (message: RtmpMessage) => void;
  /** Once, when an open client's connection ends (not called when `open` rejects). */
  readonly onClose?: (error: RtmpClientError) => void;
  /** Every onStatus the server sends (code, level), before the client acts on it. */
  readonly onStatus?: (code: string, level: string) => void;
  /** Every socket read (byte count; TLS: after decryption), handshake included. */
  readonly onRead?: (bytes: number) => void;
  /**
   * Read into this Buffer (net `onread`) instead of a new one per read: clients may share one,
   * each read is handled before the next. Plain TCP only. For load clients.
   */
  readonly readBuffer?: Buffer;
  /** The chunk reader's head-only mode: played media messages carry only their first bytes (load clients). */
  readonly mediaHeadBytes?: number;
  /** Aborts a pending `open` (it rejects with 'ended'); after it resolved, use `close`. */
  readonly signal?: AbortSignal;
}

const WINDOW_ACK_SIZE = 2_500_000;

export class RtmpClient {
  private connection: RtmpConnection | undefined;
  private socket: Socket | undefined;
  private readonly log: Logger;
  private nextTransaction = 1;
  private readonly pending = new Map<number, (cmd: Command) => void>();
  private streamIdValue = 0;
  private opened = false;
  private failure: RtmpClientError | undefined;
  /** FourCCs the server's connect result accepted (Enhanced RTMP), when it said. */
  serverFourCc: readonly string[] | undefined;

  private constructor(
    readonly target: RtmpUrl,
    private readonly options: RtmpClientOptions,
    private readonly settle: (err?: RtmpClientError) => void,
  ) {
    this.log = options.log;
  }

  /** Connects and publishes or plays; rejects with an RtmpClientError. */
  static open(options: RtmpClientOptions): Promise<RtmpClient> {
    const target = parseRtmpUrl(options.url);
    return new Promise<RtmpClient>((resolve, reject) => {
      let done = false;
      const onAbort = (): void => client.fail(new RtmpClientError('ended', `${options.mode} aborted before it started`));
      const client: RtmpClient = new RtmpClient(target, options, (err) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(client);
      });
      const timer = setTimeout(() => client.fail(new RtmpClientError('timeout', `no ${options.mode} start within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) onAbort();
      else client.dial();
    });
  }

  get streamId(): number {
    return this.streamIdValue;
  }

  get pendingBytes(): number {
    return this.connection?.pendingBytes ?? 0;
  }

  get bytesOut(): number {
    return this.connection?.bytesOut ?? 0;
  }

  get bytesIn(): number {
    return this.connection?.bytesIn ?? 0;
  }

  get isClosed(): boolean {
    return this.failure !== undefined;
  }

  /** Chunks and sends messages (media on our message stream). */
  send(messages: readonly OutgoingMessage[]): void {
    this.connection?.send(messages);
  }

  /** Ends the connection (deleteStream first when publishing or playing). Idempotent. */
  close(reason = 'closed'): void {
    if (this.failure) return;
    if (this.connection && this.opened && this.streamIdValue > 0) {
      const name = this.options.mode === 'publish' ? [commandMessage(0, 'FCUnpublish', this.nextTransaction++, null, this.target.stream)] : [];
      this.connection.send([...name, commandMessage(0, 'deleteStream', this.nextTransaction++, null, this.streamIdValue)]);
    }
    this.fail(new RtmpClientError('ended', reason), true);
  }

  private dial(): void {
    const { host, port, secure } = this.target;
    const tls = this.options.tls;
    const socket: Socket = secure ? tlsConnect(tlsClientOptions(host, port, tls)) : netConnect({ host, port, ...this.onread() });
    this.socket = socket;
    const onRead = this.options.onRead;
    if (onRead && !this.external) socket.on('data', (data: Buffer) => onRead(data.length));
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      const refused = secure ? checkPeer(socket as TLSSocket, host, tls) : undefined;
      if (refused) this.fail(new RtmpClientError('tls', `TLS with ${host}:${port} failed: ${refused.message}`));
      else this.attach(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => this.fail(socketFailure(err, `${host}:${port}`)));
  }

  /** Reads into the shared `readBuffer` (plain TCP): the connection gets them through `receive`. */
  private get external(): boolean {
    return this.options.readBuffer !== undefined && !this.target.secure;
  }

  private onread(): { onread?: { buffer: Buffer; callback: (n: number) => boolean } } {
    const buffer = this.options.readBuffer;
    if (!buffer || !this.external) return {};
    return {
      onread: {
        buffer,
        callback: (n: number): boolean => {
          this.options.onRead?.(n);
          this.connection?.receive(buffer.subarray(0, n));
          return true;
        },
      },
    };
  }

  private attach(socket: Socket): void {
    if (this.failure) {
      socket.destroy();
      return;
    }
    const mode = this.options.mode;
    const connection = new RtmpConnection(
      socket,
      {
        chunkSize: this.options.chunkSize ?? 4096,
        idleTimeoutMs: this.options.stallTimeoutMs,
        handshakeTimeoutMs: this.options.connectTimeoutMs,
        maxWriteBufferBytes: this.options.maxWriteBufferBytes ?? 16 * 1024 * 1024,
        externalReads: this.external,
        ...(this.options.mediaHeadBytes !== undefined ? { mediaHeadBytes: this.options.mediaHeadBytes } : {}),
      },
      {
        onOpen: () => this.onOpen(),
        onMessage: (message) => this.onMessage(message),
        // Our publish is active while the server reads it; our play while media arrives.
        role: () => (mode === 'publish' ? 'playing' : 'publishing'),
        onClosed: (reason) => this.onClosed(reason),
      },
      this.log,
      new ClientHandshake(),
    );
    this.connection = connection;
  }

  private onOpen(): void {
    const connection = this.connection!;
    const { app, tcUrl } = this.target;
    const publish = this.options.mode === 'publish';
    const props: Record<string, Amf0Value> = publish
      ? { app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; gateway)', swfUrl: tcUrl, tcUrl }
      : { app, flashVer: 'LNX 9,0,124,2', tcUrl, fpad: false, capabilities: 15, audioCodecs: 4071, videoCodecs: 252, videoFunction: 1 };
    if (this.options.fourCcList?.length) props.fourCcList = [...this.options.fourCcList];
    connection.send([setChunkSizeMessage(this.options.chunkSize ?? 4096), windowAckSizeMessage(WINDOW_ACK_SIZE)]);
    this.call(0, 'connect', props, [], (cmd) => this.onConnected(cmd));
  }

  private call(streamId: number, name: string, object: Amf0Value, args: Amf0Value[], then?: (cmd: Command) => void): void {
    const tx = this.nextTransaction++;
    if (then) this.pending.set(tx, then);
    this.connection?.send([commandMessage(streamId, name, tx, object, ...args)]);
  }

  private onConnected(cmd: Command): void {
    const info = amf0Properties(cmd.args[0] ?? null);
    const props = amf0Properties(cmd.commandObject);
    const list = props?.fourCcList ?? info?.fourCcList;
    if (Array.isArray(list)) this.serverFourCc = list.filter((v): v is string => typeof v === 'string');
    const stream = this.target.stream;
    if (this.options.mode === 'publish') {
      this.call(0, 'releaseStream', null, [stream]);
      this.call(0, 'FCPublish', null, [stream]);
    }
    this.call(0, 'createStream', null, [], (result) => this.onStreamCreated(result));
  }

  private onStreamCreated(cmd: Command): void {
    const id = cmd.args[0];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      this.fail(new RtmpClientError('protocol', 'the server answered createStream without a stream id'));
      return;
    }
    this.streamIdValue = id;
    const stream = this.target.stream;
    if (this.options.mode === 'publish') {
      this.call(id, 'publish', null, [stream, 'live']);
    } else {
      this.connection?.send([setBufferLengthMessage(id, 1000)]);
      this.call(id, 'play', null, [stream, -2000]);
    }
  }

  private onMessage(message: RtmpMessage): void {
    switch (message.typeId) {
      case MessageType.commandAmf0:
      case MessageType.commandAmf3:
        this.onCommand(decodeCommand(message));
        return;
      case MessageType.audio:
      case MessageType.video:
      case MessageType.aggregate:
      case MessageType.dataAmf0:
      case MessageType.dataAmf3:
        // node-media-server 4 sends the media of a play on message stream 0, not the one it created.
        if (!this.opened || (message.streamId !== this.streamIdValue && message.streamId !== 0) || this.options.mode !== 'play') return;
        if (message.typeId !== MessageType.dataAmf0 && message.typeId !== MessageType.dataAmf3) this.connection?.markActive();
        this.options.onMessage?.(message);
      // shared objects and unknown types are ignored
    }
  }

  private onCommand(cmd: Command): void {
    if (cmd.name === '_result' || cmd.name === '_error') {
      const then = this.pending.get(cmd.transactionId);
      this.pending.delete(cmd.transactionId);
      if (cmd.name === '_error') {
        const info = amf0Properties(cmd.args[0] ?? null);
        // releaseStream/FCPublish of a name the server does not know: harmless (nginx, SRS).
        if (!then) return;
        this.fail(new RtmpClientError('rejected', `the server refused ${describeStatus(info, 'the connection')}`));
        return;
      }
      then?.(cmd);
      return;
    }
    if (cmd.name === 'onStatus') this.onStatus(amf0Properties(cmd.args[0] ?? null));
    // onBWDone, onFCPublish, |RtmpSampleAccess ...: nothing to do
  }

  private onStatus(info: Record<string, Amf0Value> | undefined): void {
    const code = typeof info?.code === 'string' ? info.code : '';
    const level = typeof info?.level === 'string' ? info.level : '';
    this.log.debug({ code, level }, 'RTMP onStatus');
    this.options.onStatus?.(code, level);
    if (code === 'NetStream.Publish.Start' || code === 'NetStream.Play.Start') {
      if (this.opened) return;
      this.opened = true;
      this.connection?.markEstablished();
      this.settle();
      return;
    }
    if (level === 'error') {
      const failure: RtmpFailure = code === 'NetStream.Publish.BadName' ? 'bad-name' : code === 'NetStream.Play.StreamNotFound' ? 'not-found' : 'rejected';
      this.fail(new RtmpClientError(failure, `the server refused the stream: ${describeStatus(info, 'error')}`));
    } else if (this.options.mode === 'play' && (code === 'NetStream.Play.UnpublishNotify' || code === 'NetStream.Play.Stop')) {
      this.fail(new RtmpClientError('ended', `the source stopped (${code})`));
    }
  }

  private onClosed(reason: string): void {
    const failure = this.failure ?? closeFailure(reason);
    this.fail(failure);
  }

  private fail(error: RtmpClientError, graceful = false): void {
    if (!this.failure) {
      this.failure = error;
      if (this.connection) this.connection.close(error.message, graceful);
      else this.socket?.destroy();
    }
    if (!this.opened) {
      this.settle(error);
      return;
    }
    this.opened = false;
    this.options.onClose?.(error);
  }
}

function describeStatus(info: Record<string, Amf0Value> | undefined, fallback: string): string {
  const code = typeof info?.code === 'string' ? info.code : '';
  const description = typeof info?.description === 'string' ? info.description.slice(0, 200) : '';
  return [code, description].filter((s) => s !== '').join(': ') || fallback;
}

function socketFailure(err: NodeJS.ErrnoException, where: string): RtmpClientError {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return new RtmpClientError('refused', `connection refused by ${where}`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new RtmpClientError('unreachable', `host not found: ${where}`);
  if (code === 'ECONNRESET' || code === 'EPIPE') return new RtmpClientError('reset', `connection to ${where} reset`);
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new RtmpClientError('unreachable', `${where} unreachable (${code})`);
  if (code.startsWith('ERR_TLS') || code.includes('CERT') || code.includes('SELF_SIGNED') || /certificate|SSL|TLS/i.test(err.message)) {
    return new RtmpClientError('tls', `TLS with ${where} failed: ${err.message}`);
  }
  return new RtmpClientError('unreachable', `cannot connect to ${where}: ${errorMessage(err)}`);
}

function closeFailure(reason: string): RtmpClientError {
  if (reason.startsWith('idle')) return new RtmpClientError('stall', `the server stopped reading or sending (${reason})`);
  if (reason.startsWith('bad input')) return new RtmpClientError('protocol', `the server sent bad RTMP: ${reason}`);
  if (reason.includes('reset') || reason.includes('ECONNRESET')) return new RtmpClientError('reset', `connection reset (${reason})`);
  if (reason.startsWith('no ')) return new RtmpClientError('timeout', reason);
  return new RtmpClientError('reset', `the server closed the connection (${reason})`);
}
