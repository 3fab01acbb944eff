import { Counter, Gauge, Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';
import type { Registry, ViewerSessionEnd } from '../../hub/registry';
import type { StreamSnapshot } from '../../hub/stream';
import type { HookOutcome } from '../hooks/client';
import { INTERNAL_PULL_KIND } from '../../core/source';

/** What the metrics read at scrape time from components that may be absent. */
export interface MetricSources {
  readonly registry: Registry;
  /** GB28181 devices online now (undefined without SIP). */
  readonly devicesOnline?: () => number;
  /** SIP requests by kind and result since start. */
  readonly sip?: () => readonly { kind: string; result: string; count: number }[];
  /** Live RTP receivers: their owner (api, gb28181) and counters. */
  readonly rtpReceivers?: () => readonly RtpReceiverNumbers[];
  /** The state of every recorder (waiting, recording). */
  readonly recorderStates?: () => readonly string[];
  /** The state of every push (waiting, connecting, pushing, retrying, stopped). */
  readonly pushStates?: () => readonly string[];
  /** Named limits' refusals since start (limit name -> count). */
  readonly limits?: () => Readonly<Record<string, number>>;
}

export interface RtpReceiverNumbers {
  readonly owner: string;
  readonly path: string;
  readonly packets: number;
  readonly lost: number;
  readonly reordered: number;
}

export interface MetricsOptions {
  /** Add per-stream series (a `path` label per live stream): off by default for low cardinality. */
  readonly perStream: boolean;
}

type Labels = Record<string, string>;

/**
 * The gateway's Prometheus registry (`GET /metrics`). Totals survive the streams and sessions
 * they came from: a session's bytes move from the live sum to a kept total when it ends, so the
 * counters only grow.
 */
export class GatewayMetrics {
  readonly prom = new PromRegistry();
  private readonly closedBytesOut = new Map<string, number>();
  private readonly closedBytesIn = new Map<string, number>();
  private readonly publisherKinds = new Map<string, string>();
  private closedDrops = 0;
  private readonly hookCalls: Counter<'hook' | 'result'>;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly sources: MetricSources,
    private readonly options: MetricsOptions,
  ) {
    collectDefaultMetrics({ register: this.prom, prefix: 'gateway_' });
    this.hookCalls = new Counter({
      name: 'gateway_hook_calls_total',
      help: 'Webhook calls by hook and result (ok, timeout, error, retried, dropped)',
      labelNames: ['hook', 'result'],
      registers: [this.prom],
    });
    const events = sources.registry.events;
    this.unsubscribe.push(
      events.on('publish', (path, source) => this.publisherKinds.set(path, source.kind)),
      events.on('viewerEnd', (session) => this.viewerEnded(session)),
      events.on('streamClosed', (snapshot) => this.streamClosed(snapshot)),
    );
    this.streamMetrics();
    this.mediaCounters();
    this.gbMetrics();
  }

  /** The HookClient's result callback. */
  readonly hookCalled = (hook: string, outcome: HookOutcome): void => {
    this.hookCalls.inc({ hook, result: outcome });
  };

  text(): Promise<string> {
    return this.prom.metrics();
  }

  /** The series as JSON, for the cluster's merge over every worker (cluster/aggregate.ts). */
  json(): ReturnType<PromRegistry['getMetricsAsJSON']> {
    return this.prom.getMetricsAsJSON();
  }

  get contentType(): string {
    return this.prom.contentType;
  }

  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.prom.clear();
  }

  private viewerEnded(session: ViewerSessionEnd): void {
    this.closedBytesOut.set(session.protocol, (this.closedBytesOut.get(session.protocol) ?? 0) + session.bytesOut);
  }

  private streamClosed(snapshot: StreamSnapshot): void {
    const kind = this.publisherKinds.get(snapshot.path) ?? 'unknown';
    this.publisherKinds.delete(snapshot.path);
    this.closedBytesIn.set(kind, (this.closedBytesIn.get(kind) ?? 0) + snapshot.bytesIn);
    this.closedDrops += snapshot.framesDropped;
  }

  private streamMetrics(): void {
    const registry = this.sources.registry;
    const perStream = this.options.perStream;
    // A stream another worker owns (an internal pull here) and that worker's reader of it are counted once, by the owner.
    gauge(this.prom, 'gateway_streams', 'Live streams', [], (set) => set({}, registry.list().filter((s) => s.publisher?.kind !== INTERNAL_PULL_KIND).length));
    gauge(this.prom, 'gateway_readers', 'Readers (viewers, recorders, pushes) by protocol', ['protocol'], (set) => {
      const counts = new Map<string, number>();
      for (const s of registry.list())
        for (const [protocol, n] of Object.entries(s.readers.byProtocol)) if (protocol !== INTERNAL_PULL_KIND) counts.set(protocol, (counts.get(protocol) ?? 0) + n);
      for (const [protocol, n] of counts) set({ protocol }, n);
    });
    gauge(this.prom, 'gateway_gop_cache_bytes', 'Bytes held by the GOP caches of all streams', [], (set) =>
      set(
        {},
        sum(registry.list(), (s) => s.gopCache.bytes),
      ),
    );
    if (perStream) {
      gauge(this.prom, 'gateway_stream_readers', 'Readers per stream', ['path'], (set) => registry.list().forEach((s) => set({ path: s.path }, s.readers.total)));
      gauge(this.prom, 'gateway_stream_bitrate_in_kbps', 'Incoming bitrate per stream', ['path'], (set) => registry.list().forEach((s) => set({ path: s.path }, s.bitrateInKbps)));
    }
  }

  private mediaCounters(): void {
    const registry = this.sources.registry;
    counter(this.prom, 'gateway_bytes_out_total', 'Bytes sent to readers by protocol', ['protocol'], (set) => {
      const totals = new Map(this.closedBytesOut);
      for (const s of registry.list()) for (const v of s.subscribers) totals.set(v.protocol, (totals.get(v.protocol) ?? 0) + v.bytesOut);
      for (const [protocol, n] of totals) set({ protocol }, n);
    });
    counter(this.prom, 'gateway_bytes_in_total', 'Bytes received from sources by source kind (rtmp, rtsp, gb28181, rtp ...)', ['protocol'], (set) => {
      const totals = new Map(this.closedBytesIn);
      for (const s of registry.list()) {
        const kind = this.publisherKinds.get(s.path) ?? s.publisher?.kind ?? 'unknown';
        totals.set(kind, (totals.get(kind) ?? 0) + s.bytesIn);
      }
      for (const [protocol, n] of totals) set({ protocol }, n);
    });
    counter(this.prom, 'gateway_frames_dropped_total', 'Frames dropped for lagging viewers', [], (set) => set({}, this.closedDrops + sum(registry.list(), (s) => s.framesDropped)));
    byState(this.prom, 'gateway_pushes', 'Pushes to CDNs by state', () => this.sources.pushStates?.() ?? []);
    byState(this.prom, 'gateway_recorders', 'Recorders by state', () => this.sources.recorderStates?.() ?? []);
    counter(this.prom, 'gateway_limit_refusals_total', 'Connections, messages or requests refused by a named limit', ['limit'], (set) => {
      for (const [limit, n] of Object.entries(this.sources.limits?.() ?? {})) set({ limit }, n);
    });
  }

  private gbMetrics(): void {
    const { devicesOnline, sip, rtpReceivers } = this.sources;
    if (devicesOnline) gauge(this.prom, 'gateway_devices_online', 'GB28181 devices online', [], (set) => set({}, devicesOnline()));
    if (sip)
      counter(this.prom, 'gateway_sip_requests_total', 'SIP requests answered (register, keepalive, message ...) and INVITEs sent, by result', ['kind', 'result'], (set) =>
        sip().forEach((c) => set({ kind: c.kind, result: c.result }, c.count)),
      );
    if (!rtpReceivers) return;
    const labels = this.options.perStream ? ['owner', 'path'] : ['owner'];
    const rtp = (name: string, help: string, pick: (r: RtpReceiverNumbers) => number): void =>
      gauge(this.prom, name, help, labels, (set) => {
        const totals = new Map<string, { labels: Labels; value: number }>();
        for (const r of rtpReceivers()) {
          const l: Labels = this.options.perStream ? { owner: r.owner, path: r.path } : { owner: r.owner };
          const key = JSON.stringify(l);
          const entry = totals.get(key) ?? { labels: l, value: 0 };
          entry.value += pick(r);
          totals.set(key, entry);
        }
        for (const { labels: l, value } of totals.values()) set(l, value);
      });
    gauge(this.prom, 'gateway_rtp_receivers', 'Open RTP receivers by owner', ['owner'], (set) => {
      const counts = new Map<string, number>();
      for (const r of rtpReceivers()) counts.set(r.owner, (counts.get(r.owner) ?? 0) + 1);
      for (const [owner, n] of counts) set({ owner }, n);
    });
    rtp('gateway_rtp_packets', 'RTP packets received by the open receivers', (r) => r.packets);
    rtp('gateway_rtp_lost', 'RTP packets lost (sequence gaps) at the open receivers', (r) => r.lost);
    rtp('gateway_rtp_reordered', 'RTP packets that arrived out of order at the open receivers', (r) => r.reordered);
  }
}

type Setter = (labels: Labels, value: number) => void;

/** A gauge counting items by their `state` label. */
function byState(prom: PromRegistry, name: string, help: string, states: () => readonly string[]): void {
  gauge(prom, name, help, ['state'], (set) => {
    const counts = new Map<string, number>();
    for (const state of states()) counts.set(state, (counts.get(state) ?? 0) + 1);
    for (const [state, n] of counts) set({ state }, n);
  });
}

/** A gauge whose values are read at scrape time. */
function gauge(prom: PromRegistry, name: string, help: string, labelNames: string[], read: (set: Setter) => void): void {
  new Gauge({ name, help, labelNames, registers: [prom], collect: scraped((metric, labels, value) => metric.set(labels, value), read) });
}

/** A counter whose (monotonic) totals are computed at scrape time. */
function counter(prom: PromRegistry, name: string, help: string, labelNames: string[], read: (set: Setter) => void): void {
  new Counter({ name, help, labelNames, registers: [prom], collect: scraped((metric, labels, value) => value > 0 && metric.inc(labels, value), read) });
}

/** The collect callback of both: clear the last scrape's series, then store this one's. */
function scraped<M extends { reset(): void }>(store: (metric: M, labels: Labels, value: number) => void, read: (set: Setter) => void): (this: M) => void {
  return function collect(this: M) {
    this.reset();
    read((labels, value) => store(this, labels, value));
  };
}

function sum<T>(items: readonly T[], pick: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += pick(item);
  return total;
}
