/**
 * One point of the fan-out matrix: a fresh server process, the publisher, N viewers opened in
 * batches, a settle time, a measuring window, then everything closed.
 */
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { FlvSource } from './flv-source';
import { NodePublisher } from './node-publisher';
import { listenOverflows, machineBusySeconds, processCpuSeconds, processTreeCpuSeconds, processTreeRssKb, processIoBytes, processTree, RssSampler } from './proc-stats';
import {
  BENCH_SECRETS,
  startGateway,
  startNms,
  startPublisher,
  startRelay,
  type GatewayStartOptions,
  type ManagedChild,
  type Resources,
  type ServerHandle,
  type ServerKind,
} from './servers';
import { LatencyRecorder, openViewer, type Protocol, type Target, type Viewer, type ViewerContext } from './viewers';

export type PublisherKind = 'node' | 'ffmpeg';

export interface RoundOptions {
  root: string;
  /** The source file (ffmpeg publisher, relay) and its tags in memory (Node publisher). */
  source: string;
  sourceTags: FlvSource;
  publisher: PublisherKind;
  /** Viewers that read every video timestamp for the server-added latency (Node publisher only). */
  latencyProbes: number;
  /** How the gateway is started (worker count, profiling flags). */
  gateway?: GatewayStartOptions;
  /** The root (with dist/) of the `baseline` gateway build. */
  baselineRoot?: string;
  /** GW_* settings of the `baseline` server only. */
  baselineEnv?: Readonly<Record<string, string>>;
  /** TCP_NODELAY on the relay's HTTP-FLV/WS-FLV sockets (default: Nagle, Node's default). */
  relayFlvNoDelay?: boolean;
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
  /** The server's write system calls (`syscw`) per viewer per second, and bytes per call: how the fan-out reaches the kernel. */
  writeCallsPerViewerSecond: number;
  bytesPerWriteCall: number;
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
  /**
   * Where the time to the first keyframe goes, p50/p95 ms of each stage: connect (connect() to
   * TCP connected: the accept queue and this process's loop), answer (connected to the server's
   * answer read: request routing, admission, the track gate) and keyframe (the answer to the
   * keyframe's first bytes: the start, the GOP replay's write and this process's reads).
   */
  joinStagesMs: Record<'connect' | 'answer' | 'keyframe', [number, number]>;
  /** Server-added latency of the probes' video frames in the window (NaN: not measured). */
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencySamples: number;
  /** Probe frames whose timestamp the publisher never sent (the server rewrote it). */
  latencyUnmatched: number;
  /** 1-minute load average at the end of the window (the machine is shared). */
  loadAverage: number;
  clientCpuPercent: number;
  publisherCpuPercent: number;
  othersCpuPercent: number;
  clientLoopLagMaxMs: number;
  /** Machine-wide accept-queue overflows from the first viewer to the end of the window. */
  listenOverflows: number;
  closeReasons: Record<string, number>;
  /** CPU % of one core of each server process over the window (a cluster: primary first, then its workers). */
  perProcessCpuPercent: number[];
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
  serverWriteCalls: number;
  client: number;
  machine: number;
  bytes: number[];
  perProcess: Map<number, number>;
}

function snapshot(server: ServerHandle, publisherPid: number | undefined, viewers: readonly Viewer[], hz: number): Snapshot {
  const usage = process.cpuUsage();
  const io = processIoBytes(server.process.pid);
  return {
    at: performance.now(),
    server: processTreeCpuSeconds(server.process.pid, hz) ?? NaN,
    publisher: publisherPid === undefined ? 0 : (processCpuSeconds(publisherPid, hz) ?? NaN),
    serverRead: io?.read ?? NaN,
    serverWritten: io?.written ?? NaN,
    serverWriteCalls: io?.writeCalls ?? NaN,
    client: (usage.user + usage.system) / 1e6,
    machine: machineBusySeconds(hz),
    bytes: viewers.map((v) => v.stats.bytes),
    perProcess: new Map(processTree(server.process.pid).map((pid) => [pid, processCpuSeconds(pid, hz) ?? NaN])),
  };
}

/** p50 and p95 of `to - from` over the viewers that have both. */
function stage(viewers: readonly Viewer[], from: (s: Viewer['stats']) => number | undefined, to: (s: Viewer['stats']) => number | undefined): [number, number] {
  const spans = viewers
    .flatMap((v) => {
      const a = from(v.stats);
      const b = to(v.stats);
      return a === undefined || b === undefined ? [] : [b - a];
    })
    .sort((x, y) => x - y);
  return [percentile(spans, 50), percentile(spans, 95)];
}

function joinStages(viewers: readonly Viewer[]): RoundResult['joinStagesMs'] {
  return {
    connect: stage(
      viewers,
      (s) => s.connectAt,
      (s) => s.connectedAt,
    ),
    answer: stage(
      viewers,
      (s) => s.connectedAt,
      (s) => s.acceptedAt,
    ),
    keyframe: stage(
      viewers,
      (s) => s.acceptedAt,
      (s) => s.firstKeyAt,
    ),
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
    latency: LatencyRecorder | undefined;
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
  const latency = [...(base.latency?.samples ?? [])].sort((x, y) => x - y);
  return {
    server: base.server,
    protocol: base.protocol,
    viewers: viewers.length,
    windowSeconds: seconds,
    deliveredMbps: (delivered * 8) / 1e6 / seconds,
    serverInMbps: ((b.serverRead - a.serverRead) * 8) / 1e6 / seconds,
    serverOutMbps: ((b.serverWritten - a.serverWritten) * 8) / 1e6 / seconds,
    writeCallsPerViewerSecond: (b.serverWriteCalls - a.serverWriteCalls) / viewers.length / seconds,
    bytesPerWriteCall: (b.serverWritten - a.serverWritten) / (b.serverWriteCalls - a.serverWriteCalls),
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
    joinStagesMs: joinStages(viewers),
    latencyP50Ms: percentile(latency, 50),
    latencyP99Ms: percentile(latency, 99),
    latencySamples: latency.length,
    latencyUnmatched: base.latency?.unmatched ?? 0,
    loadAverage: loadavg()[0] ?? NaN,
    clientCpuPercent: pct(b.client - a.client),
    publisherCpuPercent: pct(b.publisher - a.publisher),
    othersCpuPercent: pct(b.machine - a.machine - cpu - (b.client - a.client) - (b.publisher - a.publisher)),
    clientLoopLagMaxMs: base.lagMaxMs,
    listenOverflows: base.listenOverflows,
    closeReasons: countBy(closedReasons),
    perProcessCpuPercent: [...b.perProcess].map(([pid, cpu]) => pct(cpu - (a.perProcess.get(pid) ?? NaN))),
  };
}

export async function startServer(kind: ServerKind, o: RoundOptions): Promise<ServerHandle> {
  if (kind === 'gateway') return startGateway(o.root, o.resources, o.gateway);
  if (kind === 'baseline') {
    if (!o.baselineRoot) throw new Error('the baseline server needs --baseline DIR');
    return startGateway(o.baselineRoot, o.resources, { ...o.gateway, env: { ...o.gateway?.env, ...o.baselineEnv }, kind: 'baseline' });
  }
  if (kind === 'nms') return startNms(o.resources);
  return startRelay(o.root, o.source, o.resources, o.relayFlvNoDelay);
}

/** The publisher of a round: none for the relay (it plays the source itself). */
export interface RoundPublisher {
  /** The ffmpeg process, whose CPU is accounted apart; the Node publisher runs in this process. */
  readonly child: ManagedChild | undefined;
  readonly sentAt: ReadonlyMap<number, number> | undefined;
  failure(): string | undefined;
  stop(): Promise<void>;
}

export async function startRoundPublisher(server: ServerHandle, path: string, o: Pick<RoundOptions, 'publisher' | 'source' | 'sourceTags' | 'resources'>): Promise<RoundPublisher> {
  const key = server.kind === 'gateway' || server.kind === 'baseline' ? `?key=${BENCH_SECRETS.publishKey}` : '';
  const url = `rtmp://127.0.0.1:${server.rtmpPort}/${path}${key}`;
  if (o.publisher === 'ffmpeg') {
    const child = startPublisher(o.source, url, o.resources);
    return { child, sentAt: undefined, failure: () => child.exitedEarly(), stop: () => child.stop(3000) };
  }
  const node = await NodePublisher.start(url, o.sourceTags);
  return { child: undefined, sentAt: node.sentAt, failure: () => (node.closed ? 'the Node publisher lost its connection' : undefined), stop: async () => node.stop() };
}

const NO_PUBLISHER: RoundPublisher = { child: undefined, sentAt: undefined, failure: () => undefined, stop: async () => undefined };

async function openViewers(protocol: Protocol, n: number, context: ViewerContext, latency: LatencyRecorder | undefined, o: RoundOptions): Promise<Viewer[]> {
  const viewers: Viewer[] = [];
  while (viewers.length < n) {
    const count = Math.min(o.batch, n - viewers.length);
    for (let i = 0; i < count; i++) {
      // The probes are spread over the join storm: every (n / probes)-th viewer.
      const probe = latency && o.latencyProbes > 0 && viewers.length % Math.max(1, Math.floor(n / o.latencyProbes)) === 0;
      viewers.push(openViewer(protocol, probe ? { ...context, latency } : context));
    }
    if (viewers.length < n) await sleep(o.batchIntervalMs);
  }
  return viewers;
}

export async function runRound(kind: ServerKind, protocol: Protocol, n: number, o: RoundOptions): Promise<RoundResult> {
  const server = await startServer(kind, o);
  const target: Target = { host: '127.0.0.1', httpPort: server.httpPort, rtmpPort: server.rtmpPort, rtspPort: server.rtspPort, app: 'live', stream: 'bench' };
  const context: ViewerContext = { target, gapLimitMs: o.gapLimitMs, readBuffer: Buffer.allocUnsafe(64 * 1024) };
  let publisher = NO_PUBLISHER;
  let viewers: Viewer[] = [];
  const lag = monitorEventLoopDelay({ resolution: 10 });
  let rss: RssSampler | undefined;
  try {
    if (kind !== 'relay') publisher = await startRoundPublisher(server, 'live/bench', o);
    const latency = publisher.sentAt && new LatencyRecorder(publisher.sentAt);
    await waitUntilLive(context, server, 60_000);
    await sleep(1000);
    const baselineKb = processTreeRssKb(server.process.pid) ?? NaN;
    rss = new RssSampler(server.process.pid, 200);
    lag.enable();
    const overflowsBefore = listenOverflows();
    viewers = await openViewers(protocol, n, context, latency, o);
    o.log(`  ${n} viewers opened; settling ${o.settleSeconds} s`);
    await sleep(o.settleSeconds * 1000);
    const a = snapshot(server, publisher.child?.pid, viewers, o.hz);
    if (latency) latency.active = true;
    await sleep(o.seconds * 1000);
    if (latency) latency.active = false;
    const b = snapshot(server, publisher.child?.pid, viewers, o.hz);
    lag.disable();
    rss.stop();
    const died = server.process.exitedEarly() ?? publisher.failure();
    const result = summarize(
      {
        server: kind,
        protocol,
        viewers,
        baselineKb,
        peakKb: rss.peakKb,
        lagMaxMs: lag.max / 1e6,
        listenOverflows: listenOverflows() - overflowsBefore,
        latency,
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
    await publisher.stop();
    await server.stop();
  }
}
