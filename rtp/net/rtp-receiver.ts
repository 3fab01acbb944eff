import type { StreamMode } from '../../src/core/gb28181';
import { ParseError, errorMessage } from '../../src/core/errors';
import { TypedEmitter } from '../../src/core/events';
import { RateLimitedLog, type Logger } from '../../src/core/log';
import type { Publisher } from '../../src/core/source';
import type { FramePublisher } from '../frame-assembler';
import { RtpIngest, type RtpIngestOptions, type RtpIngestStats } from '../ingest';
import { parseRtpPacket, type RtpPacket } from '../packet';
import { SequenceExtender } from '../seq';
import { ReceptionStats, buildReceiverReport, isRtcpPacket, parseRtcp } from '../rtcp';
import { PayloadDump } from './payload-dump';
import type { PortPool } from './port-pool';
import { TcpActiveTransport, TcpPassiveTransport } from './tcp-transport';
import type { ReceiverTransport, TransportEvents } from './transport';
import { UdpTransport } from './udp-transport';

/**
 * One RTP receiver: a UDP port, a TCP listener (passive) or a TCP connection to the device
 * (active), feeding one Publisher through the pure ingest pipeline (reorder, PS/TS demux or
 * depacketizers, frames). It binds the first sender (UDP), checks the SSRC, answers with RTCP
 * receiver reports every 5 s (UDP), closes itself after `timeoutMs` without a packet (event
 * 'timeout', then 'closed', for the signalling side to send BYE), and releases every socket,
 * timer, file and pool port on close and on every error path. It never ends the publisher:
 * whoever owns the stream does, on 'closed'.
 */

export interface RtpReceiverOptions {
  transport: StreamMode;
  publisher: FramePublisher & Partial<Pick<Publisher, 'addBytesIn'>>;
  logger: Logger;
  /** Where ports come from (`rtp.portMin`..`rtp.portMax`); without it `port` (0: any) is used. */
  pool?: PortPool;
  port?: number;
  /** Bind address. Default 0.0.0.0. */
  host?: string;
  /** tcp-active: the device's address and port (from its SDP answer); or call connect() later. */
  peer?: { host: string; port: number };
  /** The expected SSRC (the `y=` of the INVITE); updatable with setExpectedSsrc. */
  ssrc?: number;
  /** Drop packets of another SSRC (default true). Off: accept any sender's SSRC. */
  ssrcCheck?: boolean;
  /** No packet for this long closes the receiver. Default 15 s. */
  timeoutMs?: number;
  /** RTCP RR interval (UDP). Default 5 s; 0 disables. */
  rtcpIntervalMs?: number;
  recvBufferSize?: number;
  /** Writes every RTP payload, in sequence order, to this file (debugging "no picture"). */
  dumpPath?: string;
  /** Size cap of the dump file (rtp.dumpMaxBytes). */
  dumpMaxBytes?: number;
  ingest?: RtpIngestOptions;
  /** tcp-active connection set-up. */
  connectTimeoutMs?: number;
  connectAttempts?: number;
  connectRetryDelayMs?: number;
}

export interface RtpReceiverStats extends Omit<RtpIngestStats, 'container'> {
  transport: StreamMode;
  port: number;
  peer: string | undefined;
  /** Wall-clock ms of the first accepted packet. */
  firstPacketAt: number | undefined;
  lastPacketAt: number | undefined;
  ssrcExpected: number | undefined;
  ssrcSeen: number | undefined;
  bytes: number;
  /** Packets dropped for carrying another SSRC. */
  ssrcMismatch: number;
  /** UDP packets from a sender other than the bound one. */
  otherPeerPackets: number;
  /** Datagrams that are not RTP. */
  badPackets: number;
  rtcpReceived: number;
  rtcpSent: number;
  container: RtpIngestStats['container'];
  framesOut: number;
  transportCounters: Record<string, number>;
  closed: string | undefined;
}

type ReceiverEvents = {
  peer: [peer: string];
  timeout: [reason: string];
  closed: [reason: string];
};

const OUR_SSRC_BASE = 0x52545000;

export class RtpReceiver extends TypedEmitter<ReceiverEvents> {
  private log: Logger;
  private readonly ingest: RtpIngest;
  private readonly transportKind: StreamMode;
  private transport: ReceiverTransport | undefined;
  private port = 0;
  private pooled = false;
  private peer: string | undefined;
  private learnedRtcp: string | undefined;
  private expectedSsrc: number | undefined;
  private seenSsrc: number | undefined;
  private readonly strict: boolean;
  private readonly timeoutMs: number;
  private firstPacketAt: number | undefined;
  private lastPacketAt: number | undefined;
  private lastActivity = 0;
  private held = false;
  private counters = { bytes: 0, ssrcMismatch: 0, otherPeerPackets: 0, badPackets: 0, rtcpReceived: 0, rtcpSent: 0 };
  private readonly reception = new ReceptionStats(90_000);
  private readonly extender = new SequenceExtender();
  private readonly mismatchLog: RateLimitedLog;
  private watchdog: NodeJS.Timeout | undefined;
  private rtcpTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private dump: PayloadDump | undefined;
  private closedReason: string | undefined;
  private opened = false;

  constructor(private readonly options: RtpReceiverOptions) {
    super();
    this.transportKind = options.transport;
    this.expectedSsrc = options.ssrc;
    this.strict = options.ssrcCheck ?? true;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.log = options.logger.child({ component: 'rtp-receiver', transport: options.transport });
    this.mismatchLog = new RateLimitedLog(this.log.warn.bind(this.log), 'RTP of another SSRC dropped', 5000);
    const tap = options.dumpPath ? (p: RtpPacket) => this.dump?.write(p.payload) : undefined;
    const tcp = options.transport !== 'udp';
    this.ingest = new RtpIngest(options.publisher, {
      ...options.ingest,
      ...(tcp ? { reorder: { ...options.ingest?.reorder, maxDelayMs: 0 } } : {}),
      ...(tap ? { tap } : {}),
    });
  }

  /** Binds (UDP), listens (TCP passive) or starts connecting (TCP active). */
  async open(): Promise<{ port: number }> {
    if (this.opened) throw new Error('RtpReceiver.open called twice');
    this.opened = true;
    try {
      await this.bindTransport();
      if (this.options.dumpPath) this.dump = new PayloadDump(this.options.dumpPath, this.log, this.options.dumpMaxBytes);
    } catch (err) {
      this.close(`open failed: ${errorMessage(err)}`);
      throw err;
    }
    if (this.closedReason) throw new Error(`receiver closed while opening: ${this.closedReason}`);
    this.log = this.log.child({ port: this.port });
    this.lastActivity = performance.now();
    this.armWatchdog();
    const interval = this.options.rtcpIntervalMs ?? 5000;
    if (this.transportKind === 'udp' && interval > 0) this.rtcpTimer = setInterval(() => this.sendReport(), interval);
    this.log.info({ ssrc: this.expectedSsrc, peer: this.options.peer }, 'RTP receiver open');
    return { port: this.port };
  }

  /**
   * tcp-active when the device's address was not known at open (it comes in the SDP answer):
   * starts connecting now, on the port reserved by open().
   */
  connect(peer: { host: string; port: number }): void {
    if (this.transportKind !== 'tcp-active') throw new Error('connect() is for tcp-active receivers');
    if (this.transport || this.closedReason !== undefined) return;
    this.transport = this.makeTransport(peer);
    this.transport.open(this.port).catch((err: unknown) => this.close(`connect failed: ${errorMessage(err)}`));
  }

  /** The device answered with another `y=`: expect that SSRC from now on. */
  setExpectedSsrc(ssrc: number | undefined): void {
    this.expectedSsrc = ssrc;
    if (this.transport instanceof TcpPassiveTransport || this.transport instanceof TcpActiveTransport) this.transport.setExpectedSsrc(ssrc);
    this.log.info({ ssrc }, 'expected SSRC updated');
  }

  /**
   * While held, silence does not close the receiver (a paused GB28181 playback sends nothing);
   * the silence clock restarts when the hold ends.
   */
  holdTimeout(hold: boolean): void {
    this.held = hold;
    this.lastActivity = performance.now();
  }

  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Closes everything; idempotent. Emits 'closed' once. */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    for (const t of [this.watchdog, this.pollTimer]) if (t) clearTimeout(t);
    if (this.rtcpTimer) clearInterval(this.rtcpTimer);
    this.watchdog = this.pollTimer = this.rtcpTimer = undefined;
    this.transport?.close();
    try {
      this.ingest.end();
    } catch (err) {
      this.log.error({ err }, 'flushing the ingest pipeline failed');
    }
    this.dump?.close();
    this.dump = undefined;
    if (this.pooled) this.options.pool?.release(this.port);
    this.pooled = false;
    this.log.info({ reason, stats: this.stats() }, 'RTP receiver closed');
    this.emit('closed', reason);
  }

  stats(): RtpReceiverStats {
    const s = this.ingest.stats;
    return {
      ...s,
      transport: this.transportKind,
      port: this.port,
      peer: this.peer,
      firstPacketAt: this.firstPacketAt,
      lastPacketAt: this.lastPacketAt,
      ssrcExpected: this.expectedSsrc,
      ssrcSeen: this.seenSsrc,
      ...this.counters,
      framesOut: s.videoFrames + s.audioFrames,
      transportCounters: { ...this.transport?.counters, ...(this.dump ? { dumpDropped: this.dump.dropped } : {}) },
      closed: this.closedReason,
    };
  }

  private transportEvents(): TransportEvents {
    return {
      packet: (data, from, rtcpPort) => this.onPacket(data, from, rtcpPort),
      connected: (from) => this.onPeer(from),
      disconnected: (from, reason) => this.log.warn({ peer: from, reason }, 'TCP sender left; waiting for it to come back'),
      failed: (reason) => this.close(reason),
    };
  }

  private makeTransport(peer = this.options.peer): ReceiverTransport {
    const host = this.options.host ?? '0.0.0.0';
    const events = this.transportEvents();
    const common = { host, ...(this.expectedSsrc !== undefined ? { expectedSsrc: this.expectedSsrc } : {}) };
    if (this.transportKind === 'udp') return new UdpTransport({ host, ...(this.options.recvBufferSize ? { recvBufferSize: this.options.recvBufferSize } : {}) }, events);
    if (this.transportKind === 'tcp-passive') return new TcpPassiveTransport(common, events);
    if (!peer) throw new Error('tcp-active needs the peer address and port');
    const o = this.options;
    return new TcpActiveTransport(
      {
        ...common,
        peerHost: peer.host,
        peerPort: peer.port,
        ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
        ...(o.connectAttempts !== undefined ? { attempts: o.connectAttempts } : {}),
        ...(o.connectRetryDelayMs !== undefined ? { retryDelayMs: o.connectRetryDelayMs } : {}),
      },
      events,
    );
  }

  private async bindTransport(): Promise<void> {
    const pool = this.options.pool;
    // tcp-active without a peer yet: only the port is reserved; connect() starts the transport.
    const deferred = this.transportKind === 'tcp-active' && !this.options.peer;
    if (!pool) {
      if (deferred) {
        this.port = this.options.port ?? 0;
        return;
      }
      this.transport = this.makeTransport();
      this.port = await this.transport.open(this.options.port ?? 0);
      return;
    }
    // Ports of the pool may be taken by other programs: try the next ones.
    for (let tries = 0; tries < Math.min(pool.size, 32); tries++) {
      const port = pool.allocate();
      if (port === undefined) break;
      if (deferred) {
        this.port = port;
        this.pooled = true;
        return;
      }
      const transport = this.makeTransport();
      try {
        this.port = await transport.open(port);
        this.transport = transport;
        this.pooled = true;
        return;
      } catch (err) {
        transport.close();
        pool.release(port);
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
      }
    }
    throw new Error('no free RTP port in the pool');
  }

  private onPeer(from: string): void {
    this.peer = from;
    this.log.info({ peer: from }, 'RTP sender bound');
    this.emit('peer', from);
  }

  private onPacket(data: Buffer, from: string, rtcpPort: boolean): void {
    if (this.closedReason !== undefined) return;
    if (rtcpPort || isRtcpPacket(data)) {
      this.onRtcp(data, from);
      return;
    }
    if (this.transportKind === 'udp' && this.peer !== undefined && from !== this.peer) {
      this.counters.otherPeerPackets++;
      return;
    }
    let packet: RtpPacket;
    try {
      packet = parseRtpPacket(data);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.counters.badPackets++;
      return;
    }
    if (!this.acceptSsrc(packet.ssrc, from)) return;
    if (this.transportKind === 'udp' && this.peer === undefined) this.onPeer(from);
    const now = performance.now();
    this.lastActivity = now;
    this.lastPacketAt = Date.now();
    this.firstPacketAt ??= this.lastPacketAt;
    this.counters.bytes += data.length;
    this.options.publisher.addBytesIn?.(data.length);
    this.reception.onPacket(this.extender.extend(packet.sequence), packet.timestamp, now);
    try {
      this.ingest.push(packet, now);
    } catch (err) {
      // a bug, not bad input (parsers only throw ParseError and the pipeline catches those)
      this.log.error({ err }, 'RTP ingest failed');
      this.close(`ingest failed: ${errorMessage(err)}`);
      return;
    }
    this.armPoll();
  }

  private acceptSsrc(ssrc: number, from: string): boolean {
    if (this.expectedSsrc !== undefined && ssrc !== this.expectedSsrc && this.strict) {
      this.counters.ssrcMismatch++;
      this.mismatchLog.hit({ expected: this.expectedSsrc, got: ssrc, from });
      return false;
    }
    if (this.seenSsrc !== undefined && ssrc !== this.seenSsrc) {
      // a new sender or a restarted one: its sequence numbers start afresh
      this.log.info({ previous: this.seenSsrc, ssrc }, 'SSRC changed');
      this.ingest.reset();
      this.extender.reset();
    }
    this.seenSsrc = ssrc;
    return true;
  }

  private onRtcp(data: Buffer, from: string): void {
    this.counters.rtcpReceived++;
    try {
      for (const p of parseRtcp(data)) {
        if (p.type === 'sr') this.reception.onSenderReport(p, performance.now());
      }
      const sameHost = this.peer === undefined || from.slice(0, from.lastIndexOf(':')) === this.peer.slice(0, this.peer.lastIndexOf(':'));
      if (this.transportKind === 'udp' && sameHost) this.learnedRtcp = from;
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.counters.badPackets++;
    }
  }

  /** RTCP RR to the sender: loss and jitter for it, and a packet that keeps NAT bindings open. */
  private sendReport(): void {
    if (this.peer === undefined || !this.transport) return;
    const ourSsrc = (OUR_SSRC_BASE + this.port) >>> 0;
    const block = this.seenSsrc !== undefined ? this.reception.reportBlock(this.seenSsrc, performance.now()) : undefined;
    if (this.transport.sendRtcp(buildReceiverReport(ourSsrc, block ? [block] : []), this.peer, this.learnedRtcp)) this.counters.rtcpSent++;
  }

  private armWatchdog(): void {
    const check = Math.max(50, Math.min(1000, this.timeoutMs / 4));
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      if (this.closedReason !== undefined) return;
      if (this.held) this.lastActivity = performance.now();
      if (performance.now() - this.lastActivity >= this.timeoutMs) {
        const reason = `no RTP for ${Math.round(this.timeoutMs / 1000)} s`;
        this.log.warn({ port: this.port, peer: this.peer, packets: this.ingest.stats.packets }, reason);
        this.emit('timeout', reason);
        this.close(reason);
        return;
      }
      this.armWatchdog();
    }, check);
  }

  /** One timer for the reorder buffer's next deadline, armed only while packets wait. */
  private armPoll(): void {
    if (this.pollTimer || this.closedReason !== undefined) return;
    const deadline = this.ingest.nextDeadline();
    if (deadline === undefined) return;
    this.pollTimer = setTimeout(
      () => {
        this.pollTimer = undefined;
        if (this.closedReason !== undefined) return;
        this.ingest.poll(performance.now());
        this.armPoll();
      },
      Math.max(1, Math.ceil(deadline - performance.now())),
    );
  }
}
