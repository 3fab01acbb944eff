/**
 * The fan-out and ingest rounds of bench:fanout (the same code: runRound, runIngestRound) with
 * cluster.workers 1 and 2 in one run, plus the CPU of every gateway process (primary and
 * workers) over each round, to see the spreading. Usage:
 *   npm run bench:cluster -- [viewers=200] [publishers=20] [seconds=15]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFlvSource } from './flv-source';
import { runIngestRound } from './ingest';
import { clockTicksPerSecond, processCpuSeconds, processTree } from './proc-stats';
import { runRound, type RoundOptions } from './round';
import { ensureSource, Resources } from './servers';

const ROOT = join(__dirname, '..', '..', '..');

function arg(name: string, fallback: number): number {
  const found = process.argv.find((a) => a.startsWith(`${name}=`));
  return found ? Number(found.slice(name.length + 1)) : fallback;
}

function isGateway(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('main.js');
  } catch {
    return false;
  }
}

/** CPU seconds of every gateway process below this one, sampled until stopped (workers come and go with rounds). */
class GatewayCpu {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly hz: number) {
    this.timer = setInterval(() => this.sample(), 1000);
  }

  sample(): void {
    for (const pid of processTree(process.pid)) {
      if (pid === process.pid || !isGateway(pid)) continue;
      const cpu = processCpuSeconds(pid, this.hz);
      if (cpu === undefined) continue;
      if (!this.first.has(pid)) this.first.set(pid, cpu);
      this.last.set(pid, cpu);
    }
  }

  /** CPU seconds per gateway process since it was first seen, biggest first. */
  stop(): number[] {
    clearInterval(this.timer);
    this.sample();
    return [...this.last].map(([pid, cpu]) => cpu - (this.first.get(pid) ?? cpu)).sort((a, b) => b - a);
  }
}

async function main(): Promise<void> {
  const viewers = arg('viewers', 200);
  const publishers = arg('publishers', 20);
  const seconds = arg('seconds', 15);
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
    seconds,
    settleSeconds: 5,
    batch: 50,
    batchIntervalMs: 100,
    gapLimitMs: 1000,
    log,
  };
  const lines: string[] = [];
  for (const workers of [1, 2]) {
    const o: RoundOptions = { ...base, gateway: { env: { GW_CLUSTER_WORKERS: String(workers) } } };
    let cpu = new GatewayCpu(base.hz);
    const fan = await runRound('gateway', 'flv', viewers, o);
    const fanCpu = cpu.stop();
    const window = fan.windowSeconds;
    lines.push(
      `fan-out workers=${workers} viewers=${viewers}: delivered ${fan.deliveredMbps.toFixed(0)} Mbit/s, ${fan.cpuPerGbit.toFixed(2)} CPU s per Gbit, ` +
        `${fan.cpuPercent.toFixed(0)} % CPU, stalled ${fan.stalled}, no keyframe ${fan.noKeyframe}, closed ${fan.closed}, load ${fan.loadAverage.toFixed(1)}; ` +
        `per process CPU s over the round (incl. start): ${fanCpu.map((c) => c.toFixed(1)).join(' / ')} (window ${window.toFixed(0)} s)${fan.error ? ` ERROR ${fan.error}` : ''}`,
    );
    cpu = new GatewayCpu(base.hz);
    const ingest = await runIngestRound('gateway', publishers, o);
    const ingestCpu = cpu.stop();
    lines.push(
      `ingest workers=${workers} publishers=${publishers}: ${ingest.cpuPercent.toFixed(0)} % CPU, ${ingest.cpuPercentPerPublisher.toFixed(2)} % per publisher ` +
        `(${(100 / ingest.cpuPercentPerPublisher).toFixed(0)} publishers per core), playable ${ingest.playable}/${publishers}, load ${ingest.loadAverage.toFixed(1)}; ` +
        `per process CPU s: ${ingestCpu.map((c) => c.toFixed(1)).join(' / ')}${ingest.error ? ` ERROR ${ingest.error}` : ''}`,
    );
    log(lines.slice(-2).join('\n'));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
