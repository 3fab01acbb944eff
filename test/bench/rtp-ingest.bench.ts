/**
 * RTP ingest benchmark (issue 3): N concurrent GB28181-style PS-over-RTP streams, each paced
 * at --kbps (default 2000), sent over UDP or TCP on loopback into N RtpReceivers (the whole
 * pure pipeline: reorder, PS demux, access units, frames to a publisher that drops them).
 * Receivers and the sender are separate child processes; the receiver process is measured
 * from /proc. It prints numbers; it asserts nothing.
 *
 *   node dist/test/bench/rtp-ingest.bench.js [--streams 50,100,300] [--transports udp,tcp]
 *                                             [--seconds 10] [--kbps 2000]
 *
 * The stream is test/fixtures/rtp/srsbench-h264-aac-20f.rtp4571 (srs-bench's GB28181 device
 * mode, H.264 1280x720 + AAC) looped with fresh sequence numbers and timestamps.
 */
import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { silentLogger } from '../../src/core/log';
import type { Frame } from '../../src/core/frame';
import { encodeRfc4571 } from '../../rtp/framing/rfc4571';
import { PortPool } from '../../rtp/net/port-pool';
import { RtpReceiver } from '../../rtp/net/rtp-receiver';
import { clockTicksPerSecond, machineBusySeconds, processCpuSeconds, processRssKb } from './proc-stats';
import { fixture, readRfc4571 } from '../rtp/helpers';

type Transport = 'udp' | 'tcp';
type Msg =
  | { type: 'ready'; ports: number[] }
  | { type: 'stats'; packets: number; lost: number; frames: number; bytes: number; other: Record<string, number> }
  | { type: 'sent'; packets: number; bytes: number; lagMs: number; ms: number };

const BASE_SSRC = 300000000;

async function receiverRole(streams: number, transport: Transport): Promise<void> {
  const pool = new PortPool(42000, 42000 + streams * 4 + 64);
  const receivers: RtpReceiver[] = [];
  let frames = 0;
  for (let i = 0; i < streams; i++) {
    const publisher = { resumeDts: 0, setTracks: () => undefined, write: (_f: Frame) => void frames++ };
    const rx = new RtpReceiver({
      transport: transport === 'udp' ? 'udp' : 'tcp-passive',
      publisher,
      logger: silentLogger(),
      pool,
      host: '127.0.0.1',
      ssrc: BASE_SSRC + i,
      timeoutMs: 600_000,
    });
    await rx.open();
    receivers.push(rx);
  }
  process.send!({ type: 'ready', ports: receivers.map((r) => r.stats().port) } satisfies Msg);
  process.on('message', (m: string) => {
    if (m !== 'stats') return;
    let packets = 0;
    let lost = 0;
    let bytes = 0;
    const other: Record<string, number> = { late: 0, restarts: 0, duplicates: 0, reordered: 0, droppedAccessUnits: 0, otherPeerPackets: 0, ssrcMismatch: 0, badPackets: 0 };
    for (const r of receivers) {
      const s = r.stats();
      packets += s.packets;
      lost += s.lost;
      bytes += s.bytes;
      for (const k of Object.keys(other)) other[k]! += (s as unknown as Record<string, number>)[k] ?? 0;
    }
    process.send!({ type: 'stats', packets, lost, frames, bytes, other } satisfies Msg);
    for (const r of receivers) r.close('bench over');
    process.disconnect();
  });
}

/** Each stream's packets, re-numbered per loop; per stream a cursor and a byte budget. */
async function senderRole(ports: number[], transport: Transport, seconds: number, kbps: number): Promise<void> {
  const source = readRfc4571(fixture('rtp', 'srsbench-h264-aac-20f.rtp4571'));
  const loopTicks = 20 * 3600;
  const streams = ports.map((port, i) => ({ port, ssrc: BASE_SSRC + i, cursor: 0, loop: 0, seq: 0, sent: 0, socket: undefined as net.Socket | undefined }));
  const udp = transport === 'udp' ? [0, 1, 2, 3].map(() => dgram.createSocket('udp4')) : [];
  if (transport === 'tcp') {
    await Promise.all(
      streams.map(
        (s) =>
          new Promise<void>((resolve, reject) => {
            const c = net.connect(s.port, '127.0.0.1', () => resolve());
            c.on('error', reject);
            c.setNoDelay(true);
            s.socket = c;
          }),
      ),
    );
  }
  const bytesPerMs = (kbps * 1000) / 8 / 1000;
  const start = performance.now();
  let packets = 0;
  let bytes = 0;
  let lagMs = 0;
  let last = start;
  let inFlight = 0;
  let sendErrors = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      lagMs = Math.max(lagMs, now - last - 5);
      last = now;
      const elapsed = now - start;
      for (const s of streams) {
        // a sender that falls behind sends at most 20 ms worth per turn: it slows down rather
        // than bursting into the receive buffers (the report shows the rate it achieved)
        s.sent = Math.max(s.sent, (elapsed - 20) * bytesPerMs);
        while (s.sent < elapsed * bytesPerMs) {
          const orig = source[s.cursor]!;
          const p = Buffer.from(orig);
          p.writeUInt16BE(s.seq++ & 0xffff, 2);
          p.writeUInt32BE((orig.readUInt32BE(4) + s.loop * loopTicks) >>> 0, 4);
          p.writeUInt32BE(s.ssrc, 8);
          if (transport === 'udp') {
            inFlight++;
            udp[s.ssrc % udp.length]!.send(p, s.port, '127.0.0.1', (err) => {
              inFlight--;
              if (err) sendErrors++;
            });
          } else {
            s.socket!.write(encodeRfc4571(p));
          }
          s.sent += p.length;
          packets++;
          bytes += p.length;
          if (++s.cursor === source.length) {
            s.cursor = 0;
            s.loop++;
          }
        }
      }
      if (elapsed >= seconds * 1000) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  // datagrams queued in libuv are not sent yet: wait for every callback before reporting
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  await Promise.all(streams.map((s) => (s.socket ? new Promise<void>((r) => s.socket!.end(() => r())) : undefined)));
  for (const u of udp) u.close();
  process.send!({ type: 'sent', packets: packets - sendErrors, bytes, lagMs, ms: performance.now() - start } satisfies Msg);
  setTimeout(() => process.exit(0), 200);
}

function next(child: ChildProcess, type: Msg['type']): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Msg): void => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before '${type}'`)));
  });
}

/** Children still running; killed if this process ends early (a crash, Ctrl-C). */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function spawnRole(args: string[], execArgv: string[] = []): ChildProcess {
  const child = fork(__filename, args, { execArgv });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function point(streams: number, transport: Transport, seconds: number, kbps: number): Promise<string> {
  const hz = clockTicksPerSecond();
  // RTP_BENCH_PROFILE_DIR=dir writes a V8 CPU profile of the receiver process there.
  const profile = process.env.RTP_BENCH_PROFILE_DIR;
  const receiver = spawnRole(['--role', 'receiver', '--streams', String(streams), '--transports', transport], profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []);
  let sender: ChildProcess | undefined;
  try {
    const ready = (await next(receiver, 'ready')) as Extract<Msg, { type: 'ready' }>;
    const rssBefore = processRssKb(receiver.pid!) ?? 0;
    sender = spawnRole(['--role', 'sender', '--ports', ready.ports.join(','), '--transports', transport, '--seconds', String(seconds), '--kbps', String(kbps)]);
    const cpu0 = processCpuSeconds(receiver.pid!, hz) ?? 0;
    const machine0 = machineBusySeconds(hz);
    const t0 = performance.now();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, processRssKb(receiver.pid!) ?? 0)), 500);
    const sent = (await next(sender, 'sent')) as Extract<Msg, { type: 'sent' }>;
    await new Promise((r) => setTimeout(r, 1500)); // let the last packets and the reorder window drain
    clearInterval(sampler);
    const wall = (performance.now() - t0) / 1000;
    const cpu = (processCpuSeconds(receiver.pid!, hz) ?? 0) - cpu0;
    const machine = machineBusySeconds(hz) - machine0;
    receiver.send('stats');
    const got = (await next(receiver, 'stats')) as Extract<Msg, { type: 'stats' }>;
    const pct = (cpu / wall) * 100;
    const missing = sent.packets - got.packets;
    // CPU per 2 Mbit/s stream, from CPU seconds per received bit (independent of the sender's pace)
    const perStream = got.bytes > 0 ? (cpu / ((got.bytes * 8) / (kbps * 1000))) * 100 : 0;
    const sendSeconds = sent.ms / 1000;
    return [
      transport.padEnd(4),
      String(streams).padStart(5),
      ((got.bytes * 8) / sendSeconds / 1e6).toFixed(0).padStart(7),
      Math.round(got.packets / sendSeconds)
        .toString()
        .padStart(9),
      pct.toFixed(1).padStart(7),
      perStream.toFixed(3).padStart(10),
      (perStream > 0 ? Math.floor(100 / perStream) : 0).toString().padStart(8),
      (Math.max(0, rssPeak - rssBefore) / streams).toFixed(0).padStart(10),
      `${missing} (${((missing / Math.max(1, sent.packets)) * 100).toFixed(2)}%)`.padStart(14),
      String(got.lost).padStart(6),
      String(got.frames).padStart(8),
      ((machine / wall) * 100 - pct).toFixed(0).padStart(7),
      sent.lagMs.toFixed(0).padStart(8),
      process.env.RTP_BENCH_VERBOSE ? JSON.stringify(got.other) : '',
    ].join(' ');
  } finally {
    sender?.kill();
    // the receiver exits by itself once its receivers are closed (so a CPU profile gets written)
    if (receiver.exitCode === null) {
      const timer = setTimeout(() => receiver.kill(), 5000);
      await new Promise((r) => receiver.once('exit', r));
      clearTimeout(timer);
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    strict: true,
    options: {
      role: { type: 'string', default: 'main' },
      streams: { type: 'string', default: '50,100,300' },
      transports: { type: 'string', default: 'udp,tcp' },
      seconds: { type: 'string', default: '10' },
      kbps: { type: 'string', default: '2000' },
      ports: { type: 'string', default: '' },
    },
  });
  const transports = values.transports.split(',') as Transport[];
  for (const t of transports) if (t !== 'udp' && t !== 'tcp') throw new Error(`unknown transport ${t}`);
  const seconds = Number(values.seconds);
  const kbps = Number(values.kbps);
  if (values.role === 'receiver') return receiverRole(Number(values.streams), transports[0]!);
  if (values.role === 'sender') return senderRole(values.ports.split(',').map(Number), transports[0]!, seconds, kbps);
  const counts = values.streams.split(',').map(Number);
  console.log(`RTP ingest: PS over RTP at ${kbps} kbit/s per stream, ${seconds} s window, loopback`);
  console.log('tran streams  Mbit/s  packets/s  CPU %  CPU%/strm  str/core  RSS KB/str   sent-not-recv   lost   frames  other%  sendlag');
  for (const t of transports) for (const n of counts) console.log(await point(n, t, seconds, kbps));
  console.log('Mbit/s, packets/s = received, over the time the sender took; CPU % = receiver utime+stime over the window, % of one core;');
  console.log('CPU%/strm = receiver CPU per received 2 Mbit/s worth of stream (% of one core); str/core = 100 / CPU%/strm;');
  console.log('sent-not-recv = packets the sender wrote that never reached a receiver (kernel drops on UDP); lost = sequence gaps the receivers counted;');
  console.log(
    "other% = the rest of the machine (sender included) in % of one core; sendlag = the sender's worst timer delay (ms): large means the sender could not keep the pace.",
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
