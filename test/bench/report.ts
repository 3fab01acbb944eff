/** Tables and the JSON summary of a fan-out run: medians over rounds, with their range. */
import type { IngestResult } from './ingest';
import type { RoundResult } from './round';
import type { ServerKind } from './servers';
import type { Protocol } from './viewers';

const PROTOCOL_NAMES: Record<Protocol, string> = { flv: 'HTTP-FLV', ws: 'WebSocket-FLV', rtmp: 'RTMP', rtsp: 'RTSP (TCP)' };

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** "median (min-max)" of the rounds. */
function spread(values: readonly number[], digits: number): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2) return fixed(median(finite), digits);
  return `${fixed(median(finite), digits)} (${fixed(Math.min(...finite), digits)}-${fixed(Math.max(...finite), digits)})`;
}

function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (c ?? '').padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export interface PlannedRound {
  server: ServerKind;
  protocol: Protocol;
  n: number;
  /** 0-based round of the run. */
  round: number;
  /** The rest of the machine just before the point, % of one core. */
  neighboursBeforePercent?: number;
  result?: RoundResult;
  error?: string;
}

const COLUMNS = [
  'N',
  'server',
  'rounds',
  'Mbit/s',
  'CPU-s/Gbit median (range)',
  'CPU %',
  'RSS/viewer KB',
  '1st kf p50/p95 ms',
  'latency p50/p99 ms',
  'stalled/closed/no-kf',
  'slow',
  'client %',
  'others %',
  'load avg',
];

function row(n: number, server: ServerKind, results: readonly RoundResult[], planned: number): string[] {
  const m = (pick: (r: RoundResult) => number): number => median(results.map(pick));
  const sum = (pick: (r: RoundResult) => number): number => results.reduce((s, r) => s + pick(r), 0);
  return [
    String(n),
    server,
    `${results.length}/${planned}`,
    fixed(
      m((r) => r.deliveredMbps),
      1,
    ),
    spread(
      results.map((r) => r.cpuPerGbit),
      3,
    ),
    fixed(
      m((r) => r.cpuPercent),
      1,
    ),
    fixed(
      m((r) => r.rssPerViewerKb),
      0,
    ),
    `${fixed(
      m((r) => r.firstKeyframeP50Ms),
      1,
    )} / ${fixed(
      m((r) => r.firstKeyframeP95Ms),
      1,
    )}`,
    `${fixed(
      m((r) => r.latencyP50Ms),
      1,
    )} / ${fixed(
      m((r) => r.latencyP99Ms),
      1,
    )}`,
    `${sum((r) => r.stalled)}/${sum((r) => r.closed)}/${sum((r) => r.noKeyframe)}`,
    String(sum((r) => r.slowViewers)),
    fixed(
      m((r) => r.clientCpuPercent),
      0,
    ),
    fixed(
      m((r) => r.othersCpuPercent),
      0,
    ),
    fixed(
      m((r) => r.loadAverage),
      1,
    ),
  ];
}

export interface Ratio {
  protocol: Protocol;
  n: number;
  /** Of the medians of CPU-s per Gbit. */
  gatewayOverRelay: number;
  gatewayOverNms: number;
  /** NaN unless a baseline build ran. */
  gatewayOverBaseline: number;
  baselineOverRelay: number;
}

function resultsOf(rounds: readonly PlannedRound[], server: ServerKind, protocol: Protocol, n: number): RoundResult[] {
  return rounds.filter((r) => r.server === server && r.protocol === protocol && r.n === n && r.result).map((r) => r.result!);
}

/** The gateway / relay and gateway / nms ratios of the median CPU-s per Gbit, per protocol and N. */
export function ratios(rounds: readonly PlannedRound[]): Ratio[] {
  const out: Ratio[] = [];
  const keys = new Set(rounds.map((r) => `${r.protocol} ${r.n}`));
  for (const key of keys) {
    const [protocol, n] = [key.split(' ')[0] as Protocol, Number(key.split(' ')[1])];
    const cpu = (server: ServerKind): number => median(resultsOf(rounds, server, protocol, n).map((r) => r.cpuPerGbit));
    const gateway = cpu('gateway');
    if (!Number.isFinite(gateway)) continue;
    out.push({
      protocol,
      n,
      gatewayOverRelay: gateway / cpu('relay'),
      gatewayOverNms: gateway / cpu('nms'),
      gatewayOverBaseline: gateway / cpu('baseline'),
      baselineOverRelay: cpu('baseline') / cpu('relay'),
    });
  }
  return out;
}

/** (max - min) / median of a server's CPU-s per Gbit over the rounds: how steady it is. */
function spreadPercent(results: readonly RoundResult[]): number {
  const values = results.map((r) => r.cpuPerGbit).filter(Number.isFinite);
  return values.length < 2 ? NaN : ((Math.max(...values) - Math.min(...values)) / median(values)) * 100;
}

export function renderTables(rounds: readonly PlannedRound[], protocols: readonly Protocol[], servers: readonly ServerKind[]): string {
  const parts: string[] = [];
  const allRatios = ratios(rounds);
  for (const protocol of protocols) {
    const mine = rounds.filter((r) => r.protocol === protocol);
    if (mine.length === 0) continue;
    parts.push(`\n### ${PROTOCOL_NAMES[protocol]} fan-out (medians over rounds)\n`);
    const rows: string[][] = [];
    for (const n of [...new Set(mine.map((r) => r.n))]) {
      for (const server of servers) {
        const planned = mine.filter((r) => r.n === n && r.server === server).length;
        if (planned > 0) rows.push(row(n, server, resultsOf(rounds, server, protocol, n), planned));
      }
    }
    parts.push(markdownTable(COLUMNS, rows));
    for (const x of allRatios.filter((r) => r.protocol === protocol)) {
      const steady = servers.map((s) => `${s} ${fixed(spreadPercent(resultsOf(rounds, s, protocol, x.n)), 0)} %`).join(', ');
      parts.push(
        `\nN=${x.n}: CPU-s per Gbit, gateway / relay ceiling ${fixed(x.gatewayOverRelay, 2)}, gateway / nms ${fixed(x.gatewayOverNms, 2)}${Number.isFinite(x.gatewayOverBaseline) ? `, gateway / baseline ${fixed(x.gatewayOverBaseline, 2)}, baseline / relay ${fixed(x.baselineOverRelay, 2)}` : ''}; spread of the rounds (max-min)/median: ${steady}`,
      );
    }
    const notes = mine.flatMap((r) => notesOf(r));
    if (notes.length > 0) parts.push('', ...notes);
  }
  return parts.join('\n');
}

/** Errors, close reasons and server warnings worth a line under the table. */
function notesOf(r: PlannedRound): string[] {
  const tag = `${r.server} N=${r.n} round ${r.round + 1}`;
  const notes: string[] = [];
  const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();
  if (r.error) notes.push(`- ${tag}: round failed: ${oneLine(r.error)}`);
  const result = r.result;
  if (!result) return notes;
  if (result.error) notes.push(`- ${tag}: ${oneLine(result.error)}`);
  const phases = Object.entries(result.noKeyframePhases).map(([phase, count]) => `${count} ${phase}`);
  if (result.listenOverflows > 0) {
    notes.push(`- ${tag}: ${result.listenOverflows} accept-queue overflows (TcpExt ListenOverflows) while the viewers connected`);
  }
  if (result.latencyUnmatched > 0) notes.push(`- ${tag}: ${result.latencyUnmatched} probe frames with a timestamp the publisher never sent`);
  if (phases.length > 0) notes.push(`- ${tag}: viewers without a keyframe by the end: ${phases.join(', ')}`);
  for (const [reason, count] of Object.entries(result.closeReasons)) notes.push(`- ${tag}: ${count} viewer(s) closed: ${reason}`);
  for (const [message, count] of Object.entries(result.serverProblems)) notes.push(`- ${tag}: server logged ${count}x ${message}`);
  return notes;
}

export interface PlannedIngest {
  server: ServerKind;
  publishers: number;
  round: number;
  result?: IngestResult;
  error?: string;
}

export function renderIngest(rounds: readonly PlannedIngest[], servers: readonly ServerKind[]): string {
  if (rounds.length === 0) return '';
  const header = ['publishers', 'server', 'rounds', 'CPU % of a core per publisher, median (range)', 'CPU % total', 'RSS/publisher KB', 'playable', 'others %', 'load avg'];
  const rows: string[][] = [];
  const perPublisher: Partial<Record<ServerKind, number>> = {};
  for (const server of servers) {
    const mine = rounds.filter((r) => r.server === server);
    if (mine.length === 0) continue;
    const results = mine.flatMap((r) => (r.result ? [r.result] : []));
    const m = (pick: (r: IngestResult) => number): number => median(results.map(pick));
    perPublisher[server] = m((r) => r.cpuPercentPerPublisher);
    rows.push([
      String(mine[0]!.publishers),
      server,
      `${results.length}/${mine.length}`,
      spread(
        results.map((r) => r.cpuPercentPerPublisher),
        3,
      ),
      fixed(
        m((r) => r.cpuPercent),
        1,
      ),
      fixed(
        m((r) => r.rssPerPublisherKb),
        0,
      ),
      results.map((r) => `${r.playable}/${r.publishers}`).join(' '),
      fixed(
        m((r) => r.othersCpuPercent),
        0,
      ),
      fixed(
        m((r) => r.loadAverage),
        1,
      ),
    ]);
  }
  const notes = rounds.flatMap((r) => {
    const tag = `${r.server} round ${r.round + 1}`;
    if (r.error) return [`- ${tag}: round failed: ${r.error.replace(/\s+/g, ' ')}`];
    return r.result?.error ? [`- ${tag}: ${r.result.error.replace(/\s+/g, ' ')}`] : [];
  });
  const ratio = (perPublisher.gateway ?? NaN) / (perPublisher.nms ?? NaN);
  const baseline =
    perPublisher.baseline === undefined
      ? ''
      : `, baseline / nms ${fixed(perPublisher.baseline / (perPublisher.nms ?? NaN), 2)}, gateway / baseline ${fixed((perPublisher.gateway ?? NaN) / perPublisher.baseline, 2)}`;
  return [
    '\n### RTMP ingest: Node publishers, one message per frame, no viewers (medians over rounds)\n',
    markdownTable(header, rows),
    `\nCPU per publisher, gateway / nms: ${fixed(ratio, 2)}${baseline}`,
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
}

export const LEGEND = [
  'Mbit/s: delivered to all viewers in the window; CPU-s/Gbit: server utime+stime (its process tree) over the window per',
  'delivered Gbit, median of the rounds with their range; CPU %: of one core; RSS/viewer: (peak - baseline) / N;',
  '1st kf: from connect to the first video keyframe; latency: server-added, probe viewers (every N/probes-th viewer) from',
  "the Node publisher writing a video frame to the probe reading it, in this process (so the load client's own loop delay",
  'is in it; n/a for the relay, which has no publisher); stalled: open viewers with > 1 s without data after their first',
  'keyframe; closed: viewers the server closed; no-kf: open viewers that never got a keyframe (sums over the rounds);',
  'slow: viewers under 90 % of the median rate; client/others %: the load client (and the Node publisher) and the rest of',
  'the machine (neighbours) over the window; load avg: 1-minute load average at the end of the window (8 engineers share',
  'the 2 cores: compare the ratios of one run, not absolute numbers across runs).',
].join('\n');
