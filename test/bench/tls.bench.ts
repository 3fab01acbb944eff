/**
 * What TLS costs the gateway: one 2 Mbit/s stream (the fan-out bench's source and Node
 * publisher) played by N HTTP-FLV viewers over http:// and then over https:// (the HTTPS
 * listener of the same app), on one gateway child process. Prints, per transport, the gateway's
 * CPU seconds per Gbit delivered, its CPU %, the delivered rate and the connect-to-first-byte
 * time (TCP + TLS handshake + first FLV bytes). Numbers only, no assertion.
 *
 *   npm run bench:tls -- [--viewers 100] [--seconds 10] [--settle 3] [--rounds 2]
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import { makeTestPki } from '../helpers/stunnel';
import { loadFlvSource } from './flv-source';
import { clockTicksPerSecond, processCpuSeconds } from './proc-stats';
import { median } from './report';
import { startRoundPublisher } from './round';
import { Resources, ensureSource, freePort, startGateway } from './servers';

type Transport = 'http' | 'https';

interface Options {
  viewers: number;
  seconds: number;
  settle: number;
  rounds: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { viewers: 100, seconds: 10, settle: 3, rounds: 2 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '') as keyof Options;
    const value = Number(argv[i + 1]);
    if (!(key in options) || !Number.isFinite(value) || value <= 0) throw new Error(`usage: [--viewers N] [--seconds S] [--settle S] [--rounds R] (bad ${argv[i]})`);
    options[key] = value;
  }
  return options;
}

interface Viewer {
  bytes: number;
  firstByteMs: number | undefined;
  socket: Socket;
}

function openViewer(transport: Transport, port: number, ca: string, path: string): Viewer {
  const started = performance.now();
  const socket = transport === 'https' ? tlsConnect({ host: '127.0.0.1', port, ca }) : netConnect({ host: '127.0.0.1', port });
  const viewer: Viewer = { bytes: 0, firstByteMs: undefined, socket };
  socket.once(transport === 'https' ? 'secureConnect' : 'connect', () => socket.write(`GET /${path}.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
  socket.on('data', (chunk: Buffer) => {
    viewer.firstByteMs ??= performance.now() - started;
    viewer.bytes += chunk.length;
  });
  socket.on('error', () => undefined);
  return viewer;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Point {
  transport: Transport;
  viewers: number;
  deliveredMbps: number;
  cpuPercent: number;
  cpuPerGbit: number;
  firstByteP50Ms: number;
  load: number;
}

async function measure(transport: Transport, pid: number, port: number, ca: string, o: Options, hz: number): Promise<Point> {
  const viewers: Viewer[] = [];
  for (let i = 0; i < o.viewers; i++) {
    viewers.push(openViewer(transport, port, ca, 'live/bench'));
    if (i % 50 === 49) await sleep(100);
  }
  await sleep(o.settle * 1000);
  const bytesBefore = viewers.reduce((n, v) => n + v.bytes, 0);
  const cpuBefore = processCpuSeconds(pid, hz) ?? 0;
  const t0 = performance.now();
  await sleep(o.seconds * 1000);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = (processCpuSeconds(pid, hz) ?? 0) - cpuBefore;
  const bits = (viewers.reduce((n, v) => n + v.bytes, 0) - bytesBefore) * 8;
  for (const v of viewers) v.socket.destroy();
  const firstBytes = viewers.flatMap((v) => (v.firstByteMs === undefined ? [] : [v.firstByteMs]));
  await sleep(1000);
  return {
    transport,
    viewers: firstBytes.length,
    deliveredMbps: bits / elapsed / 1e6,
    cpuPercent: (cpu / elapsed) * 100,
    cpuPerGbit: bits > 0 ? cpu / (bits / 1e9) : NaN,
    firstByteP50Ms: median(firstBytes),
    load: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const resources = new Resources();
  process.on('exit', () => resources.killAll());
  const pki = makeTestPki({ ips: ['127.0.0.1'], dns: [] });
  const source = await ensureSource(log);
  const httpsPort = await freePort();
  const env = { GW_TLS_CERT: pki.certFile, GW_TLS_KEY: pki.keyFile, GW_TLS_HTTPS_ENABLED: 'true', GW_TLS_HTTPS_PORT: String(httpsPort), GW_SIP_ENABLED: 'false' };
  const server = await startGateway(process.cwd(), resources, { env });
  const publisher = await startRoundPublisher(server, 'live/bench', { publisher: 'node', source, sourceTags: loadFlvSource(source), resources });
  await sleep(2000);
  const hz = clockTicksPerSecond();
  const pid = server.process.child.pid!;
  const cert = new X509Certificate(readFileSync(pki.certFile));
  const points: Point[] = [];
  try {
    for (let round = 0; round < o.rounds; round++) {
      for (const transport of ['http', 'https'] as const) {
        const point = await measure(transport, pid, transport === 'https' ? httpsPort : server.httpPort, pki.ca, o, hz);
        log(`round ${round + 1} ${transport}: ${JSON.stringify(point)}`);
        points.push(point);
      }
    }
  } finally {
    await publisher.stop();
    await server.stop();
    resources.removeDir(pki.dir);
  }
  process.stdout.write(`TLS cost (certificate ${cert.publicKey.asymmetricKeyType} ${cert.publicKey.asymmetricKeyDetails?.modulusLength ?? ''} bits, Node ${process.version})\n`);
  process.stdout.write('| transport | viewers | delivered Mbit/s | gateway CPU % | CPU s per Gbit | first byte p50 ms | load avg |\n| --- | --- | --- | --- | --- | --- | --- |\n');
  for (const transport of ['http', 'https'] as const) {
    const mine = points.filter((p) => p.transport === transport);
    const m = (pick: (p: Point) => number, digits = 1): string => median(mine.map(pick)).toFixed(digits);
    process.stdout.write(
      `| ${transport} | ${m((p) => p.viewers)} | ${m((p) => p.deliveredMbps)} | ${m((p) => p.cpuPercent)} | ${m((p) => p.cpuPerGbit, 2)} | ${m((p) => p.firstByteP50Ms)} | ${m((p) => p.load)} |\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
