import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { buildRawSip, header, parseRawSip, RawSipFramer, token, type RawSip } from './gb-sip-text';
import type { SimulatorOptions } from './gb-sim-options';

interface PendingRequest {
  resolve: (msg: RawSip | undefined) => void;
  resend: () => void;
  timer: NodeJS.Timeout;
  interval: number;
  startedAt: number;
}

/** Headers of a request that are not the transaction's own (Via, CSeq, Call-ID are made here). */
export interface RequestParts {
  extra: [string, string][];
  body?: Buffer;
  auth?: string;
  callId?: string;
  dialogIds?: { from: string; to: string };
}

/**
 * The device's SIP transport: a UDP socket or a TCP connection, requests with their
 * retransmissions (Spec: RFC 3261 §17.1.2.2, timer E doubling to T2 = 4 s), and replies.
 * GbDeviceSimulator builds the device's behaviour on it.
 */
export abstract class SimSipEndpoint {
  readonly received: RawSip[] = [];
  localPort = 0;
  protected closed = false;
  protected readonly registerCallId = `${token(8)}@127.0.0.1`;
  private udp: UdpSocket | undefined;
  private tcp: Socket | undefined;
  private readonly pending = new Map<string, PendingRequest>();
  private cseq = 1;

  constructor(readonly options: SimulatorOptions) {}

  get id(): string {
    return this.options.deviceId;
  }

  protected get host(): string {
    return this.options.serverHost ?? '127.0.0.1';
  }

  /** The device's own address (another loopback address plays another host, e.g. 127.0.0.2). */
  protected get localHost(): string {
    return this.options.localHost ?? '127.0.0.1';
  }

  /** Opens the socket (UDP on an OS-chosen port, or a TCP connection to the gateway). */
  async start(): Promise<void> {
    if (this.options.transport === 'tcp') {
      const framer = new RawSipFramer();
      this.tcp = await new Promise<Socket>((resolve, reject) => {
        const socket = connect({ host: this.host, port: this.options.serverPort, localAddress: this.localHost }, () => resolve(socket));
        socket.once('error', reject);
      });
      this.tcp.on('error', () => undefined);
      this.tcp.on('data', (chunk: Buffer) => framer.feed(chunk).forEach((m) => this.onData(m)));
      this.localPort = this.tcp.localPort ?? 0;
      return;
    }
    const socket = createSocket('udp4');
    socket.on('message', (data) => this.onData(data));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.bind(0, this.localHost, () => resolve()));
    this.udp = socket;
    this.localPort = socket.address().port;
  }

  /** A new local port, as when a NAT rebinds (the registration stays). */
  async rebind(): Promise<void> {
    this.closeSockets();
    await this.start();
  }

  /** Sends bytes as they are (malformed-input tests). */
  sendRaw(data: Buffer): void {
    if (this.udp) this.udp.send(data, this.options.serverPort, this.host);
    else this.tcp?.write(data);
  }

  /** Ends pending requests (they resolve undefined) and closes the socket. */
  protected closeTransport(): void {
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve(undefined);
    }
    this.pending.clear();
    this.closeSockets();
  }

  protected abstract onRequest(rq: RawSip): Promise<void>;

  /** Sends a request and resolves with its final answer, or undefined after 8 s without one. */
  protected request(method: string, uri: string, parts: RequestParts): Promise<RawSip | undefined> {
    const cseq = this.cseq++;
    const callId = parts.callId ?? (method === 'REGISTER' ? this.registerCallId : `${token(8)}@127.0.0.1`);
    const toUser = method === 'REGISTER' ? this.id : this.options.serverId;
    const headers: [string, string][] = [
      ['Via', `SIP/2.0/${this.options.transport === 'tcp' ? 'TCP' : 'UDP'} ${this.localHost}:${this.localPort};rport;branch=z9hG4bK${token(6)}`],
      ['From', parts.dialogIds?.from ?? `<sip:${this.id}@${this.options.domain}>;tag=${token(4)}`],
      ['To', parts.dialogIds?.to ?? `<sip:${toUser}@${this.options.domain}>`],
      ['Call-ID', callId],
      ['CSeq', `${cseq} ${method}`],
      ['Contact', `<sip:${this.id}@${this.localHost}:${this.localPort}>`],
      ['Max-Forwards', '70'],
      ['User-Agent', 'gb-device-simulator'],
      ...(parts.auth ? ([['Authorization', parts.auth]] as [string, string][]) : []),
      ...parts.extra,
    ];
    const data = buildRawSip(`${method} ${uri} SIP/2.0`, headers, parts.body);
    return new Promise((resolve) => {
      const key = `${callId}/${cseq}`;
      const entry: PendingRequest = { resolve, resend: () => this.sendRaw(data), timer: setTimeout(() => undefined, 0), interval: 500, startedAt: Date.now() };
      const retry = (): void => {
        if (Date.now() - entry.startedAt > 8000 || this.closed) {
          this.pending.delete(key);
          resolve(undefined);
          return;
        }
        if (this.udp) entry.resend();
        entry.interval = Math.min(entry.interval * 2, 4000);
        entry.timer = setTimeout(retry, entry.interval);
      };
      entry.timer = setTimeout(retry, entry.interval);
      this.pending.set(key, entry);
      entry.resend();
    });
  }

  protected reply(rq: RawSip, status: number, reason: string, extra: [string, string][] = [], body?: Buffer, toTag = token(4)): void {
    const to = header(rq, 'to') ?? '';
    const headers: [string, string][] = [
      ...(rq.headers.get('via') ?? []).map((v): [string, string] => ['Via', v]),
      ['From', header(rq, 'from') ?? ''],
      ['To', /;tag=/.test(to) ? to : `${to};tag=${toTag}`],
      ['Call-ID', header(rq, 'call-id') ?? ''],
      ['CSeq', header(rq, 'cseq') ?? ''],
      ['User-Agent', 'gb-device-simulator'],
      ...extra,
    ];
    this.sendRaw(buildRawSip(`SIP/2.0 ${status} ${reason}`, headers, body));
  }

  private onData(data: Buffer): void {
    const msg = parseRawSip(data);
    if (!msg || this.closed) return;
    if (msg.status !== undefined) {
      if (msg.status < 200) return;
      const cseq = Number(header(msg, 'cseq')?.split(/\s+/)[0]);
      const key = `${header(msg, 'call-id')}/${cseq}`;
      const pending = this.pending.get(key);
      if (!pending) return;
      this.pending.delete(key);
      clearTimeout(pending.timer);
      pending.resolve(msg);
      return;
    }
    this.received.push(msg);
    if (this.received.length > 2000) this.received.splice(0, 1000);
    void this.onRequest(msg);
  }

  private closeSockets(): void {
    this.udp?.close();
    this.tcp?.destroy();
    this.udp = undefined;
    this.tcp = undefined;
  }
}
