/**
 * Fan-out benchmark (issue 2): one 2 Mbit/s H.264 + AAC stream, published by ffmpeg over
 * RTMP, fanned out to N HTTP-FLV, WebSocket-FLV or RTMP viewers on loopback, by the gateway
 * and by node-media-server 4.4.3, each as a fresh child process per point. It prints numbers;
 * it asserts nothing.
 *
 *   npm run bench:fanout -- [--viewers 100,500,1000] [--protocols flv,ws,rtmp]
 *                           [--servers gateway,nms] [--seconds 15] [--settle 5]
 *                           [--batch 50] [--batch-interval 100]
 *                           [--quiet-below 50] [--quiet-wait 120]
 *
 * Goal it reports on: 1000 viewers with no stalls on one core, and less CPU per delivered Gbit
 * than node-media-server. Viewers live in this process (the load client); server CPU comes
 * from /proc/PID/stat (utime + stime over the window), memory from /proc/PID/status VmRSS.
 * The machine is shared: before each point it waits (up to --quiet-wait s) until the rest of
 * the machine uses less than --quiet-below % of one core, and every row reports that noise.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clockTicksPerSecond, waitForQuietMachine } from './proc-stats';
import { LEGEND, ratios, renderTables, type PlannedRound } from './report';
import { runRound, type RoundOptions } from './round';
import { ensureSource, Resources, type ServerKind } from './servers';
import { PROTOCOLS, type Protocol } from './viewers';

const ROOT = join(__dirname, '..', '..', '..');
const SERVERS: readonly ServerKind[] = ['gateway', 'nms'];

interface Options {
  viewers: number[];
  protocols: Protocol[];
  servers: ServerKind[];
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

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      viewers: { type: 'string', default: '100,500,1000' },
      protocols: { type: 'string', default: PROTOCOLS.join(',') },
      servers: { type: 'string', default: SERVERS.join(',') },
      seconds: { type: 'string', default: '15' },
      settle: { type: 'string', default: '5' },
      batch: { type: 'string', default: '50' },
      'batch-interval': { type: 'string', default: '100' },
      'quiet-below': { type: 'string', default: '50' },
      'quiet-wait': { type: 'string', default: '120' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench:fanout -- [--viewers 100,500,1000] [--protocols flv,ws,rtmp] [--servers gateway,nms]\n' +
        '                               [--seconds 15] [--settle 5] [--batch 50] [--batch-interval 100]\n' +
        '                               [--quiet-below 50] [--quiet-wait 120]\n',
    );
    process.exit(0);
  }
  return {
    viewers: values.viewers.split(',').map((v) => positive(v.trim(), 'viewers', 10_000)),
    protocols: listOf(values.protocols, PROTOCOLS, 'protocol'),
    servers: listOf(values.servers, SERVERS, 'server'),
    seconds: positive(values.seconds, 'seconds', 3600),
    settle: Number(values.settle) === 0 ? 0 : positive(values.settle, 'settle', 600),
    batch: positive(values.batch, 'batch', 10_000),
    batchInterval: positive(values['batch-interval'], 'batch-interval', 60_000),
    quietBelow: positive(values['quiet-below'], 'quiet-below', 1000),
    quietWait: Number(values['quiet-wait']) === 0 ? 0 : positive(values['quiet-wait'], 'quiet-wait', 3600),
  };
}

function describeRound(p: PlannedRound): string {
  const r = p.result;
  if (!r) return `  FAILED: ${p.error}`;
  return (
    `  ${r.deliveredMbps.toFixed(1)} Mbit/s, ${r.cpuPerGbit.toFixed(3)} CPU-s/Gbit, CPU ${r.cpuPercent.toFixed(1)} %, ` +
    `RSS ${r.rssPeakMb.toFixed(0)} MB, stalled/closed/no-kf ${r.stalled}/${r.closed}/${r.noKeyframe}, ` +
    `1st kf ${r.firstKeyframeP50Ms.toFixed(0)}/${r.firstKeyframeP95Ms.toFixed(0)} ms, client ${r.clientCpuPercent.toFixed(0)} %` +
    (r.error ? `\n  WARNING: ${r.error}` : '')
  );
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
    resources,
    hz: clockTicksPerSecond(),
    seconds: options.seconds,
    settleSeconds: options.settle,
    batch: options.batch,
    batchIntervalMs: options.batchInterval,
    gapLimitMs: 1000,
    log,
  };
  const rounds: PlannedRound[] = [];
  for (const n of options.viewers) {
    for (const protocol of options.protocols) {
      for (const server of options.servers) {
        const noise = await waitForQuietMachine(roundOptions.hz, options.quietBelow, options.quietWait * 1000);
        const planned: PlannedRound = { server, protocol, n, neighboursBeforePercent: noise };
        log(`[${new Date().toISOString()}] ${server} ${protocol} N=${n} (neighbours before: ${noise.toFixed(0)} % of a core)`);
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
  process.stdout.write(`${renderTables(rounds, options.protocols)}\n\n${LEGEND}\n`);
  const summary = { bench: 'fanout', options, source, rounds, ratios: ratios(rounds) };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`fanout: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
