/**
 * The floods of issue 15 against a gateway process on loopback: the gateway's RSS and the
 * latency of GET /api/health before, during and after each flood. Prints numbers; asserts
 * nothing. `npm run bench:floods -- [--ulimit N]` (N: the gateway's open-file limit, through
 * `prlimit` when it is installed; default: inherited).
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ManagedChild, Resources } from './servers';
import { processRssKb } from './proc-stats';
import { TestRtmpClient } from '../protocols/rtmp/test-client';
import { LOOPBACK_LISTENERS } from '../helpers/loopback-env';

const MiB = 1024 * 1024;
const ROOT = join(__dirname, '..', '..', '..');

interface Ports {
  http: number;
  rtmp: number;
  sip: number;
}

interface Flood {
  name: string;
  /** Opens the flood; returns what closes it. */
  start(ports: Ports): Promise<() => void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function rawSocket(port: number, data: Buffer | string, sockets: Socket[]): void {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.resume();
  socket.write(data);
  sockets.push(socket);
}

function rtmpHalfMessage(): Buffer {
  const setChunk = Buffer.from([0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0x80, 0, 0]);
  const head = Buffer.alloc(12);
  head[0] = 0x04;
  head.writeUIntBE(8 * MiB - 16, 4, 3);
  head[7] = 9;
  head.writeUInt32LE(1, 8);
  return Buffer.concat([setChunk, head, Buffer.alloc(4 * MiB, 0x41)]);
}

function sipHalfBody(n: number): Buffer {
  const head = `MESSAGE sip:34020000002000000001@3402000000 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK${n}\r\nFrom: <sip:3402000000132${String(n).padStart(7, '0')}@3402000000>;tag=${n}\r\nTo: <sip:34020000002000000001@3402000000>\r\nCall-ID: bench-${n}\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length: 1048576\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), Buffer.alloc(1_000_000, 0x20)]);
}

const FLOODS: Flood[] = [
  {
    name: '100 RTMP peers half-sending 8 MiB',
    async start(ports) {
      const clients = await Promise.all(Array.from({ length: 100 }, () => TestRtmpClient.open(ports.rtmp).catch(() => undefined)));
      const payload = rtmpHalfMessage();
      for (const c of clients) c?.raw(payload);
      return () => clients.forEach((c) => void c?.close());
    },
  },
  {
    name: '300 SIP/TCP peers holding 1 MiB bodies',
    async start(ports) {
      const sockets: Socket[] = [];
      for (let n = 0; n < 300; n++) rawSocket(ports.sip, sipHalfBody(n), sockets);
      return () => sockets.forEach((s) => s.destroy());
    },
  },
  {
    name: '1,100 slow HTTP clients',
    async start(ports) {
      const sockets: Socket[] = [];
      for (let n = 0; n < 1100; n++) {
        rawSocket(ports.http, 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n', sockets);
        if (n % 100 === 99) await sleep(20);
      }
      return () => sockets.forEach((s) => s.destroy());
    },
  },
];

async function startGatewayProcess(resources: Resources, ulimit: number | undefined): Promise<{ proc: ManagedChild; ports: Ports }> {
  const storage = resources.tempDir('gw-floods-');
  const env = {
    ...process.env,
    ...LOOPBACK_LISTENERS,
    GW_STORAGE_DIR: storage,
    GW_LOG_PRETTY: 'no',
    GW_LOG_LEVEL: 'info',
    GW_SIP_PASSWORD: 'bench-pass',
  };
  const main = join(ROOT, 'dist', 'src', 'app', 'main.js');
  const [command, args] = ulimit ? ['prlimit', [`--nofile=${ulimit}`, process.execPath, main]] : [process.execPath, [main]];
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  const proc = new ManagedChild('gateway', child, resources);
  const ports = await new Promise<Ports>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not listen: ${proc.stderrTail()}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.includes('gateway listening')) return;
      const entry = JSON.parse(line) as { ports: Ports };
      clearTimeout(timer);
      resolve(entry.ports);
    });
  });
  return { proc, ports };
}

/** Health latency samples (ms) and statuses over `ms`. */
async function sampleHealth(port: number, ms: number): Promise<{ latencies: number[]; statuses: Map<string, number> }> {
  const latencies: number[] = [];
  const statuses = new Map<string, number>();
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const started = performance.now();
    let status: string;
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/health`, { signal: AbortSignal.timeout(3000) });
      const body = (await response.json()) as { status?: string };
      status = `${response.status} ${body.status ?? ''}`.trim();
    } catch (err) {
      status = (err as Error).name === 'TimeoutError' ? 'timeout' : 'refused';
    }
    latencies.push(performance.now() - started);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    await sleep(200);
  }
  return { latencies, statuses };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

async function main(): Promise<void> {
  const ulimitArg = process.argv.indexOf('--ulimit');
  const ulimit = ulimitArg > 0 ? Number(process.argv[ulimitArg + 1]) : undefined;
  const resources = new Resources();
  process.on('SIGINT', () => {
    resources.killAll();
    process.exit(130);
  });
  console.log(row(['flood', 'RSS before MB', 'RSS during (max) MB', 'RSS 5 s after MB', 'health p50 ms', 'health p99 ms', 'health answers']));
  console.log(row(['---', '---', '---', '---', '---', '---', '---']));
  for (const flood of FLOODS) {
    const { proc, ports } = await startGatewayProcess(resources, ulimit);
    try {
      await sleep(1000);
      const before = (processRssKb(proc.pid) ?? 0) / 1024;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, (processRssKb(proc.pid) ?? 0) / 1024)), 100);
      const stop = await flood.start(ports);
      const health = await sampleHealth(ports.http, 5000);
      stop();
      clearInterval(sampler);
      await sleep(5000);
      const after = (processRssKb(proc.pid) ?? 0) / 1024;
      const answers = [...health.statuses].map(([s, n]) => `${s}: ${n}`).join(', ');
      console.log(
        row([flood.name, before.toFixed(0), peak.toFixed(0), after.toFixed(0), percentile(health.latencies, 50).toFixed(1), percentile(health.latencies, 99).toFixed(1), answers]),
      );
    } finally {
      await proc.stop(10_000);
    }
  }
  resources.killAll();
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
