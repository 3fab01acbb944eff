/**
 * The transport half of an RTMP session, for both sides: handshake (the server's or the
 * client's, given by the caller), chunk streams in and out, protocol control
 * (acknowledgements, pings), timeouts and the output bound. What the messages mean is the
 * business of the server session (session.ts) or the client (client.ts).
 *
 * Spec: RTMP 1.0 §5.2 (handshake), §5.3 (chunking), §5.4 (protocol control), §6.2 (pings).
 */
import type { Socket } from 'node:net';
import { ParseError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import { BudgetSpentError, type ByteBudget } from '../../core/budget';
import { ChunkReader } from './chunk-reader';
import { chunkMessage } from './chunk-writer';
import { acknowledgementMessage, decodeControl, isControlMessage, pingRequestMessage, pingResponseMessage } from './control';
import type { HandshakeMachine } from './handshake';
import { MessageType, type OutgoingMessage, type RtmpMessage } from './message';

export interface ConnectionOptions {
  /** Our outgoing chunk size, in force once a Set Chunk Size with it has been sent. */
  readonly chunkSize: number;
  /** Close a connection idle for this long (see ActivityRole). */
  readonly idleTimeoutMs: number;
  /** Close a connection not `established()` within this (handshake + connect). */
  readonly handshakeTimeoutMs: number;
  /** Close a connection whose socket holds more than this many unsent bytes. */
  readonly maxWriteBufferBytes: number;
  /** Shared by all connections: buffers of partly received messages (rtmp.partialBudget). */
  readonly partialBudget?: ByteBudget;
  /** The chunk reader's head-only mode (a load client's players): media messages carry only their first bytes. */
  readonly mediaHeadBytes?: number;
  /** The caller reads the socket itself (net `onread`) and hands the bytes to `receive`. */
  readonly externalReads?: boolean;
}

/**
 * What keeps a connection from being idle: a publisher must send media (`markActive`), a
 * player must read (its output drains) or send, anything else must send something.
 */
export type ActivityRole = 'publishing' | 'playing' | 'other';

export interface ConnectionHandler {
  /** The handshake is done (C2 read). */
  onOpen(): void;
  /** Every message except protocol control and user control (handled here). */
  onMessage(message: RtmpMessage): void;
  role(): ActivityRole;
  /** The connection closed (once). */
  onClosed(reason: string): void;
}

export type ConnectionPhase = 'handshake' | 'open' | 'closed';

export class RtmpConnection {
  readonly since = Date.now();
  readonly remote: string | undefined;
  private phaseValue: ConnectionPhase = 'handshake';
  private established = false;
  /** Dropped once done (its 1.5 KB buffer is not needed for the life of the session). */
  private handshake: HandshakeMachine | undefined;
  private readonly reader: ChunkReader;
  /** The chunk size the peer reads with: 128 until our Set Chunk Size went out. */
  private outChunkSize = 128;
  private peerWindow = 0;
  private ackedBytes = 0;
  private lastActivity = performance.now();
  private lastFlushed = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
    private readonly handler: ConnectionHandler,
    private readonly log: Logger,
    handshake: HandshakeMachine,
  ) {
    this.handshake = handshake;
    this.reader = new ChunkReader({ budget: options.partialBudget, ...(options.mediaHeadBytes !== undefined ? { mediaHeadBytes: options.mediaHeadBytes } : {}) });
    this.remote = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : undefined;
    socket.setNoDelay(true);
    if (!options.externalReads) socket.on('data', (data: Buffer) => this.receive(data));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('peer closed the connection'));
    const tick = Math.min(options.idleTimeoutMs / 3, options.handshakeTimeoutMs / 2);
    this.timer = setInterval(() => this.onTimer(), Math.min(10_000, Math.max(250, Math.floor(tick))));
    this.timer.unref();
    const opening = handshake.start?.();
    if (opening) this.write(opening);
  }

  get phase(): ConnectionPhase {
    return this.phaseValue;
  }

  get bytesIn(): number {
    return this.reader.bytesIn;
  }

  get bytesOut(): number {
    return this.socket.bytesWritten;
  }

  /** Bytes queued in the socket, not yet sent: the hub's backpressure signal. */
  get pendingBytes(): number {
    return this.socket.writableLength;
  }

  /** Nagle on (false) merges small writes into fewer packets; players may trade latency for CPU. */
  setNoDelay(noDelay: boolean): void {
    if (!this.socket.destroyed) this.socket.setNoDelay(noDelay);
  }

  /** Resets the idle clock (a publisher's media). */
  markActive(): void {
    this.lastActivity = performance.now();
  }

  /** The session is set up (connect done): the handshake timeout no longer applies. */
  markEstablished(): void {
    this.established = true;
  }

  /** Chunks and writes messages with the chunk size the peer reads with. */
  send(messages: readonly OutgoingMessage[]): void {
    if (this.phaseValue === 'closed') return;
    const buffers: Buffer[] = [];
    for (const m of messages) {
      for (const b of chunkMessage(m, this.outChunkSize)) buffers.push(b);
      if (m.typeId === MessageType.setChunkSize) this.outChunkSize = this.options.chunkSize;
    }
    this.write(buffers);
  }

  /** One writev for a list of Buffers (already chunked); never copies them. */
  write(buffers: readonly Buffer[]): void {
    if (this.phaseValue === 'closed' || this.socket.destroyed) return;
    if (buffers.length === 1) {
      // One Buffer (a shared chunked frame): a plain write, without cork's writev bookkeeping.
      this.socket.write(buffers[0]!);
    } else {
      this.socket.cork();
      for (const b of buffers) this.socket.write(b);
      this.socket.uncork();
    }
    if (this.socket.writableLength > this.options.maxWriteBufferBytes) {
      this.log.warn({ pending: this.socket.writableLength }, 'closing: peer does not read');
      this.close('peer does not read (write buffer over the cap)');
    }
  }

  /** Everything written until the end of this tick leaves in one writev (a joiner's start and GOP replay). */
  holdWritesThisTick(): void {
    if (this.socket.destroyed) return;
    this.socket.cork();
    process.nextTick(() => this.socket.uncork());
  }

  /** Closes the socket, flushing what is queued first when `graceful`. Idempotent. */
  close(reason: string, graceful = false): void {
    if (this.phaseValue === 'closed') return;
    this.phaseValue = 'closed';
    clearInterval(this.timer);
    this.reader.release();
    if (graceful && !this.socket.destroyed) {
      // Let the last status messages out; a peer that does not read gets cut off.
      this.socket.end();
      const timer = setTimeout(() => this.socket.destroy(), 2000);
      this.socket.once('close', () => clearTimeout(timer));
    } else {
      this.socket.destroy();
    }
    this.handler.onClosed(reason);
  }

  /** Bytes read from the socket (the 'data' listener, or the owner of an `onread` buffer). */
  receive(data: Buffer): void {
    if (this.phaseValue === 'closed') return;
    // A publisher's pings answers and acks do not count: only its media does (markActive).
    if (this.handler.role() !== 'publishing') this.lastActivity = performance.now();
    try {
      if (this.handshake) {
        const progress = this.handshake.feed(data);
        if (progress.reply) this.write(progress.reply);
        if (!progress.done) return;
        this.phaseValue = 'open';
        this.log.debug({ mode: this.handshake.mode }, 'handshake done');
        this.handshake = undefined;
        this.handler.onOpen();
        if (!progress.rest) return;
        data = progress.rest;
      }
      this.onChunks(data);
    } catch (err) {
      if (err instanceof BudgetSpentError) {
        this.close(`refused: ${err.message}`);
      } else if (err instanceof ParseError) {
        this.log.warn({ err: err.message, established: this.established }, 'closing: bad RTMP input');
        this.close(`bad input: ${err.message}`);
      } else {
        this.log.error({ err }, 'closing: internal error');
        this.close(`internal error: ${errorMessage(err)}`);
      }
    }
  }

  private onChunks(data: Buffer): void {
    if (this.reader.budgeted && this.handler.role() === 'publishing') this.reader.leaveBudget();
    for (const message of this.reader.feed(data)) {
      if (this.phaseValue === 'closed') return;
      if (isControlMessage(message.typeId)) this.onControl(message);
      else this.handler.onMessage(message);
    }
    if (this.peerWindow > 0 && this.reader.bytesIn - this.ackedBytes >= this.peerWindow) {
      // Spec: RTMP 1.0 §5.4.3: acknowledge once a window of bytes has been received.
      this.ackedBytes = this.reader.bytesIn;
      this.send([acknowledgementMessage(this.reader.bytesIn)]);
    }
  }

  /** Set Chunk Size and Abort were applied by the reader; acks from players are not needed. */
  private onControl(message: RtmpMessage): void {
    const control = decodeControl(message);
    if (control.kind === 'windowAckSize') this.peerWindow = control.size;
    else if (control.kind === 'pingRequest') this.send([pingResponseMessage(control.timestamp)]);
  }

  private onTimer(): void {
    if (!this.established) {
      if (Date.now() - this.since > this.options.handshakeTimeoutMs) {
        this.close(`no ${this.phaseValue === 'handshake' ? 'handshake' : 'connect'} within ${this.options.handshakeTimeoutMs} ms`);
      }
      return;
    }
    const now = performance.now();
    // A player that reads is active even if it sends nothing (not every player answers pings).
    const flushed = this.socket.bytesWritten - this.socket.writableLength;
    if (flushed !== this.lastFlushed && this.handler.role() === 'playing') this.lastActivity = now;
    this.lastFlushed = flushed;
    if (now - this.lastActivity > this.options.idleTimeoutMs) {
      this.close(`idle for ${this.options.idleTimeoutMs} ms`);
      return;
    }
    // A publisher's activity is its media: a ping would only cost a write and a read per tick.
    if (this.handler.role() === 'publishing') return;
    // Spec: RTMP 1.0 §6.2 (PingRequest): the answer counts as activity.
    this.send([pingRequestMessage((Date.now() - this.since) >>> 0)]);
  }
}
