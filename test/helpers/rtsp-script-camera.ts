import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { splitAnnexB } from '../../src/codecs/annexb';
import { buildRtpPacket } from '../../rtp/packet';
import { buildSenderReport } from '../../rtp/rtcp';

/**
 * A scripted RTSP camera for unit tests: a small RTSP server written here (independently of
 * src/protocols/rtsp) that plays a looped H.264 fixture over TCP interleaved or UDP, and can be
 * told to misbehave: refuse UDP, stay silent, redirect, ask for credentials, answer garbage,
 * hang, drop the connection, leave out CSeq.
 */

export const FIXTURE_H264 = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'codecs', 'h264-baseline-320x240.h264');

export interface CameraRequest {
  method: string;
  uri: string;
  headers: Map<string, string>;
}

export interface CameraReply {
  status: number;
  reason?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface CameraOptions {
  /** Sprop parameter sets in the SDP, and none in-band. Default: in-band only. */
  spropOnly?: boolean;
  /** Answer a UDP SETUP with 461. */
  refuseUdp?: boolean;
  /** Answer PLAY but send no media at all. */
  silent?: boolean;
  /** Stop sending media this long after PLAY (the connection stays open). */
  stopMediaAfterMs?: number;
  /** Session timeout announced in SETUP. */
  sessionTimeout?: number;
  /** Leave CSeq out of every answer. */
  omitCSeq?: boolean;
  /** Ask for Basic credentials. */
  basic?: { username: string; password: string };
  /** Intercepts a request before the default behaviour; returning a reply (or 'hang', 'close', a raw Buffer) wins. */
  override?: (req: CameraRequest, conn: Socket) => CameraReply | 'hang' | 'close' | Buffer | undefined;
  /** Replaces the SDP. */
  sdp?: string;
}

interface AccessUnit {
  nals: Buffer[];
}

function loadAccessUnits(spropOnly: boolean): { units: AccessUnit[]; sps: Buffer; pps: Buffer } {
  const nals = splitAnnexB(readFileSync(FIXTURE_H264));
  const sps = nals.find((n) => (n[0]! & 0x1f) === 7)!;
  const pps = nals.find((n) => (n[0]! & 0x1f) === 8)!;
  const units: AccessUnit[] = [];
  let current: Buffer[] = [];
  for (const nal of nals) {
    const type = nal[0]! & 0x1f;
    if (spropOnly && (type === 7 || type === 8)) continue;
    current.push(nal);
    if (type === 1 || type === 5) {
      units.push({ nals: current });
      current = [];
    }
  }
  return { units, sps, pps };
}

/** RFC 6184 single NAL unit packets, FU-A above 1200 bytes. */
function packetize(au: AccessUnit, seq: { n: number }, timestamp: number, ssrc: number): Buffer[] {
  const out: Buffer[] = [];
  au.nals.forEach((nal, i) => {
    const last = i === au.nals.length - 1;
    if (nal.length <= 1200) {
      out.push(buildRtpPacket({ payloadType: 96, sequence: seq.n++, timestamp, ssrc, marker: last, payload: nal }));
      return;
    }
    const header = nal[0]!;
    for (let o = 1; o < nal.length; o += 1200) {
      const end = Math.min(nal.length, o + 1200);
      const fu = Buffer.from([(header & 0xe0) | 28, (o === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | (header & 0x1f)]);
      out.push(buildRtpPacket({ payloadType: 96, sequence: seq.n++, timestamp, ssrc, marker: last && end === nal.length, payload: Buffer.concat([fu, nal.subarray(o, end)]) }));
    }
  });
  return out;
}

export interface ScriptCamera {
  readonly port: number;
  url(path?: string): string;
  readonly requests: CameraRequest[];
  /** RTCP packets the camera received (receiver reports). */
  readonly rtcpReceived: Buffer[];
  /** Drops every connection (a camera reboot). */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startScriptCamera(options: CameraOptions = {}): Promise<ScriptCamera> {
  const { units, sps, pps } = loadAccessUnits(options.spropOnly ?? false);
  const requests: CameraRequest[] = [];
  const rtcpReceived: Buffer[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const udpSockets = new Set<UdpSocket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let transport: { tcp: true; channel: number } | { tcp: false; rtp: number; rtcp: number; udp: UdpSocket } | undefined;
    let stream: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (stream) clearInterval(stream);
      if (stream) timers.delete(stream);
      stream = undefined;
    };
    socket.on('close', stop);
    const sendReply = (req: CameraRequest, reply: CameraReply): void => {
      const lines = [`RTSP/1.0 ${reply.status} ${reply.reason ?? 'OK'}`];
      if (!options.omitCSeq) lines.push(`CSeq: ${req.headers.get('cseq') ?? '0'}`);
      for (const [k, v] of Object.entries(reply.headers ?? {})) lines.push(`${k}: ${v}`);
      const body = reply.body ?? '';
      if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
    };
    const play = (): void => {
      if (options.silent || !transport) return;
      const udp = transport.tcp ? undefined : transport.udp;
      const ssrc = 0x1234abcd;
      const seq = { n: 1000 };
      let frame = 0;
      const started = Date.now();
      const send = (packet: Buffer, rtcp = false): void => {
        if (!transport) return;
        if (transport.tcp) {
          const head = Buffer.from([0x24, transport.channel + (rtcp ? 1 : 0), packet.length >> 8, packet.length & 0xff]);
          socket.write(Buffer.concat([head, packet]));
        } else {
          udp!.send(packet, rtcp ? transport.rtcp : transport.rtp, '127.0.0.1');
        }
      };
      stream = setInterval(() => {
        if (options.stopMediaAfterMs !== undefined && Date.now() - started > options.stopMediaAfterMs) return;
        const timestamp = (1_000_000 + frame * 3600) >>> 0;
        if (frame % 50 === 0)
          send(buildSenderReport({ ssrc, ntpSeconds: 3_900_000_000 + Math.floor(frame / 25), ntpFraction: 0, rtpTimestamp: timestamp, packetCount: 0, octetCount: 0 }), true);
        for (const packet of packetize(units[frame % units.length]!, seq, timestamp, ssrc)) send(packet);
        frame++;
      }, 40);
      timers.add(stream);
    };
    const handle = (req: CameraRequest): void => {
      requests.push(req);
      const custom = options.override?.(req, socket);
      if (custom === 'hang') return;
      if (custom === 'close') return void socket.destroy();
      if (Buffer.isBuffer(custom)) return void socket.write(custom);
      if (custom) return sendReply(req, custom);
      if (options.basic && req.headers.get('authorization') !== `Basic ${Buffer.from(`${options.basic.username}:${options.basic.password}`).toString('base64')}`) {
        return sendReply(req, { status: 401, reason: 'Unauthorized', headers: { 'WWW-Authenticate': 'Basic realm="camera"' } });
      }
      switch (req.method) {
        case 'OPTIONS':
        case 'GET_PARAMETER':
          return sendReply(req, { status: 200, headers: { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER' } });
        case 'DESCRIBE': {
          const fmtp = options.spropOnly ? `;sprop-parameter-sets=${sps.toString('base64')},${pps.toString('base64')}` : '';
          const sdp =
            options.sdp ??
            `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=camera\r\nt=0 0\r\na=control:*\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1${fmtp}\r\na=control:track1\r\n`;
          return sendReply(req, { status: 200, headers: { 'Content-Type': 'application/sdp', 'Content-Base': `${req.uri.replace(/\/$/, '')}/` }, body: sdp });
        }
        case 'SETUP': {
          const t = req.headers.get('transport') ?? '';
          const interleaved = /interleaved=(\d+)-(\d+)/.exec(t);
          const ports = /client_port=(\d+)-(\d+)/.exec(t);
          const session = `ABCD1234;timeout=${options.sessionTimeout ?? 60}`;
          if (interleaved) {
            transport = { tcp: true, channel: Number(interleaved[1]) };
            return sendReply(req, { status: 200, headers: { Session: session, Transport: `RTP/AVP/TCP;unicast;interleaved=${interleaved[1]}-${interleaved[2]}` } });
          }
          if (options.refuseUdp || !ports) return sendReply(req, { status: 461, reason: 'Unsupported Transport' });
          const udp = createSocket('udp4');
          const rtcp = createSocket('udp4');
          udpSockets.add(udp);
          udpSockets.add(rtcp);
          rtcp.on('message', (msg) => rtcpReceived.push(msg));
          udp.bind(0, '127.0.0.1', () =>
            rtcp.bind(0, '127.0.0.1', () => {
              transport = { tcp: false, rtp: Number(ports[1]), rtcp: Number(ports[2]), udp };
              sendReply(req, {
                status: 200,
                headers: { Session: session, Transport: `RTP/AVP;unicast;client_port=${ports[1]}-${ports[2]};server_port=${udp.address().port}-${rtcp.address().port}` },
              });
            }),
          );
          return;
        }
        case 'PLAY':
          sendReply(req, { status: 200, headers: { Session: 'ABCD1234', 'RTP-Info': `url=${req.uri};seq=1000;rtptime=1000000` } });
          play();
          return;
        case 'TEARDOWN':
          stop();
          return sendReply(req, { status: 200 });
        default:
          return sendReply(req, { status: 501, reason: 'Not Implemented' });
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        while (buffer[0] === 0x24 && buffer.length >= 4) {
          const length = buffer.readUInt16BE(2);
          if (buffer.length < 4 + length) return;
          rtcpReceived.push(buffer.subarray(4, 4 + length));
          buffer = buffer.subarray(4 + length);
        }
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [start = '', ...lines] = buffer.subarray(0, end).toString().split('\r\n');
        const headers = new Map<string, string>();
        for (const line of lines) {
          const colon = line.indexOf(':');
          if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
        }
        const bodyLength = Number(headers.get('content-length') ?? 0);
        if (buffer.length < end + 4 + bodyLength) return;
        buffer = buffer.subarray(end + 4 + bodyLength);
        const [method = '', uri = ''] = start.split(' ');
        handle({ method, uri, headers });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path = 'live/main') => `rtsp://127.0.0.1:${port}/${path}`,
    requests,
    rtcpReceived,
    dropConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      for (const udp of udpSockets) udp.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `frames` access units of the looped fixture as RTP packets (25 fps, PT 96). */
export function fixtureRtp(frames: number, ssrc = 0x1234abcd, firstSeq = 1000, firstTimestamp = 1_000_000): Buffer[] {
  const { units } = loadAccessUnits(false);
  const seq = { n: firstSeq };
  const out: Buffer[] = [];
  for (let frame = 0; frame < frames; frame++) out.push(...packetize(units[frame % units.length]!, seq, (firstTimestamp + frame * 3600) >>> 0, ssrc));
  return out;
}
