import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

export const SIP_FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'sip');
/** sb-im/sbgb28181 (GStreamer mpegpsmux), H.264 640x480, video only; copied from /work/shared/fixtures/rtp. */
export const PS_FIXTURE_H264 = join(SIP_FIXTURES, 'sbgb28181-h264-udp.rtp4571');
/** ossrs/srs-bench GB28181 mode, H.264 1280x720 + AAC, the first 2 s. */
export const PS_FIXTURE_H264_AAC = join(SIP_FIXTURES, 'srsbench-h264-aac-2s.rtp4571');

/** The RTP packets of an RFC 4571 file (2-byte length + packet). */
export function readRtp4571(file: string): Buffer[] {
  const data = readFileSync(file);
  const packets: Buffer[] = [];
  for (let offset = 0; offset + 2 <= data.length;) {
    const length = data.readUInt16BE(offset);
    if (offset + 2 + length > data.length) break;
    packets.push(data.subarray(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  return packets;
}

export type MediaTransport = { kind: 'udp'; host: string; port: number } | { kind: 'tcp-connect'; host: string; port: number } | { kind: 'tcp-listen'; server: Server };

export interface SenderOptions {
  /** Loop the fixture (live) or send it once and call onEnd (a recording played back). Default true. */
  loop?: boolean;
  /** Content seconds per wall second (playback speed, download speed). */
  speed?: number;
  onEnd?: () => void;
  /** Stop (and call onEnd) after this many seconds of content, looping the fixture up to it: a device serving exactly the range asked for. */
  limitSeconds?: number;
}

/** A packet that starts a keyframe: a PS system header or an H.264 IDR/SPS NAL in its payload. */
function startsKeyframe(packet: Buffer): boolean {
  const payload = packet.subarray(12);
  for (let i = payload.indexOf(Buffer.from([0, 0, 1])); i >= 0 && i + 3 < payload.length; i = payload.indexOf(Buffer.from([0, 0, 1]), i + 3)) {
    const b = payload[i + 3]!;
    if (b === 0xbb || b === 0x65 || b === 0x67) return true;
  }
  return false;
}

/**
 * Sends a PS-over-RTP fixture as a camera does: SSRC rewritten to the INVITE's y=, paced in real
 * time by RTP timestamp (times `speed`), looped with continuing sequence numbers and timestamps
 * or sent once. Like real devices it keeps the recording's own timestamps when it speeds up,
 * pauses (nothing sent) and seeks (to the keyframe at or before the position). UDP packets go
 * without the length prefix; TCP keeps the RFC 4571 framing.
 */
export class RtpFixtureSender {
  packetsSent = 0;
  connected = false;
  ended = false;
  private readonly packets: Buffer[];
  private udp: UdpSocket | undefined;
  private tcp: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private index = 0;
  private loop = 0;
  private seq = 0;
  private contentMs = 0;
  private lastTick = 0;
  private paused = false;
  private speed: number;
  private readonly firstTs: number;
  private readonly span: number;

  constructor(
    fixture: string,
    private readonly ssrc: number,
    private readonly transport: MediaTransport,
    private readonly options: SenderOptions = {},
  ) {
    this.packets = readRtp4571(fixture);
    this.firstTs = this.packets[0]!.readUInt32BE(4);
    this.span = this.packets.at(-1)!.readUInt32BE(4) - this.firstTs + 3600;
    this.speed = options.speed ?? 1;
    this.seq = this.packets[0]!.readUInt16BE(2);
  }

  /** Content length of the fixture, s. */
  get durationSeconds(): number {
    return this.span / 90_000;
  }

  start(): void {
    const t = this.transport;
    if (t.kind === 'udp') {
      this.udp = createSocket('udp4');
      this.udp.on('error', () => undefined);
      this.begin();
    } else if (t.kind === 'tcp-connect') {
      const socket = connect({ host: t.host, port: t.port }, () => {
        this.connected = true;
        this.begin();
      });
      socket.on('error', () => undefined);
      this.tcp = socket;
    } else {
      t.server.once('connection', (socket: Socket) => {
        if (this.stopped) return socket.destroy();
        socket.on('error', () => undefined);
        this.tcp = socket;
        this.connected = true;
        this.begin();
      });
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  setSpeed(speed: number): void {
    if (speed > 0) this.speed = speed;
  }

  /** Jumps to the keyframe at or before `seconds` of content (and plays on). */
  seek(seconds: number): void {
    const target = seconds * 90_000;
    let found = 0;
    for (let i = 0; i < this.packets.length; i++) {
      const ts = this.packets[i]!.readUInt32BE(4) - this.firstTs;
      if (ts > target) break;
      if (startsKeyframe(this.packets[i]!) && (i === 0 || this.packets[i - 1]!.readUInt32BE(4) !== this.packets[i]!.readUInt32BE(4))) found = i;
    }
    this.index = found;
    this.contentMs = (this.packets[found]!.readUInt32BE(4) - this.firstTs + this.loop * this.span) / 90;
    this.paused = false;
  }

  /** Content position, s (what the device would report). */
  get positionSeconds(): number {
    return this.contentMs / 1000;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.udp?.close();
    this.tcp?.destroy();
    if (this.transport.kind === 'tcp-listen') this.transport.server.close();
  }

  private begin(): void {
    this.lastTick = performance.now();
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    const now = performance.now();
    if (!this.paused) this.contentMs += (now - this.lastTick) * this.speed;
    this.lastTick = now;
    const batch: Buffer[] = [];
    while (!this.paused) {
      const packet = this.packets[this.index]!;
      const ts = packet.readUInt32BE(4) - this.firstTs + this.loop * this.span;
      if (this.options.limitSeconds !== undefined && ts >= this.options.limitSeconds * 90_000) {
        this.ended = true;
        break;
      }
      if (ts / 90 > this.contentMs) break;
      batch.push(this.rewrite(packet, ts));
      if (++this.index >= this.packets.length) {
        if (this.options.loop === false) {
          this.ended = true;
          break;
        }
        this.index = 0;
        this.loop++;
      }
    }
    for (const packet of batch) this.send(packet);
    if (this.ended) {
      this.options.onEnd?.();
      return;
    }
    this.timer = setTimeout(() => this.tick(), 10);
  }

  private rewrite(packet: Buffer, ts: number): Buffer {
    const out = Buffer.from(packet);
    out.writeUInt16BE(this.seq++ & 0xffff, 2);
    out.writeUInt32BE((this.firstTs + ts) >>> 0, 4);
    out.writeUInt32BE(this.ssrc >>> 0, 8);
    return out;
  }

  private send(packet: Buffer): void {
    this.packetsSent++;
    const t = this.transport;
    if (t.kind === 'udp') {
      this.udp?.send(packet, t.port, t.host);
      return;
    }
    const length = Buffer.alloc(2);
    length.writeUInt16BE(packet.length);
    this.tcp?.write(Buffer.concat([length, packet]));
  }
}

/** A TCP server on 127.0.0.1 for the tcp-active case (the gateway connects to the device). */
export function listenForMedia(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}
