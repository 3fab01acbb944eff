/**
 * RTSP proxy benchmark (issue 6): N always-on RTSP pull proxies over TCP interleaved, all
 * pulling one 720p25 H.264 1.9 Mbit/s + AAC stream from a real RTSP server on loopback, into a
 * gateway process of their own. Prints the gateway's CPU and memory per proxy; asserts nothing.
 *
 *   node dist/test/bench/rtsp-proxy.bench.js [--proxies 10,50] [--seconds 10] [--settle 5]
 *
 * Per N: a fresh node-rtsp-rtmp-server (npm, in a child process, test/helpers/rtsp-server.ts),
 * ffmpeg publishing the cached source of the fan-out bench into it with `-c copy` over TCP, and
 * a fresh gateway (`node dist/src/app/main.js`) whose config declares the N proxies
 * (`GW_PROXIES`, onDemand false, transport tcp). Once every proxy plays, it settles, then the
 * window is measured from /proc: gateway utime + stime and VmRSS; RSS per proxy is measured
 * against a gateway with no proxy started the same way.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { BENCH_SECRETS, Resources, ensureSource, startGateway, type ServerHandle } from './servers';
import { clockTicksPerSecond, machineBusySeconds, processCpuSeconds, processRssKb } from './proc-stats';
import { startRtspServer } from '../helpers/rtsp-server';
import { ffmpegPath, startTool } from '../helpers/media-tools';
import type { ProxyDto } from '../../src/api/proxies';

const ROOT = join(__dirname, '..', '..', '..');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Row {
  proxies: number;
  playing: number;
  inMbps: number;
  cpuPercent: number;
  cpuPerProxy: number;
  rssMb: number;
  rssPerProxyKb: number;
  serverCpuPercent: number;
  othersPercent: number;
  reconnects: number;
}

async function proxiesOf(gw: ServerHandle): Promise<ProxyDto[]> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/api/proxies`, { headers: { authorization: `Bearer ${BENCH_SECRETS.secret}` } });
  return ((await res.json()) as { proxies: ProxyDto[] }).proxies;
}

async function startGatewayWith(env: Record<string, string>, resources: Resources): Promise<ServerHandle> {
  const saved = { ...process.env };
  Object.assign(process.env, { GW_SIP_ENABLED: 'false', GW_LOG_LEVEL: 'warn', ...env });
  try {
    return await startGateway(ROOT, resources);
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

async function baselineRssKb(resources: Resources, settleMs: number): Promise<number> {
  const gw = await startGatewayWith({}, resources);
  await sleep(settleMs);
  const rss = processRssKb(gw.process.pid) ?? 0;
  await gw.stop();
  return rss;
}

async function round(n: number, source: string, o: { seconds: number; settle: number; baseline: number }, resources: Resources): Promise<Row> {
  const hz = clockTicksPerSecond();
  const server = await startRtspServer('node-rtsp-rtmp-server');
  const publisher = startTool(ffmpegPath, [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'info',
    '-re',
    '-stream_loop',
    '-1',
    '-i',
    source,
    '-c',
    'copy',
    '-f',
    'rtsp',
    '-rtsp_transport',
    'tcp',
    server.publishUrl('live/bench'),
  ]);
  let gw: ServerHandle | undefined;
  try {
    const deadline = Date.now() + 15_000;
    while (!/Output #0, rtsp/.test(publisher.stderr())) {
      if (Date.now() > deadline || publisher.child.exitCode !== null) throw new Error(`publisher did not start: ${publisher.stderr().slice(-500)}`);
      await sleep(100);
    }
    const proxies = Array.from({ length: n }, (_, i) => ({ path: `bench/p${i}`, url: server.playUrl('live/bench'), transport: 'tcp', onDemand: false }));
    gw = await startGatewayWith({ GW_PROXIES: JSON.stringify(proxies) }, resources);
    const playDeadline = Date.now() + 30_000 + n * 200;
    let list = await proxiesOf(gw);
    while (list.filter((p) => p.status.state === 'playing').length < n && Date.now() < playDeadline) {
      await sleep(500);
      list = await proxiesOf(gw);
    }
    await sleep(o.settle * 1000);
    const pid = gw.process.pid;
    const cpu0 = processCpuSeconds(pid, hz) ?? 0;
    const server0 = processCpuSeconds(server.pid, hz) ?? 0;
    const machine0 = machineBusySeconds(hz);
    const own0 = process.cpuUsage();
    const bytes0 = (await proxiesOf(gw)).reduce((sum, p) => sum + p.status.bytesIn, 0);
    const started = performance.now();
    await sleep(o.seconds * 1000);
    const elapsed = (performance.now() - started) / 1000;
    list = await proxiesOf(gw);
    const bytes1 = list.reduce((sum, p) => sum + p.status.bytesIn, 0);
    const cpu = (processCpuSeconds(pid, hz) ?? 0) - cpu0;
    const serverCpu = (processCpuSeconds(server.pid, hz) ?? 0) - server0;
    const own = process.cpuUsage(own0);
    const others = machineBusySeconds(hz) - machine0 - cpu - serverCpu - (own.user + own.system) / 1e6;
    const rss = processRssKb(pid) ?? 0;
    return {
      proxies: n,
      playing: list.filter((p) => p.status.state === 'playing').length,
      inMbps: ((bytes1 - bytes0) * 8) / elapsed / 1e6,
      cpuPercent: (cpu / elapsed) * 100,
      cpuPerProxy: (cpu / elapsed / Math.max(1, n)) * 100,
      rssMb: rss / 1024,
      rssPerProxyKb: (rss - o.baseline) / Math.max(1, n),
      serverCpuPercent: (serverCpu / elapsed) * 100,
      othersPercent: (others / elapsed) * 100,
      reconnects: list.reduce((sum, p) => sum + p.status.reconnects, 0),
    };
  } finally {
    await gw?.stop();
    await publisher.stop();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { proxies: { type: 'string', default: '10,50' }, seconds: { type: 'string', default: '10' }, settle: { type: 'string', default: '5' } },
  });
  const counts = values.proxies
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  const resources = new Resources();
  const stopAll = (): void => {
    resources.killAll();
    process.exit(130);
  };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  try {
    const source = await ensureSource((line) => console.log(line));
    const baseline = await baselineRssKb(resources, Number(values.settle) * 1000);
    console.log(
      `gateway RSS with no proxy: ${(baseline / 1024).toFixed(1)} MB; source: ${source} (720p25, H.264 1.9 Mbit/s + AAC 128 kbit/s), pulled over RTSP/TCP from node-rtsp-rtmp-server on loopback`,
    );
    console.log('| proxies | playing | in Mbit/s | gateway CPU % | CPU % per proxy | gateway RSS MB | RSS per proxy KB | RTSP server CPU % | others % | reconnects |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const rows: Row[] = [];
    for (const n of counts) {
      const row = await round(n, source, { seconds: Number(values.seconds), settle: Number(values.settle), baseline }, resources);
      rows.push(row);
      console.log(
        `| ${row.proxies} | ${row.playing} | ${row.inMbps.toFixed(1)} | ${row.cpuPercent.toFixed(1)} | ${row.cpuPerProxy.toFixed(2)} | ${row.rssMb.toFixed(1)} | ${row.rssPerProxyKb.toFixed(0)} | ${row.serverCpuPercent.toFixed(1)} | ${row.othersPercent.toFixed(1)} | ${row.reconnects} |`,
      );
    }
    console.log(JSON.stringify({ bench: 'rtsp-proxy', rows }));
  } finally {
    resources.killAll();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
