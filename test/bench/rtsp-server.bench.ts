/**
 * RTSP server benchmark (issue 18): one 2 Mbit/s H.264 + AAC stream published over RTMP into
 * the gateway and played by N RTSP viewers over TCP interleaved, next to N HTTP-FLV viewers of
 * the same stream in the same run (a fresh gateway per point, the order alternating per round).
 * It reuses the fan-out bench's publisher, viewers and /proc measurement (test/bench/round.ts)
 * and prints CPU seconds per delivered Gbit and RSS per viewer. It asserts nothing.
 *
 *   npm run bench:rtsp-server -- [--viewers 300] [--rounds 2] [--seconds 15] [--settle 5]
 *                                [--quiet-below 50] [--quiet-wait 60]
 */
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadFlvSource } from './flv-source';
import { clockTicksPerSecond, waitForQuietMachine } from './proc-stats';
import { runRound, type RoundOptions, type RoundResult } from './round';
import { ensureSource, Resources } from './servers';
import type { Protocol } from './viewers';

const ROOT = join(__dirname, '..', '..', '..');

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      viewers: { type: 'string', default: '300' },
      rounds: { type: 'string', default: '2' },
      seconds: { type: 'string', default: '15' },
      settle: { type: 'string', default: '5' },
      'quiet-below': { type: 'string', default: '50' },
      'quiet-wait': { type: 'string', default: '60' },
    },
  });
  const num = (name: keyof typeof values): number => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0`);
    return n;
  };
  return { viewers: num('viewers'), rounds: num('rounds'), seconds: num('seconds'), settle: num('settle'), quietBelow: num('quiet-below'), quietWait: num('quiet-wait') };
}

function line(protocol: Protocol, r: RoundResult): string {
  return (
    `${protocol.padEnd(5)} N=${r.viewers}: ${r.deliveredMbps.toFixed(1)} Mbit/s delivered, ${r.cpuPerGbit.toFixed(3)} CPU-s/Gbit, CPU ${r.cpuPercent.toFixed(1)} %, ` +
    `RSS ${r.rssPeakMb.toFixed(0)} MB (${r.rssPerViewerKb.toFixed(0)} KB/viewer), stalled/closed/no-kf ${r.stalled}/${r.closed}/${r.noKeyframe}, ` +
    `1st kf p50 ${r.firstKeyframeP50Ms.toFixed(0)} ms, client ${r.clientCpuPercent.toFixed(0)} %, others ${r.othersCpuPercent.toFixed(0)} %, load ${r.loadAverage.toFixed(1)}` +
    (r.noKeyframe ? ` no-kf phases ${JSON.stringify(r.noKeyframePhases)}` : '') +
    (r.error ? ` WARNING: ${r.error}` : '')
  );
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const resources = new Resources();
  process.on('exit', () => resources.killAll());
  process.once('SIGINT', () => {
    resources.killAll();
    process.exit(130);
  });
  const log = (text: string): void => void process.stderr.write(`${text}\n`);
  const source = await ensureSource(log);
  const round: RoundOptions = {
    root: ROOT,
    source,
    sourceTags: loadFlvSource(source),
    publisher: 'node',
    latencyProbes: 0,
    // The bench viewer sends no keepalive: a session timeout beyond the run.
    gateway: { env: { GW_RTSP_SESSION_TIMEOUT: '600' } },
    resources,
    hz: clockTicksPerSecond(),
    seconds: o.seconds,
    settleSeconds: o.settle,
    batch: 100,
    batchIntervalMs: 166,
    gapLimitMs: 1000,
    log,
  };
  const results: Record<Protocol, RoundResult[]> = { rtsp: [], flv: [], ws: [], rtmp: [] };
  for (let r = 0; r < o.rounds; r++) {
    for (const protocol of (r % 2 === 0 ? ['rtsp', 'flv'] : ['flv', 'rtsp']) as Protocol[]) {
      const noise = await waitForQuietMachine(round.hz, o.quietBelow, o.quietWait * 1000);
      log(`[${new Date().toISOString()}] round ${r + 1}/${o.rounds} ${protocol} N=${o.viewers} (neighbours ${noise.toFixed(0)} % of a core, load ${loadavg()[0]!.toFixed(1)})`);
      try {
        const result = await runRound('gateway', protocol, o.viewers, round);
        results[protocol].push(result);
        log(`  ${line(protocol, result)}`);
      } catch (err) {
        log(`  FAILED: ${(err as Error).message}`);
      }
    }
  }
  process.stdout.write(`\nRTSP server vs HTTP-FLV, ${o.viewers} viewers of one 2 Mbit/s stream, medians of ${o.rounds} rounds (machine shared: see load/others)\n`);
  for (const protocol of ['rtsp', 'flv'] as Protocol[]) {
    const rs = results[protocol];
    if (rs.length === 0) continue;
    process.stdout.write(
      `${protocol === 'rtsp' ? 'RTSP/TCP' : 'HTTP-FLV'}: ${median(rs.map((x) => x.cpuPerGbit)).toFixed(3)} CPU-s/Gbit, ${median(rs.map((x) => x.rssPerViewerKb)).toFixed(0)} KB RSS/viewer, ` +
        `${median(rs.map((x) => x.deliveredMbps)).toFixed(0)} Mbit/s delivered, stalled ${median(rs.map((x) => x.stalled))}, no-keyframe ${median(rs.map((x) => x.noKeyframe))}\n`,
    );
  }
}

void main();
