/**
 * Fan-out benchmark (issues 2 and 16): one 2 Mbit/s H.264 + AAC stream, published over RTMP by
 * a Node publisher (one message per frame; or ffmpeg), fanned out to N HTTP-FLV,
 * WebSocket-FLV or RTMP viewers on loopback by the gateway, by node-media-server 4.4.3 and by
 * the Node relay ceiling (test/bench/relay.ts: pre-built bytes written to every socket), each
 * as a fresh child process per point, over interleaved rounds (A B C, then C B A ...). Then
 * RTMP ingest: P Node publishers into the gateway and node-media-server. It prints numbers;
 * it asserts nothing.
 *
 *   npm run bench:fanout -- [--viewers 600] [--protocols flv,ws,rtmp|none] [--servers gateway,nms,relay]
 *                           [--rounds 3] [--seconds 15] [--settle 5] [--batch 100] [--batch-interval 166]
 *                           [--publisher node|ffmpeg] [--probes 10] [--ingest 50] [--ingest-servers gateway,nms]
 *                           [--quiet-below 50] [--quiet-wait 120]
 *
 * Server CPU comes from /proc (utime + stime of the server's process tree over the window),
 * memory from VmRSS. The machine is shared: before each point it waits (up to --quiet-wait s)
 * until the rest of the machine uses less than --quiet-below % of one core, and every row
 * reports that noise and the load average.
 */
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadFlvSource } from './flv-source';
import { runIngestRound } from './ingest';
import { clockTicksPerSecond, waitForQuietMachine } from './proc-stats';
import { LEGEND, ratios, renderIngest, renderTables, type PlannedIngest, type PlannedRound } from './report';
import { runRound, type PublisherKind, type RoundOptions, type RoundResult } from './round';
import { ensureSource, Resources, type ServerKind } from './servers';
import { PROTOCOLS, type Protocol } from './viewers';

const ROOT = join(__dirname, '..', '..', '..');
const SERVERS: readonly ServerKind[] = ['gateway', 'baseline', 'nms', 'relay'];
const DEFAULT_SERVERS: readonly ServerKind[] = ['gateway', 'nms', 'relay'];
const INGEST_SERVERS: readonly ServerKind[] = ['gateway', 'baseline', 'nms'];
const PUBLISHERS: readonly PublisherKind[] = ['node', 'ffmpeg'];

interface Options {
  viewers: number[];
  protocols: Protocol[];
  servers: ServerKind[];
  /** Root of another gateway build, benchmarked as the `baseline` server. */
  baseline: string | undefined;
  /** GW_* settings of the `baseline` server only (KEY=VALUE,...): the same build with other settings. */
  baselineEnv: Record<string, string>;
  /** TCP_NODELAY on the relay's HTTP-FLV/WS-FLV sockets, like the gateway's http.flvNoDelay default. */
  relayFlvNoDelay: boolean;
  rounds: number;
  publisher: PublisherKind;
  probes: number;
  ingest: number;
  ingestServers: ServerKind[];
  seconds: number;
  settle: number;
  batch: number;
  batchInterval: number;
  quietBelow: number;
  quietWait: number;
}

function listOf<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`unknown ${what} ${item} (one of ${allowed.join(', ')})`);
  if (items.length === 0) throw new Error(`--${what}s is empty`);
  return items as T[];
}

function positive(value: string, what: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${what} must be an integer 1..${max}, got ${value}`);
  return n;
}

/** `GW_A=1,GW_B=x` as an env record (settings of the baseline server). */
function envList(value: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of value.split(',').filter(Boolean)) {
    const match = /^(GW_[A-Z0-9_]+)=(.*)$/.exec(item.trim());
    if (!match) throw new Error(`--baseline-env wants GW_KEY=VALUE items, got ${item}`);
    env[match[1]!] = match[2]!;
  }
  return env;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      viewers: { type: 'string', default: '600' },
      protocols: { type: 'string', default: PROTOCOLS.join(',') },
      servers: { type: 'string', default: DEFAULT_SERVERS.join(',') },
      baseline: { type: 'string' },
      'baseline-env': { type: 'string', default: '' },
      'relay-flv-no-delay': { type: 'boolean', default: false },
      rounds: { type: 'string', default: '3' },
      publisher: { type: 'string', default: 'node' },
      probes: { type: 'string', default: '10' },
      ingest: { type: 'string', default: '50' },
      'ingest-servers': { type: 'string', default: 'gateway,nms' },
      seconds: { type: 'string', default: '15' },
      settle: { type: 'string', default: '5' },
      batch: { type: 'string', default: '100' },
      'batch-interval': { type: 'string', default: '166' },
      'quiet-below': { type: 'string', default: '50' },
      'quiet-wait': { type: 'string', default: '120' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench:fanout -- [--viewers 600] [--protocols flv,ws,rtmp|none] [--servers gateway,nms,relay]\n' +
        '                               [--rounds 3] [--seconds 15] [--settle 5] [--batch 100] [--batch-interval 166]\n' +
        '                               [--publisher node|ffmpeg] [--probes 10] [--ingest 50] [--ingest-servers gateway,nms]\n' +
        '                               [--baseline DIR (another build as the server "baseline")] [--baseline-env GW_KEY=VALUE,...] [--relay-flv-no-delay]\n' +
        '                               [--quiet-below 50] [--quiet-wait 120]\n',
    );
    process.exit(0);
  }
  return {
    viewers: values.viewers.split(',').map((v) => positive(v.trim(), 'viewers', 10_000)),
    // `--protocols none`: no fan-out points, only the ingest ones.
    protocols: values.protocols.trim() === 'none' ? [] : listOf(values.protocols, PROTOCOLS, 'protocol'),
    servers: listOf(values.servers, SERVERS, 'server'),
    baseline: values.baseline,
    baselineEnv: envList(values['baseline-env']),
    relayFlvNoDelay: values['relay-flv-no-delay'],
    rounds: positive(values.rounds, 'rounds', 20),
    publisher: listOf(values.publisher, PUBLISHERS, 'publisher')[0]!,
    probes: Number(values.probes) === 0 ? 0 : positive(values.probes, 'probes', 100),
    ingest: Number(values.ingest) === 0 ? 0 : positive(values.ingest, 'ingest', 1000),
    ingestServers: listOf(values['ingest-servers'], INGEST_SERVERS, 'ingest-server'),
    seconds: positive(values.seconds, 'seconds', 3600),
    settle: Number(values.settle) === 0 ? 0 : positive(values.settle, 'settle', 600),
    batch: positive(values.batch, 'batch', 10_000),
    batchInterval: positive(values['batch-interval'], 'batch-interval', 60_000),
    quietBelow: positive(values['quiet-below'], 'quiet-below', 1000),
    quietWait: Number(values['quiet-wait']) === 0 ? 0 : positive(values['quiet-wait'], 'quiet-wait', 3600),
  };
}

function joinStagesText(stages: RoundResult['joinStagesMs']): string {
  return Object.entries(stages)
    .map(([name, [p50, p95]]) => `${name} ${p50.toFixed(1)}/${p95.toFixed(1)}`)
    .join(', ');
}

function describeRound(p: PlannedRound): string {
  const r = p.result;
  if (!r) return `  FAILED: ${p.error}`;
  return (
    `  ${r.deliveredMbps.toFixed(1)} Mbit/s, ${r.cpuPerGbit.toFixed(3)} CPU-s/Gbit, CPU ${r.cpuPercent.toFixed(1)} %, ` +
    `RSS ${r.rssPeakMb.toFixed(0)} MB (${r.rssPerViewerKb.toFixed(0)} KB/viewer), ${r.writeCallsPerViewerSecond.toFixed(1)} write calls/viewer/s of ${(r.bytesPerWriteCall / 1024).toFixed(1)} KB, stalled/closed/no-kf ${r.stalled}/${r.closed}/${r.noKeyframe}, ` +
    `1st kf ${r.firstKeyframeP50Ms.toFixed(1)}/${r.firstKeyframeP95Ms.toFixed(1)} ms (${joinStagesText(r.joinStagesMs)}; client loop lag max ${r.clientLoopLagMaxMs.toFixed(0)} ms), latency ${r.latencyP50Ms.toFixed(1)}/${r.latencyP99Ms.toFixed(1)} ms, ` +
    `client ${r.clientCpuPercent.toFixed(0)} %, others ${r.othersCpuPercent.toFixed(0)} %, load ${r.loadAverage.toFixed(1)}` +
    (r.error ? `\n  WARNING: ${r.error}` : '')
  );
}

/** Round r runs the servers in order, round r+1 in reverse (A B C, C B A ...). */
function serversOfRound(servers: readonly ServerKind[], round: number): ServerKind[] {
  return round % 2 === 0 ? [...servers] : [...servers].reverse();
}

async function main(): Promise<void> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`fanout: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const resources = new Resources();
  process.on('exit', () => resources.killAll());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nfanout: ${signal}: stopping the servers and the publisher\n`);
      resources.killAll();
      process.exit(130);
    });
  }
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const source = await ensureSource(log);
  const roundOptions: RoundOptions = {
    root: ROOT,
    source,
    sourceTags: loadFlvSource(source),
    publisher: options.publisher,
    latencyProbes: options.probes,
    ...(options.baseline ? { baselineRoot: options.baseline } : {}),
    baselineEnv: options.baselineEnv,
    relayFlvNoDelay: options.relayFlvNoDelay,
    resources,
    hz: clockTicksPerSecond(),
    seconds: options.seconds,
    settleSeconds: options.settle,
    batch: options.batch,
    batchIntervalMs: options.batchInterval,
    gapLimitMs: 1000,
    log,
  };
  const quiet = (): Promise<number> => waitForQuietMachine(roundOptions.hz, options.quietBelow, options.quietWait * 1000);
  const rounds: PlannedRound[] = [];
  const ingests: PlannedIngest[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const n of options.viewers) {
      for (const protocol of options.protocols) {
        for (const server of serversOfRound(options.servers, round)) {
          const noise = await quiet();
          const planned: PlannedRound = { server, protocol, n, round, neighboursBeforePercent: noise };
          log(
            `[${new Date().toISOString()}] round ${round + 1}/${options.rounds} ${server} ${protocol} N=${n} (neighbours ${noise.toFixed(0)} % of a core, load ${loadavg()[0]!.toFixed(1)})`,
          );
          try {
            planned.result = await runRound(server, protocol, n, roundOptions);
          } catch (err) {
            planned.error = (err as Error).message;
          }
          log(describeRound(planned));
          rounds.push(planned);
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
    }
    if (options.ingest === 0) continue;
    for (const server of serversOfRound(options.ingestServers, round)) {
      const noise = await quiet();
      log(
        `[${new Date().toISOString()}] round ${round + 1}/${options.rounds} ingest ${server} P=${options.ingest} (neighbours ${noise.toFixed(0)} %, load ${loadavg()[0]!.toFixed(1)})`,
      );
      const planned: PlannedIngest = { server, publishers: options.ingest, round };
      try {
        planned.result = await runIngestRound(server, options.ingest, roundOptions);
        const r = planned.result;
        log(
          `  ${r.cpuPercentPerPublisher.toFixed(3)} % of a core per publisher, ${r.cpuPercent.toFixed(1)} % total, playable ${r.playable}/${r.publishers}, others ${r.othersCpuPercent.toFixed(0)} %`,
        );
      } catch (err) {
        planned.error = (err as Error).message;
        log(`  FAILED: ${planned.error}`);
      }
      ingests.push(planned);
    }
  }
  const header = `load average at the end: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(
      ' / ',
    )} (1/5/15 min); ${options.rounds} rounds, ${options.seconds} s windows, publisher ${options.publisher}${options.relayFlvNoDelay ? ', relay HTTP-FLV/WS-FLV with TCP_NODELAY' : ''}${
    Object.keys(options.baselineEnv).length
      ? `, baseline with ${Object.entries(options.baselineEnv)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`
      : ''
  }`;
  process.stdout.write(`${header}\n${renderTables(rounds, options.protocols, options.servers)}\n${renderIngest(ingests, options.ingestServers)}\n\n${LEGEND}\n`);
  const summary = { bench: 'fanout', options, source, rounds, ingests, ratios: ratios(rounds) };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`fanout: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
