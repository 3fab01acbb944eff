/**
 * A scripted RTMP client for the session tests: handshake (simple or digest), chunked
 * messages out, every message in, and waits on what the server sent.
 */
import { connect, type Socket } from 'node:net';
import { ChunkReader } from '../../../src/protocols/rtmp/chunk-reader';
import { chunkMessage } from '../../../src/protocols/rtmp/chunk-writer';
import { commandMessage, decodeCommand, type Command } from '../../../src/protocols/rtmp/command';
import { FP_KEY_SHORT, HANDSHAKE_SIZE, signDigest } from '../../../src/protocols/rtmp/handshake';
import { MessageType, type OutgoingMessage, type RtmpMessage } from '../../../src/protocols/rtmp/message';
import type { Amf0Value } from '../../../src/formats/amf0/amf0';

export class TestRtmpClient {
  readonly messages: RtmpMessage[] = [];
  readonly reader = new ChunkReader();
  readonly closed: Promise<void>;
  private handshakeBytes: Buffer[] = [];
  private handshaking: boolean;
  private waiters = new Set<() => void>();
  chunkSize = 128;

  private constructor(
    readonly socket: Socket,
    handshake: boolean,
    /** Incoming bytes to drop first (the S0S1S2 of a replayed handshake). */
    private skip: number,
  ) {
    this.handshaking = handshake;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', (data: Buffer) => this.onData(data));
  }

  /** Connects; with `handshake` the client does C0/C1/C2 itself (digest if asked). */
  static async open(port: number, options: { handshake?: boolean; digest?: boolean; skip?: number } = {}): Promise<TestRtmpClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new TestRtmpClient(socket, options.handshake !== false, options.skip ?? 0);
    if (options.handshake !== false) await client.handshake(options.digest ?? false);
    return client;
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  private async handshake(digest: boolean): Promise<void> {
    const c1 = Buffer.alloc(HANDSHAKE_SIZE, 0x5a);
    if (digest) {
      c1.writeUInt32BE(0x09007c02, 4);
      signDigest(c1, 1, FP_KEY_SHORT);
    } else {
      c1.writeUInt32BE(0, 4);
    }
    this.socket.write(Buffer.concat([Buffer.from([3]), c1]));
    await this.until(() => this.handshakeLength() >= 1 + 2 * HANDSHAKE_SIZE, 5000, 'S0S1S2');
    const all = Buffer.concat(this.handshakeBytes);
    this.handshaking = false;
    this.socket.write(all.subarray(1, 1 + HANDSHAKE_SIZE)); // C2 = S1
    const rest = all.subarray(1 + 2 * HANDSHAKE_SIZE);
    if (rest.length) this.ingest(rest);
  }

  private handshakeLength(): number {
    return this.handshakeBytes.reduce((n, b) => n + b.length, 0);
  }

  private onData(data: Buffer): void {
    if (this.skip > 0) {
      const take = Math.min(this.skip, data.length);
      this.skip -= take;
      data = data.subarray(take);
    }
    if (this.handshaking) this.handshakeBytes.push(Buffer.from(data));
    else this.ingest(data);
    for (const wake of [...this.waiters]) wake();
  }

  private ingest(data: Buffer): void {
    for (const m of this.reader.feed(data)) this.messages.push(m);
  }

  /** Raw bytes, as they are. */
  raw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  send(...messages: OutgoingMessage[]): void {
    for (const m of messages) {
      this.socket.write(Buffer.concat(chunkMessage(m, this.chunkSize)));
      if (m.typeId === MessageType.setChunkSize) this.chunkSize = Buffer.concat(m.body).readUInt32BE(0);
    }
  }

  command(streamId: number, name: string, transactionId: number, commandObject: Amf0Value, ...args: Amf0Value[]): void {
    this.send(commandMessage(streamId, name, transactionId, commandObject, ...args));
  }

  /** Commands received so far (type 20). */
  commands(): (Command & { streamId: number })[] {
    return this.messages.filter((m) => m.typeId === MessageType.commandAmf0).map((m) => ({ ...decodeCommand(m), streamId: m.streamId }));
  }

  /** Resolves with the first message matching `pred` (already received or to come). */
  async waitMessage(pred: (m: RtmpMessage) => boolean, timeoutMs = 5000, what = 'a message'): Promise<RtmpMessage> {
    let found: RtmpMessage | undefined;
    await this.until(() => (found = this.messages.find(pred)) !== undefined, timeoutMs, what);
    return found!;
  }

  /** Resolves with the first command named `name` whose info code is `code` (if given). */
  async waitCommand(name: string, code?: string, timeoutMs = 5000): Promise<Command & { streamId: number }> {
    let found: (Command & { streamId: number }) | undefined;
    await this.until(
      () => (found = this.commands().find((c) => c.name === name && (code === undefined || (c.args[0] as { code?: string } | undefined)?.code === code))) !== undefined,
      timeoutMs,
      `${name} ${code ?? ''}`,
    );
    return found!;
  }

  /** connect + createStream; returns the stream id. */
  async connectAndCreateStream(app = 'live'): Promise<number> {
    this.command(0, 'connect', 1, { app, tcUrl: `rtmp://127.0.0.1/${app}`, flashVer: 'LNX 9,0,124,2' });
    await this.waitCommand('_result', 'NetConnection.Connect.Success');
    this.command(0, 'createStream', 2, null);
    const result = await this.waitMessage((m) => m.typeId === MessageType.commandAmf0 && decodeCommand(m).name === '_result' && decodeCommand(m).transactionId === 2);
    return decodeCommand(result).args[0] as number;
  }

  async until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (check()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const wake = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
      this.closed.then(() => {
        if (!this.waiters.has(wake)) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        if (check()) resolve();
        else reject(new Error(`connection closed while waiting for ${what}`));
      });
    });
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }
}
