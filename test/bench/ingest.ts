/**
 * RTMP ingest, one point: a fresh server, P Node publishers (one stream each, one message per
 * frame), no viewers in the window; the server's CPU per publisher; then every stream is
 * checked to be playable (one HTTP-FLV viewer per stream must get a keyframe).
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { machineBusySeconds, processTreeCpuSeconds, processTreeRssKb } from './proc-stats';
import { startRoundPublisher, startServer, type RoundOptions, type RoundPublisher } from './round';
import type { ServerHandle, ServerKind } from './servers';
import { openViewer, type ViewerContext } from './viewers';

export interface IngestResult {
  server: ServerKind;
  publishers: number;
  windowSeconds: number;
  cpuPercent: number;
  cpuPercentPerPublisher: number;
  rssPerPublisherKb: number;
  playable: number;
  othersCpuPercent: number;
  loadAverage: number;
  error?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How many of the streams give a viewer a keyframe within `timeoutMs`. */
async function countPlayable(server: ServerHandle, streams: number, timeoutMs: number): Promise<number> {
  const context = (stream: string): ViewerContext => ({
    target: { host: '127.0.0.1', httpPort: server.httpPort, rtmpPort: server.rtmpPort, app: 'live', stream },
    gapLimitMs: Infinity,
    readBuffer: Buffer.allocUnsafe(64 * 1024),
  });
  const viewers = Array.from({ length: streams }, (_, i) => openViewer('flv', context(`ingest${i}`)));
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && viewers.some((v) => v.stats.firstKeyAt === undefined && v.stats.closedAt === undefined)) await sleep(100);
  const playable = viewers.filter((v) => v.stats.firstKeyAt !== undefined).length;
  for (const viewer of viewers) viewer.close();
  return playable;
}

export async function runIngestRound(kind: ServerKind, publishers: number, o: RoundOptions): Promise<IngestResult> {
  const server = await startServer(kind, o);
  const running: RoundPublisher[] = [];
  try {
    const baselineKb = processTreeRssKb(server.process.pid) ?? NaN;
    for (let i = 0; i < publishers; i++) {
      running.push(await startRoundPublisher(server, `live/ingest${i}`, { ...o, publisher: 'node' }));
      await sleep(20);
    }
    o.log(`  ${publishers} publishers started; settling ${o.settleSeconds} s`);
    await sleep(o.settleSeconds * 1000);
    const t0 = performance.now();
    const cpu0 = processTreeCpuSeconds(server.process.pid, o.hz) ?? NaN;
    const machine0 = machineBusySeconds(o.hz);
    const own0 = process.cpuUsage();
    await sleep(o.seconds * 1000);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = (processTreeCpuSeconds(server.process.pid, o.hz) ?? NaN) - cpu0;
    const own = process.cpuUsage(own0);
    const others = machineBusySeconds(o.hz) - machine0 - cpu - (own.user + own.system) / 1e6;
    const rssKb = processTreeRssKb(server.process.pid) ?? NaN;
    const playable = await countPlayable(server, publishers, 10_000);
    const failed = running.map((p) => p.failure()).find((f) => f !== undefined);
    const died = server.process.exitedEarly() ?? failed;
    return {
      server: kind,
      publishers,
      windowSeconds: seconds,
      cpuPercent: (cpu / seconds) * 100,
      cpuPercentPerPublisher: ((cpu / seconds) * 100) / publishers,
      rssPerPublisherKb: (rssKb - baselineKb) / publishers,
      playable,
      othersCpuPercent: (others / seconds) * 100,
      loadAverage: loadavg()[0] ?? NaN,
      ...(died ? { error: died } : {}),
    };
  } finally {
    for (const publisher of running) await publisher.stop();
    await server.stop();
  }
}
