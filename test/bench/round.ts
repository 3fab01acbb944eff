/**
 * One point of the fan-out matrix: a fresh server process, the publisher, N viewers opened in
 * batches, a settle time, a measuring window, then everything closed.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { listenOverflows, machineBusySeconds, processCpuSeconds, processRssKb, processIoBytes, RssSampler } from './proc-stats';
import { BENCH_SECRETS, startGateway, startNms, startPublisher, type Resources, type ServerHandle, type ServerKind } from './servers';
import { openViewer, type Protocol, type Target, type Viewer, type ViewerContext } from './viewers';

export interface RoundOptions {
  root: string;
  source: string;
  resources: Resources;
  hz: number;
  seconds: number;
  settleSeconds: number;
  batch: number;
  batchIntervalMs: number;
  gapLimitMs: number;
  log: (line: string) => void;
}

export interface RoundResult {
  server: ServerKind;
  protocol: Protocol;
  viewers: number;
  windowSeconds: number;
  deliveredMbps: number;
  /** What the server read (its `rchar`: the publisher's stream, requests), Mbit/s. */
  serverInMbps: number;
  /** What the server wrote (its `wchar`: to every viewer, logs), Mbit/s. */
  serverOutMbps: number;
  /** Viewers whose window rate was under 90 % of the median viewer's. */
  slowViewers: number;
  cpuSeconds: number;
  cpuPerGbit: number;
  cpuPercent: number;
  rssBaselineMb: number;
  rssPeakMb: number;
  rssPerViewerKb: number;
  stalled: number;
  closed: number;
  noKeyframe: number;
  /** How far the no-keyframe viewers got (connecting, connected, accepted, data). */
  noKeyframePhases: Record<string, number>;
  firstKeyframeP50Ms: number;
  firstKeyframeP95Ms: number;
  clientCpuPercent: number;
  publisherCpuPercent: number;
  othersCpuPercent: number;
  clientLoopLagMaxMs: number;
  /** Machine-wide accept-queue overflows from the first viewer to the end of the window. */
  listenOverflows: number;
  closeReasons: Record<string, number>;
  serverProblems: Record<string, number>;
  error?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Opens HTTP-FLV probes until one sees a keyframe: the stream is live end to end. */
async function waitUntilLive(context: ViewerContext, server: ServerHandle, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const probe = openViewer('flv', { ...context, gapLimitMs: Infinity });
    while (performance.now() < deadline && probe.stats.firstKeyAt === undefined && probe.stats.closedAt === undefined) {
      if (server.process.exitedEarly()) break;
      await sleep(50);
    }
    const live = probe.stats.firstKeyAt !== undefined;
    probe.close();
    if (live) return;
    const early = server.process.exitedEarly();
    if (early) throw new Error(early);
    await sleep(300);
  }
  throw new Error(`no keyframe from ${server.kind} within ${timeoutMs} ms of publishing`);
}

interface Snapshot {
  at: number;
  server: number;
  publisher: number;
  serverRead: number;
  serverWritten: number;
  client: number;
  machine: number;
  bytes: number[];
}

function snapshot(server: ServerHandle, publisherPid: number, viewers: readonly Viewer[], hz: number): Snapshot {
  const usage = process.cpuUsage();
  const io = processIoBytes(server.process.pid);
  return {
    at: performance.now(),
    server: processCpuSeconds(server.process.pid, hz) ?? NaN,
    publisher: processCpuSeconds(publisherPid, hz) ?? NaN,
    serverRead: io?.read ?? NaN,
    serverWritten: io?.written ?? NaN,
    client: (usage.user + usage.system) / 1e6,
    machine: machineBusySeconds(hz),
    bytes: viewers.map((v) => v.stats.bytes),
  };
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

function summarize(
  base: {
    server: ServerKind;
    protocol: Protocol;
    viewers: Viewer[];
    baselineKb: number;
    peakKb: number;
    lagMaxMs: number;
    listenOverflows: number;
  },
  a: Snapshot,
  b: Snapshot,
  gapLimitMs: number,
): Omit<RoundResult, 'serverProblems'> {
  const { viewers } = base;
  const seconds = (b.at - a.at) / 1000;
  const perViewer = viewers.map((_, i) => b.bytes[i]! - a.bytes[i]!);
  const delivered = perViewer.reduce((s, x) => s + x, 0);
  const sortedRates = [...perViewer].sort((x, y) => x - y);
  const median = percentile(sortedRates, 50);
  const cpu = b.server - a.server;
  const gbit = (delivered * 8) / 1e9;
  const open = viewers.filter((v) => v.stats.closedAt === undefined || v.stats.closedAt > b.at);
  const stalled = open.filter((v) => v.stats.firstKeyAt !== undefined && (v.stats.maxGapMs > gapLimitMs || b.at - v.stats.lastDataAt > gapLimitMs));
  const noKeyframe = open.filter((v) => v.stats.firstKeyAt === undefined);
  const ttfk = viewers.flatMap((v) => (v.stats.firstKeyAt === undefined ? [] : [v.stats.firstKeyAt - v.stats.connectAt])).sort((x, y) => x - y);
  const closedReasons = viewers.flatMap((v) => (v.stats.closedAt !== undefined && v.stats.closedAt <= b.at ? [v.stats.closeReason ?? '?'] : []));
  const pct = (s: number): number => (s / seconds) * 100;
  return {
    server: base.server,
    protocol: base.protocol,
    viewers: viewers.length,
    windowSeconds: seconds,
    deliveredMbps: (delivered * 8) / 1e6 / seconds,
    serverInMbps: ((b.serverRead - a.serverRead) * 8) / 1e6 / seconds,
    serverOutMbps: ((b.serverWritten - a.serverWritten) * 8) / 1e6 / seconds,
    slowViewers: perViewer.filter((x) => x < 0.9 * median).length,
    cpuSeconds: cpu,
    cpuPerGbit: gbit > 0 ? cpu / gbit : NaN,
    cpuPercent: pct(cpu),
    rssBaselineMb: base.baselineKb / 1024,
    rssPeakMb: base.peakKb / 1024,
    rssPerViewerKb: (base.peakKb - base.baselineKb) / viewers.length,
    stalled: stalled.length,
    closed: closedReasons.length,
    noKeyframe: noKeyframe.length,
    noKeyframePhases: countBy(noKeyframe.map((v) => v.stats.phase)),
    firstKeyframeP50Ms: percentile(ttfk, 50),
    firstKeyframeP95Ms: percentile(ttfk, 95),
    clientCpuPercent: pct(b.client - a.client),
    publisherCpuPercent: pct(b.publisher - a.publisher),
    othersCpuPercent: pct(b.machine - a.machine - cpu - (b.client - a.client) - (b.publisher - a.publisher)),
    clientLoopLagMaxMs: base.lagMaxMs,
    listenOverflows: base.listenOverflows,
    closeReasons: countBy(closedReasons),
  };
}

export async function runRound(kind: ServerKind, protocol: Protocol, n: number, o: RoundOptions): Promise<RoundResult> {
  const server = kind === 'gateway' ? await startGateway(o.root, o.resources) : await startNms(o.resources);
  const target: Target = { host: '127.0.0.1', httpPort: server.httpPort, rtmpPort: server.rtmpPort, app: 'live', stream: 'bench' };
  const context: ViewerContext = { target, gapLimitMs: o.gapLimitMs, readBuffer: Buffer.allocUnsafe(64 * 1024) };
  const key = kind === 'gateway' ? `?key=${BENCH_SECRETS.publishKey}` : '';
  const publisher = startPublisher(o.source, `rtmp://127.0.0.1:${server.rtmpPort}/live/bench${key}`, o.resources);
  const viewers: Viewer[] = [];
  const lag = monitorEventLoopDelay({ resolution: 10 });
  let rss: RssSampler | undefined;
  try {
    await waitUntilLive(context, server, 20_000);
    await sleep(1000);
    const baselineKb = processRssKb(server.process.pid) ?? NaN;
    rss = new RssSampler(server.process.pid, 200);
    lag.enable();
    const overflowsBefore = listenOverflows();
    while (viewers.length < n) {
      const count = Math.min(o.batch, n - viewers.length);
      for (let i = 0; i < count; i++) viewers.push(openViewer(protocol, context));
      if (viewers.length < n) await sleep(o.batchIntervalMs);
    }
    o.log(`  ${n} viewers opened; settling ${o.settleSeconds} s`);
    await sleep(o.settleSeconds * 1000);
    const a = snapshot(server, publisher.pid, viewers, o.hz);
    await sleep(o.seconds * 1000);
    const b = snapshot(server, publisher.pid, viewers, o.hz);
    lag.disable();
    rss.stop();
    const died = server.process.exitedEarly() ?? publisher.exitedEarly();
    const result = summarize(
      {
        server: kind,
        protocol,
        viewers,
        baselineKb,
        peakKb: rss.peakKb,
        lagMaxMs: lag.max / 1e6,
        listenOverflows: listenOverflows() - overflowsBefore,
      },
      a,
      b,
      o.gapLimitMs,
    );
    return { ...result, serverProblems: Object.fromEntries(server.problems), ...(died ? { error: died } : {}) };
  } finally {
    rss?.stop();
    lag.disable();
    for (const viewer of viewers) viewer.close();
    await publisher.stop(3000);
    await server.stop();
  }
}
