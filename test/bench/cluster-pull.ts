/**
 * The internal pull alone (bench:cluster): N streams published on a two-worker gateway, each with
 * one HTTP-FLV viewer on its owner worker, then the same with each viewer on the other worker (so
 * every stream crosses between the workers once). The CPU difference per stream is what the
 * internal pull costs: the owner's extra viewer (the pull) plus the other worker's HTTP-FLV
 * read, demux and hub publish. Viewers are placed by reconnecting until /api/sessions shows
 * them on the wanted worker (the primary hands connections out round-robin).
 */
import { connect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ClusterDto } from '../../src/api/cluster';
import { processCpuSeconds, processTree } from './proc-stats';
import { startRoundPublisher, startServer, type RoundOptions, type RoundPublisher } from './round';
import { BENCH_SECRETS, type ServerHandle } from './servers';

export interface PullResult {
  streams: number;
  windowSeconds: number;
  /** Mbit/s one viewer received (the stream's rate). */
  streamMbps: number;
  sameCpuPercent: number;
  crossCpuPercent: number;
  /** (cross - same) / streams, in % of one core. */
  perStreamPercent: number;
  /** perStreamPercent scaled to a 2 Mbit/s stream. */
  perTwoMbitPercent: number;
  samePerProcess: number[];
  crossPerProcess: number[];
  stalled: number;
  loadAverage: number;
  error?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw HTTP-FLV reader that knows its local port (to find its session) and its longest gap. */
class CountingReader {
  readonly socket: Socket;
  bytes = 0;
  maxGapMs = 0;
  private lastAt = 0;

  constructor(
    port: number,
    readonly path: string,
  ) {
    this.socket = connect({ host: '127.0.0.1', port }, () => this.socket.write(`GET /${path}.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
    this.socket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      if (this.bytes > 0) this.maxGapMs = Math.max(this.maxGapMs, now - this.lastAt);
      this.lastAt = now;
      this.bytes += chunk.length;
    });
    this.socket.on('error', () => undefined);
  }

  resetGap(): void {
    this.maxGapMs = 0;
  }

  close(): void {
    this.socket.destroy();
  }
}

async function api<T>(server: ServerHandle, path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}${path}`, { headers: { authorization: `Bearer ${BENCH_SECRETS.secret}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return (await res.json()) as T;
}

/** One reader per path, each on the worker `want(path)` names; reconnects the misplaced ones. */
async function placeReaders(server: ServerHandle, paths: string[], want: (path: string) => number): Promise<CountingReader[]> {
  const placed = new Map<string, CountingReader>();
  for (let pass = 0; pass < 8 && placed.size < paths.length; pass++) {
    // Two readers per path, opened back to back: the primary's round-robin gives them different
    // workers (one reader per pass could stay in step with the API call and always miss).
    const trying = paths.filter((p) => !placed.has(p)).flatMap((p) => [new CountingReader(server.httpPort, p), new CountingReader(server.httpPort, p)]);
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline && trying.some((r) => r.bytes === 0)) await sleep(100);
    const { sessions } = await api<{ sessions: { id: string; remote: string; path: string }[] }>(server, '/api/sessions');
    for (const reader of trying) {
      const session = sessions.find((s) => s.path === reader.path && s.remote.endsWith(`:${reader.socket.localPort}`));
      const slot = session ? Number(/^w(\d+)\./.exec(session.id)?.[1]) : NaN;
      if (reader.bytes > 0 && slot === want(reader.path) && !placed.has(reader.path)) placed.set(reader.path, reader);
      else reader.close();
    }
  }
  if (placed.size < paths.length) {
    for (const reader of placed.values()) reader.close();
    throw new Error(`placed ${placed.size} of ${paths.length} viewers on the wanted workers`);
  }
  return [...placed.values()];
}

function cpuByProcess(server: ServerHandle, hz: number): Map<number, number> {
  return new Map(processTree(server.process.pid).map((pid) => [pid, processCpuSeconds(pid, hz) ?? NaN]));
}

/** Readers placed, a settle, then the window: CPU % of the whole tree and of each process. */
async function measure(server: ServerHandle, readers: CountingReader[], o: RoundOptions) {
  await sleep(o.settleSeconds * 1000);
  for (const r of readers) r.resetGap();
  const a = cpuByProcess(server, o.hz);
  const bytes0 = readers.map((r) => r.bytes);
  const t0 = performance.now();
  await sleep(o.seconds * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const b = cpuByProcess(server, o.hz);
  const perProcess = [...b].map(([pid, cpu]) => ((cpu - (a.get(pid) ?? NaN)) / seconds) * 100);
  const received = readers.reduce((sum, r, i) => sum + r.bytes - bytes0[i]!, 0);
  return {
    seconds,
    perProcess,
    cpuPercent: perProcess.reduce((x, y) => x + y, 0),
    streamMbps: (received * 8) / 1e6 / seconds / readers.length,
    stalled: readers.filter((r) => r.maxGapMs > o.gapLimitMs).length,
  };
}

export async function runPullRound(streams: number, o: RoundOptions): Promise<PullResult> {
  const server = await startServer('gateway', { ...o, gateway: { env: { ...o.gateway?.env, GW_CLUSTER_WORKERS: '2', GW_HUB_CLOSE_AFTER: '1' } } });
  const publishers: RoundPublisher[] = [];
  let readers: CountingReader[] = [];
  try {
    const paths = Array.from({ length: streams }, (_, i) => `live/pull${i}`);
    for (const path of paths) publishers.push(await startRoundPublisher(server, path, { ...o, publisher: 'node' }));
    const owners = new Map<string, number>();
    const deadline = performance.now() + 20_000;
    while (owners.size < streams && performance.now() < deadline) {
      await sleep(300);
      for (const e of (await api<ClusterDto>(server, '/api/cluster')).directory) if (e.state === 'live') owners.set(e.path, e.owner);
    }
    if (owners.size < streams) throw new Error(`${owners.size} of ${streams} streams in the directory`);
    readers = await placeReaders(server, paths, (p) => owners.get(p)!);
    const same = await measure(server, readers, o);
    for (const r of readers) r.close();
    // The pulls of misplaced tries are closed after hub.closeAfter (1 s); the cross phase makes its own.
    await sleep(2000);
    readers = await placeReaders(server, paths, (p) => 3 - owners.get(p)!);
    const cross = await measure(server, readers, o);
    const perStream = (cross.cpuPercent - same.cpuPercent) / streams;
    const died = server.process.exitedEarly() ?? publishers.map((p) => p.failure()).find((f) => f !== undefined);
    return {
      streams,
      windowSeconds: cross.seconds,
      streamMbps: cross.streamMbps,
      sameCpuPercent: same.cpuPercent,
      crossCpuPercent: cross.cpuPercent,
      perStreamPercent: perStream,
      perTwoMbitPercent: (perStream * 2) / cross.streamMbps,
      samePerProcess: same.perProcess,
      crossPerProcess: cross.perProcess,
      stalled: same.stalled + cross.stalled,
      loadAverage: loadavg()[0] ?? NaN,
      ...(died ? { error: died } : {}),
    };
  } finally {
    for (const r of readers) r.close();
    for (const p of publishers) await p.stop();
    await server.stop();
  }
}
