/**
 * Every core (docs/architecture.md): the fan-out and ingest rounds of bench:fanout (the same
 * code: runRound, runIngestRound) with cluster.workers 1 and 2 interleaved in one run, plus the
 * internal pull alone (cluster-pull.ts). CPU is the whole process tree (primary + workers) over
 * each window, and each process's share. Usage:
 *   npm run bench:cluster -- [viewers=200] [saturate=800] [publishers=20] [pulls=10] [seconds=10] [rounds=1] [parts=fan,sat,ingest,pull]
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { loadFlvSource } from './flv-source';
import { runIngestRound, type IngestResult } from './ingest';
import { clockTicksPerSecond } from './proc-stats';
import { runRound, type RoundOptions, type RoundResult } from './round';
import { runPullRound, type PullResult } from './cluster-pull';
import { ensureSource, Resources } from './servers';

const ROOT = join(__dirname, '..', '..', '..');

function arg(name: string, fallback: number): number {
  const found = process.argv.find((a) => a.startsWith(`${name}=`));
  return found ? Number(found.slice(name.length + 1)) : fallback;
}

const pcts = (values: readonly number[]): string => values.map((v) => v.toFixed(0)).join(' / ');
const mean = (values: readonly number[]): number => values.reduce((x, y) => x + y, 0) / values.length;

function fanLine(label: string, workers: number, r: RoundResult): string {
  return (
    `${label} workers=${workers} viewers=${r.viewers}: ${r.deliveredMbps.toFixed(0)} Mbit/s, ${r.cpuPerGbit.toFixed(2)} CPU s/Gbit, ${r.cpuPercent.toFixed(0)} % CPU ` +
    `(per process ${pcts(r.perProcessCpuPercent)} %), stalled ${r.stalled}, no keyframe ${r.noKeyframe}${r.noKeyframe ? ` ${JSON.stringify(r.noKeyframePhases)}` : ''}, listen overflows ${r.listenOverflows}, closed ${r.closed}, client ${r.clientCpuPercent.toFixed(0)} %, ` +
    `others ${r.othersCpuPercent.toFixed(0)} %, load ${r.loadAverage.toFixed(1)}${r.error ? ` ERROR ${r.error}` : ''}`
  );
}

function ingestLine(workers: number, r: IngestResult): string {
  return (
    `ingest workers=${workers} publishers=${r.publishers}: ${r.cpuPercent.toFixed(0)} % CPU, ${r.cpuPercentPerPublisher.toFixed(2)} % per publisher ` +
    `(${(100 / r.cpuPercentPerPublisher).toFixed(0)} per core), playable ${r.playable}/${r.publishers}, load ${r.loadAverage.toFixed(1)}${r.error ? ` ERROR ${r.error}` : ''}`
  );
}

function pullLine(r: PullResult): string {
  return (
    `internal pull, ${r.streams} streams of ${r.streamMbps.toFixed(2)} Mbit/s, one viewer each: on the owner ${r.sameCpuPercent.toFixed(1)} % CPU (${pcts(r.samePerProcess)}), ` +
    `on the other worker ${r.crossCpuPercent.toFixed(1)} % (${pcts(r.crossPerProcess)}): ${r.perStreamPercent.toFixed(2)} % of a core per crossing stream, ` +
    `${r.perTwoMbitPercent.toFixed(2)} % per 2 Mbit/s; stalled ${r.stalled}, load ${r.loadAverage.toFixed(1)}${r.error ? ` ERROR ${r.error}` : ''}`
  );
}

interface PerWorkers {
  fan: RoundResult[];
  sat: RoundResult[];
  ingest: IngestResult[];
}

function table(by: Map<number, PerWorkers>, pulls: PullResult[]): string {
  const row = (name: string, f: (p: PerWorkers) => string): string => `| ${name} | ${[1, 2].map((w) => f(by.get(w)!)).join(' | ')} |`;
  const m = (xs: number[], digits: number): string => mean(xs).toFixed(digits);
  return [
    '| mean of the rounds | 1 worker | 2 workers |',
    '|---|---|---|',
    row('fan-out: CPU s per Gbit', (p) =>
      m(
        p.fan.map((r) => r.cpuPerGbit),
        2,
      ),
    ),
    row('fan-out: delivered Mbit/s', (p) =>
      m(
        p.fan.map((r) => r.deliveredMbps),
        0,
      ),
    ),
    row('fan-out: stalled viewers', (p) => p.fan.map((r) => r.stalled).join(', ')),
    row('near saturation: CPU s per Gbit', (p) =>
      m(
        p.sat.map((r) => r.cpuPerGbit),
        2,
      ),
    ),
    row('near saturation: delivered Mbit/s', (p) =>
      m(
        p.sat.map((r) => r.deliveredMbps),
        0,
      ),
    ),
    row('near saturation: stalled / no keyframe', (p) => p.sat.map((r) => `${r.stalled}/${r.noKeyframe}`).join(', ')),
    row('near saturation: CPU % per process', (p) => p.sat.map((r) => pcts(r.perProcessCpuPercent)).join('; ')),
    row('publishers per core', (p) =>
      m(
        p.ingest.map((r) => 100 / r.cpuPercentPerPublisher),
        0,
      ),
    ),
    `| internal pull, % of a core per 2 Mbit/s stream | - | ${m(
      pulls.map((r) => r.perTwoMbitPercent),
      2,
    )} |`,
  ].join('\n');
}

async function main(): Promise<void> {
  const viewers = arg('viewers', 200);
  const saturate = arg('saturate', 800);
  const publishers = arg('publishers', 20);
  const pullStreams = arg('pulls', 10);
  const rounds = arg('rounds', 1);
  const resources = new Resources();
  process.once('exit', () => resources.killAll());
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const source = await ensureSource(log);
  const base: RoundOptions = {
    root: ROOT,
    source,
    sourceTags: loadFlvSource(source),
    publisher: 'node',
    latencyProbes: 0,
    resources,
    hz: clockTicksPerSecond(),
    seconds: arg('seconds', 10),
    settleSeconds: 4,
    batch: 50,
    batchIntervalMs: 100,
    gapLimitMs: 1000,
    log,
  };
  const lines: string[] = [
    `start: load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  ];
  const out = (line: string): void => {
    lines.push(line);
    log(line);
  };
  const by = new Map<number, PerWorkers>([1, 2].map((w) => [w, { fan: [], sat: [], ingest: [] }]));
  const pulls: PullResult[] = [];
  const parts = (process.argv.find((a) => a.startsWith('parts='))?.slice(6) ?? 'fan,sat,ingest,pull').split(',');
  for (let round = 1; round <= rounds; round++) {
    out(`round ${round}`);
    for (const workers of parts.some((p) => p !== 'pull') ? [1, 2] : []) {
      const o: RoundOptions = { ...base, gateway: { env: { GW_CLUSTER_WORKERS: String(workers) } } };
      const p = by.get(workers)!;
      if (parts.includes('fan')) p.fan.push(await runRound('gateway', 'flv', viewers, o));
      if (parts.includes('fan')) out(fanLine('fan-out', workers, p.fan.at(-1)!));
      if (parts.includes('sat')) p.sat.push(await runRound('gateway', 'flv', saturate, o));
      if (parts.includes('sat')) out(fanLine('near saturation', workers, p.sat.at(-1)!));
      if (parts.includes('ingest')) p.ingest.push(await runIngestRound('gateway', publishers, o));
      if (parts.includes('ingest')) out(ingestLine(workers, p.ingest.at(-1)!));
    }
    if (parts.includes('pull')) pulls.push(await runPullRound(pullStreams, base));
    if (parts.includes('pull')) out(pullLine(pulls.at(-1)!));
  }
  out(
    `end: load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  process.stdout.write(`${lines.join('\n')}\n\n${table(by, pulls)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
