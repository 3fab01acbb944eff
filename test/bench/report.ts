/** Tables and the JSON summary of a fan-out run. */
import type { RoundResult } from './round';
import type { ServerKind } from './servers';
import type { Protocol } from './viewers';

const PROTOCOL_NAMES: Record<Protocol, string> = { flv: 'HTTP-FLV', ws: 'WebSocket-FLV', rtmp: 'RTMP' };

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

const COLUMNS = [
  'N',
  'server',
  'viewers',
  'Mbit/s',
  'in Mbit/s',
  'out Mbit/s',
  'CPU-s/Gbit',
  'CPU %',
  'RSS/viewer KB',
  'peak RSS MB',
  'stalled/closed/no-kf',
  '1st kf p50/p95 ms',
  'slow',
  'client %',
  'others %',
  'client lag ms',
];

function row(n: number, r: RoundResult): string[] {
  return [
    String(n),
    r.server,
    String(r.viewers),
    fixed(r.deliveredMbps, 1),
    fixed(r.serverInMbps, 2),
    fixed(r.serverOutMbps, 1),
    fixed(r.cpuPerGbit, 3),
    fixed(r.cpuPercent, 1),
    fixed(r.rssPerViewerKb, 0),
    fixed(r.rssPeakMb, 0),
    `${r.stalled}/${r.closed}/${r.noKeyframe}`,
    `${fixed(r.firstKeyframeP50Ms, 0)} / ${fixed(r.firstKeyframeP95Ms, 0)}`,
    String(r.slowViewers),
    fixed(r.clientCpuPercent, 0),
    fixed(r.othersCpuPercent, 0),
    fixed(r.clientLoopLagMaxMs, 0),
  ];
}

function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export interface PlannedRound {
  server: ServerKind;
  protocol: Protocol;
  n: number;
  /** The rest of the machine just before the point, % of one core. */
  neighboursBeforePercent?: number;
  result?: RoundResult;
  error?: string;
}

/** The ours/NMS ratio of CPU-s per Gbit for each protocol and N that has both. */
export function ratios(rounds: readonly PlannedRound[]): { protocol: Protocol; n: number; gatewayOverNms: number }[] {
  const out: { protocol: Protocol; n: number; gatewayOverNms: number }[] = [];
  for (const r of rounds) {
    if (r.server !== 'gateway' || !r.result) continue;
    const nms = rounds.find((x) => x.server === 'nms' && x.protocol === r.protocol && x.n === r.n && x.result);
    if (nms?.result) out.push({ protocol: r.protocol, n: r.n, gatewayOverNms: r.result.cpuPerGbit / nms.result.cpuPerGbit });
  }
  return out;
}

export function renderTables(rounds: readonly PlannedRound[], protocols: readonly Protocol[]): string {
  const parts: string[] = [];
  const allRatios = ratios(rounds);
  for (const protocol of protocols) {
    const mine = rounds.filter((r) => r.protocol === protocol);
    if (mine.length === 0) continue;
    parts.push(`\n### ${PROTOCOL_NAMES[protocol]} fan-out\n`);
    const rows = mine.map((r) => (r.result ? row(r.n, r.result) : [String(r.n), r.server, 'FAILED', '(see below)', ...COLUMNS.slice(4).map(() => '')]));
    parts.push(markdownTable(COLUMNS, rows));
    const mineRatios = allRatios.filter((x) => x.protocol === protocol);
    if (mineRatios.length > 0) {
      parts.push(`\nCPU-s per Gbit, gateway / nms: ${mineRatios.map((x) => `N=${x.n}: ${fixed(x.gatewayOverNms, 2)}`).join(', ')}`);
    }
    const notes = mine.flatMap((r) => notesOf(r));
    if (notes.length > 0) parts.push('', ...notes);
  }
  return parts.join('\n');
}

/** Errors, close reasons and server warnings worth a line under the table. */
function notesOf(r: PlannedRound): string[] {
  const tag = `${r.server} N=${r.n}`;
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
  if (phases.length > 0) notes.push(`- ${tag}: viewers without a keyframe by the end: ${phases.join(', ')}`);
  for (const [reason, count] of Object.entries(result.closeReasons)) notes.push(`- ${tag}: ${count} viewer(s) closed: ${reason}`);
  for (const [message, count] of Object.entries(result.serverProblems)) notes.push(`- ${tag}: server logged ${count}x ${message}`);
  return notes;
}

export const LEGEND = [
  'Mbit/s: delivered to all viewers in the window; in/out Mbit/s: what the server read (the published stream) and wrote',
  '(rchar/wchar); CPU-s/Gbit: server utime+stime over the window per delivered Gbit; CPU %: of one core; RSS/viewer:',
  '(peak - baseline) / N; stalled: open viewers with > 1 s without data after their first keyframe; closed: viewers the',
  'server closed; no-kf: open viewers that never got a keyframe; slow: viewers under 90 % of the median rate;',
  'client/others %: the load client and the rest of the machine (neighbours, steal, softirq) over the window;',
  "client lag: the load client's worst event-loop delay (near 1000 ms the stall column is not to be trusted).",
].join('\n');
