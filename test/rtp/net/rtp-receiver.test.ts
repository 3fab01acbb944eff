import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../../src/core/log';
import { RtpReceiver, type RtpReceiverOptions } from '../../../rtp/net/rtp-receiver';
import { PortPool } from '../../../rtp/net/port-pool';
import { encodeRfc4571 } from '../../../rtp/framing/rfc4571';
import { buildRtpPacket } from '../../../rtp/packet';
import { buildSenderReport, parseRtcp } from '../../../rtp/rtcp';
import { FakePublisher, fixture, readRfc4571 } from '../helpers';

const SSRC = 200000001;
const SRS = readRfc4571(fixture('rtp', 'srsbench-h264-aac-20f.rtp4571'));

/** A logger that counts lines (receivers must never log per packet). */
function countingLogger(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const make = (level: string) => (a: object | string, b?: string) => void lines.push({ level, msg: typeof a === 'string' ? a : (b ?? '') });
  const logger = { trace: make('trace'), debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error'), fatal: make('fatal'), child: () => logger, lines };
  return logger as Logger & { lines: typeof lines };
}

function receiver(options: Partial<RtpReceiverOptions> & Pick<RtpReceiverOptions, 'transport'>): { rx: RtpReceiver; pub: FakePublisher; log: ReturnType<typeof countingLogger> } {
  const pub = new FakePublisher();
  const log = countingLogger();
  const rx = new RtpReceiver({ host: '127.0.0.1', publisher: pub, logger: log, ssrc: SSRC, ...options });
  return { rx, pub, log };
}

async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function udpSocket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

async function sendAll(socket: dgram.Socket, packets: Buffer[], port: number): Promise<void> {
  for (let i = 0; i < packets.length; i++) {
    socket.send(packets[i]!, port, '127.0.0.1');
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 2)); // stay under the socket buffer
  }
}

test('UDP: frames out, first sender bound, other SSRC and other senders dropped and counted', async () => {
  const { rx, pub, log } = receiver({ transport: 'udp' });
  const { port } = await rx.open();
  const peers: string[] = [];
  rx.on('peer', (p) => peers.push(p));
  const sender = await udpSocket();
  const intruder = await udpSocket();
  try {
    const stranger = buildRtpPacket({ payloadType: 96, sequence: 1, timestamp: 1, ssrc: 12345, payload: Buffer.alloc(10) });
    sender.send(stranger, port, '127.0.0.1'); // wrong SSRC first: must not bind the sender
    await sendAll(sender, SRS.slice(0, 50), port);
    await until(() => rx.stats().packets === 50, 5000, '50 packets');
    await sendAll(intruder, SRS.slice(50, 60), port);
    await sendAll(sender, SRS.slice(50), port);
    await until(() => rx.stats().packets === SRS.length, 5000, 'all packets');
    await until(() => rx.stats().otherPeerPackets === 10, 2000, 'intruder counted');
  } finally {
    sender.close();
    intruder.close();
  }
  rx.close('test done');
  const s = rx.stats();
  assert.equal(s.ssrcMismatch, 1);
  assert.equal(s.ssrcSeen, SSRC);
  assert.equal(s.ssrcExpected, SSRC);
  assert.equal(peers.length, 1);
  assert.equal(s.peer, peers[0]);
  assert.ok(s.firstPacketAt! <= s.lastPacketAt!);
  assert.equal(
    s.bytes,
    SRS.reduce((n, p) => n + p.length, 0),
  );
  assert.equal(s.lost, 0);
  assert.equal(pub.count(0), 20);
  assert.equal(pub.count(1), 35);
  assert.equal(s.framesOut, 55);
  assert.equal(s.closed, 'test done');
  assert.ok(log.lines.length < 15, `logged ${log.lines.length} lines for ${SRS.length} packets`);
});

test('UDP: the expected SSRC can be updated, or the check switched off', async () => {
  const { rx } = receiver({ transport: 'udp', ssrc: 1 });
  const { port } = await rx.open();
  const sender = await udpSocket();
  try {
    await sendAll(sender, SRS.slice(0, 5), port);
    await until(() => rx.stats().ssrcMismatch === 5, 2000, 'mismatches');
    rx.setExpectedSsrc(SSRC);
    await sendAll(sender, SRS.slice(5, 10), port);
    await until(() => rx.stats().packets === 5, 2000, 'accepted after update');
  } finally {
    sender.close();
    rx.close('done');
  }
  const loose = receiver({ transport: 'udp', ssrc: 1, ssrcCheck: false });
  const p2 = (await loose.rx.open()).port;
  const s2 = await udpSocket();
  try {
    await sendAll(s2, SRS.slice(0, 5), p2);
    await until(() => loose.rx.stats().packets === 5, 2000, 'loose accepts');
    assert.equal(loose.rx.stats().ssrcSeen, SSRC);
  } finally {
    s2.close();
    loose.rx.close('done');
  }
});

test('UDP: RTCP receiver reports go to the sender, learned from its SR', async () => {
  const { rx } = receiver({ transport: 'udp', rtcpIntervalMs: 100 });
  const { port } = await rx.open();
  const rtp = await udpSocket();
  const rtcp = await udpSocket();
  try {
    await sendAll(rtp, SRS.slice(0, 10), port);
    rtcp.send(buildSenderReport({ ssrc: SSRC, ntpSeconds: 3_900_000_000, ntpFraction: 0, rtpTimestamp: 3600, packetCount: 10, octetCount: 1000 }), port + 1, '127.0.0.1');
    const [msg] = (await once(rtcp, 'message')) as [Buffer];
    const [rr] = parseRtcp(msg);
    assert.equal(rr?.type, 'rr');
    assert.ok(rr?.type === 'rr' && rr.reports[0]?.ssrc === SSRC);
    assert.ok(rx.stats().rtcpSent >= 1 && rx.stats().rtcpReceived >= 1);
  } finally {
    rtp.close();
    rtcp.close();
    rx.close('done');
  }
});

test('no packets for timeoutMs: timeout then closed, pool port released', async () => {
  const pool = new PortPool(47000, 47019);
  const { rx } = receiver({ transport: 'udp', pool, timeoutMs: 300 });
  const events: string[] = [];
  rx.on('timeout', (r) => events.push(`timeout: ${r}`));
  rx.on('closed', (r) => events.push(`closed: ${r}`));
  const { port } = await rx.open();
  assert.equal(port % 2, 0);
  assert.ok(pool.isUsed(port));
  await until(() => rx.isClosed, 3000, 'timeout');
  assert.deepEqual(events, ['timeout: no RTP for 0 s', 'closed: no RTP for 0 s']);
  assert.equal(pool.isUsed(port), false);
  rx.close('again'); // idempotent
  assert.equal(events.length, 2);
});

test('pool: ports taken by someone else are skipped; each receiver gets its own even port', async () => {
  const pool = new PortPool(47100, 47119);
  const squatter = dgram.createSocket('udp4');
  squatter.bind(47100, '127.0.0.1');
  await once(squatter, 'listening');
  const a = receiver({ transport: 'udp', pool });
  const b = receiver({ transport: 'tcp-passive', pool });
  try {
    const pa = (await a.rx.open()).port;
    const pb = (await b.rx.open()).port;
    assert.notEqual(pa, 47100);
    assert.notEqual(pa, pb);
    assert.equal(pa % 2, 0);
    assert.equal(pb % 2, 0);
  } finally {
    a.rx.close('done');
    b.rx.close('done');
    squatter.close();
  }
  assert.equal(pool.inUse, 0);
});

test('TCP passive: RFC 4571 in odd chunks, second connection refused, reconnect accepted', async () => {
  const { rx, pub } = receiver({ transport: 'tcp-passive' });
  const { port } = await rx.open();
  const stream = Buffer.concat(SRS.map((p) => encodeRfc4571(p)));
  const cut = stream.length >> 1;
  const sockets: net.Socket[] = [];
  const connect = async (): Promise<net.Socket> => {
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => undefined);
    sockets.push(c);
    await once(c, 'connect');
    return c;
  };
  try {
    const first = await connect();
    for (let o = 0; o < cut; o += 777) first.write(stream.subarray(o, Math.min(cut, o + 777)));
    await until(() => rx.stats().peer !== undefined, 2000, 'peer');
    const second = await connect();
    await until(() => second.destroyed || second.readableEnded, 2000, 'second refused');
    first.end(Buffer.alloc(100, 0x5a)); // the first leaves mid-stream, after some garbage
    await until(() => first.destroyed, 2000, 'first closed');
    const again = await connect();
    again.end(stream.subarray(cut)); // starts mid-packet: the decoder resynchronises
    await until(() => pub.count(1) >= 28, 5000, 'frames after the reconnect');
  } finally {
    for (const c of sockets) c.destroy();
    rx.close('done');
  }
  const s = rx.stats();
  assert.equal(s.transportCounters.refusedConnections, 1);
  assert.equal(s.transportCounters.connections, 2);
  assert.ok(s.transportCounters.resyncs! >= 1);
  assert.ok(pub.count(0) >= 12, `video ${pub.count(0)}`);
  pub.assertTimestamps();
});

test('TCP passive: garbage inside one connection is skipped by searching for the SSRC', async () => {
  const { rx, pub } = receiver({ transport: 'tcp-passive' });
  const { port } = await rx.open();
  const parts = SRS.map((p) => encodeRfc4571(p));
  parts.splice(100, 0, Buffer.from([0xff, 0xee, 0x01, 0x02, 0x03]));
  const c = net.connect(port, '127.0.0.1');
  c.on('error', () => undefined);
  try {
    await once(c, 'connect');
    c.end(Buffer.concat(parts));
    await until(() => rx.stats().packets >= SRS.length, 3000, 'packets');
  } finally {
    c.destroy();
    rx.close('done');
  }
  assert.ok(rx.stats().transportCounters.resyncs! >= 1);
  assert.equal(rx.stats().packets, SRS.length);
  assert.ok(pub.count(0) >= 19);
});

test('TCP active: connects to the device, `$` interleaved framing accepted', async () => {
  const device = net.createServer((socket) => {
    socket.end(Buffer.concat(SRS.map((p) => encodeRfc4571(p, 0))));
  });
  device.listen(0, '127.0.0.1');
  await once(device, 'listening');
  const devicePort = (device.address() as net.AddressInfo).port;
  const { rx, pub } = receiver({ transport: 'tcp-active', connectAttempts: 1 });
  try {
    await rx.open();
    rx.connect({ host: '127.0.0.1', port: devicePort });
    await until(() => pub.count(0) === 20, 5000, '20 video frames');
    assert.equal(rx.stats().peer, `127.0.0.1:${devicePort}`);
  } finally {
    rx.close('done');
    device.close();
  }
});

test('TCP active: a device that never answers closes the receiver with the reason', async () => {
  const closedPort = await new Promise<number>((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const { rx } = receiver({ transport: 'tcp-active', peer: { host: '127.0.0.1', port: closedPort }, connectAttempts: 2, connectRetryDelayMs: 20 });
  const reasons: string[] = [];
  rx.on('closed', (r) => reasons.push(r));
  await rx.open();
  await until(() => rx.isClosed, 3000, 'close after failed attempts');
  assert.match(reasons[0]!, /connect to 127\.0\.0\.1:\d+ failed/);
});

test('raw payload dump: the file is the program stream in sequence order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtp-dump-'));
  const path = join(dir, 'dump.ps');
  const { rx } = receiver({ transport: 'tcp-passive', dumpPath: path });
  try {
    const { port } = await rx.open();
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => undefined);
    await once(c, 'connect');
    c.end(Buffer.concat(SRS.slice(0, 40).map((p) => encodeRfc4571(p))));
    await until(() => rx.stats().packets === 40, 3000, 'packets');
    c.destroy();
    rx.close('done');
    await new Promise((r) => setTimeout(r, 50));
    const expected = Buffer.concat(SRS.slice(0, 40).map((p) => p.subarray(12)));
    assert.ok(readFileSync(path).equals(expected));
  } finally {
    rx.close('done');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TCP active: closing while the connection is being set up leaves nothing open', async () => {
  let accepted = 0;
  const device = net.createServer((socket) => {
    accepted++;
    socket.on('error', () => undefined);
  });
  device.listen(0, '127.0.0.1');
  await once(device, 'listening');
  const devicePort = (device.address() as net.AddressInfo).port;
  const { rx } = receiver({ transport: 'tcp-active', peer: { host: '127.0.0.1', port: devicePort } });
  await rx.open();
  rx.close('changed my mind'); // the connect is still in flight
  await new Promise((r) => setTimeout(r, 100));
  // whatever the device accepted has been closed again by us
  const open = await new Promise<number>((resolve) => device.getConnections((_e, n) => resolve(n)));
  assert.equal(open, 0);
  assert.ok(accepted <= 1);
  device.close();
});
