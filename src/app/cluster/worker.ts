/**
 * A worker's side of the cluster (docs/architecture.md "Every core"): its seams in the gateway
 * (where jobs run, the API's view over every worker, the reload broadcast), the on-demand router
 * (internal pulls from the owner), directory registration of local publishers, and the answers
 * it gives the primary.
 */
import type { FastifyInstance } from 'fastify';
import type pino from 'pino';
import { GatewayError, errorMessage } from '../../core/errors';
import type { OnDemandFactory, OnDemandSource } from '../../hub/demand';
import type { Registry } from '../../hub/registry';
import type { StreamsView } from '../../api/streams';
import type { ActiveRecordingDto, RecordingsService } from '../../api/recordings';
import { clusterApi, type ClusterDto } from '../../api/cluster';
import type { Gateway } from '../build';
import { ownersOf, type DirectoryEntry, type StreamDirectory } from './directory';
import { slotOf, type ClusterEnv } from './env';
import { InternalPull, listenPrivate, type PrivateServer } from './internal-pull';
import { IpcPeer, type IpcChannel } from './ipc';
import { CLUSTER_PROTOCOL, mergeReceivers, mergeSessions, mergeStreams, parsePrefixedId, type WorkerPart } from './merge';
import type { RtpApiDeps, RtpServerInfo } from '../../api/rtp';
import { RemoteDirectory } from './remote-directory';
import { forwardGbApi, forwardRecordApi } from './forward';
import { GbMediaPlacement, SIP_SLOT, gbMediaOf } from './gb-media';
import { clusterStreamStatus } from './status';
import type { StreamStatusSources } from '../stream-status';
import type { StreamStatusDto } from '../../api/events';
import { aggregateMetrics, answerJobStatus, type MetricJson } from './aggregate';
import { ClusterJobs } from './jobs';

/** What build.ts asks of the cluster (all optional there: a single process has none). */
export interface ClusterSeams {
  readonly slot: number;
  /** A path's always-on proxy or keepSource push, run on the worker the directory holds it on (jobs.ts). */
  runJob(path: string, start: () => () => void): () => void;
  /** This process runs a path's record plans: the owner of its stream (none: `slotOf(path)`). */
  runsHere(path: string): boolean;
  /** Paths with a publisher on any worker (record plan patterns). */
  livePaths(): string[];
  /** Recovery of segments a crashed run left open happens in one process, once. */
  readonly recovers: boolean;
  streamsView(local: Registry): StreamsView;
  /** /api/rtp over every worker: receivers listed from all, a close goes to the worker holding it. */
  rtpView(local: RtpApiDeps['rtp']): RtpApiDeps['rtp'];
  installHttp(http: FastifyInstance, hasGb28181: boolean): Promise<void>;
  recordingsView(local: RecordingsService): RecordingsService;
  /** /metrics over every worker (cluster/aggregate.ts). */
  metricsText(): Promise<string>;
  /** Streams over every worker, each once (health, keepalive). */
  totals(): Promise<{ streams: number; readers: number; rss: number; heapUsed: number }>;
  workersUp(): Promise<{ ready: number; configured: number }>;
  /** GET /api/streams/:path/status over every worker (cluster/status.ts). */
  statusView(local: StreamStatusSources): (path: string) => Promise<StreamStatusDto>;
}

export type LocalOp = 'streams' | 'sessions' | 'kick' | 'closeSession' | 'recorders' | 'stats' | 'metrics' | 'proxies' | 'pushes' | 'rtp' | 'closeRtp';

/** API areas whose changes every other worker re-reads from SQLite. */
const RELOAD_TOPICS: readonly [prefix: string, topic: string][] = [
  ['/api/proxies', 'proxies'],
  ['/api/pushes', 'pushes'],
  ['/api/record/plans', 'plans'],
];

const RECOVERY_ATTEMPTS = 30;
const RECOVERY_RETRY_MS = 1000;
/** Longer than a live recorder takes to close a segment (flush, close, row update). */
const CLOSE_SETTLE_MS = 3000;
/** Jobs wait this long at most for every worker to be up before they are placed on those that are. */
const JOBS_WAIT_MS = 15_000;

export class ClusterWorker implements ClusterSeams {
  readonly slot: number;
  readonly directory: StreamDirectory;
  private readonly peer: IpcPeer;
  private entries: DirectoryEntry[] = [];
  private owners: ReadonlyMap<string, number> = new Map();
  private readonly jobs: ClusterJobs;
  private addresses = new Map<number, string>();
  /** Private addresses of workers that died (a restarted worker listens on a new port). */
  private readonly deadAddresses = new Set<string>();
  private readonly registered = new Set<string>();
  private privateServer: PrivateServer | undefined;
  private gateway: Gateway | undefined;
  private gbMedia: GbMediaPlacement | undefined;
  private rtp: RtpApiDeps['rtp'] | undefined;

  constructor(
    private readonly env: ClusterEnv,
    private readonly log: pino.Logger,
    /** SIP is enabled in the config (it then runs in slot 1). */
    private readonly gbElsewhere: boolean,
    channel: IpcChannel = process as unknown as IpcChannel,
  ) {
    this.slot = env.slot;
    this.peer = new IpcPeer(channel);
    this.directory = new RemoteDirectory(this.peer);
    this.jobs = new ClusterJobs({ directory: this.directory, slot: this.slot, workers: env.workers, waitMs: JOBS_WAIT_MS, log: log.child({ component: 'cluster-jobs' }) });
  }

  get recovers(): boolean {
    return this.env.first;
  }

  runJob(path: string, start: () => () => void): () => void {
    return this.jobs.run(path, start);
  }

  runsHere(path: string): boolean {
    return (this.owners.get(path) ?? slotOf(path, this.env.workers)) === this.slot;
  }

  livePaths(): string[] {
    return this.entries.filter((e) => e.state === 'live').map((e) => e.path);
  }

  streamsView(local: Registry): StreamsView {
    const list = async () => mergeStreams(await this.gather('streams'));
    return {
      list,
      get: async (path) => (await list()).find((s) => s.path === path),
      kick: async (path) => (await this.gather<boolean>('kick', path)).some((part) => part.items[0] === true),
      sessions: async () => mergeSessions(await this.gather('sessions')),
      closeSession: async (id) => {
        const target = parsePrefixedId(id);
        if (!target) return local.closeSession(id);
        return (await this.peer.request<boolean[]>('one', { slot: target.slot, op: 'closeSession', arg: target.id }))[0] === true;
      },
    };
  }

  rtpView(local: RtpApiDeps['rtp']): RtpApiDeps['rtp'] {
    this.rtp = local;
    const list = async () => mergeReceivers(await this.gather<RtpServerInfo>('rtp'));
    return {
      // Opened on the worker that took the request (its port); one receiver per path over all workers.
      open: async (request) => {
        const there = (await list()).find((r) => r.path === request.path);
        if (there) throw new GatewayError('STREAM_BUSY', `an RTP receiver is already open for ${request.path} (worker ${there.worker})`);
        return local.open(request);
      },
      list,
      close: async (path) => {
        const there = (await list()).find((r) => r.path === path);
        if (!there) return false;
        return (await this.peer.request<boolean[]>('one', { slot: there.worker, op: 'closeRtp', arg: path }))[0] === true;
      },
    };
  }

  async metricsText(): Promise<string> {
    return aggregateMetrics(await this.gather<MetricJson>('metrics'));
  }

  async totals(): Promise<{ streams: number; readers: number; rss: number; heapUsed: number }> {
    const [streams, stats] = await Promise.all([mergeStreams(await this.gather('streams')), this.gather<{ rss: number; heapUsed: number }>('stats')]);
    const each = stats.flatMap((part) => part.items);
    return {
      streams: streams.length,
      readers: streams.reduce((n, s) => n + s.readers.total, 0),
      rss: each.reduce((n, s) => n + s.rss, 0),
      heapUsed: each.reduce((n, s) => n + (s.heapUsed ?? 0), 0),
    };
  }

  async workersUp(): Promise<{ ready: number; configured: number }> {
    const { workers } = await this.status();
    return { ready: workers.filter((w) => w.ready).length, configured: this.env.workers };
  }

  statusView(local: StreamStatusSources): (path: string) => Promise<StreamStatusDto> {
    const sipWorker = () => (this.slot === SIP_SLOT ? undefined : this.addresses.get(SIP_SLOT));
    // Built before attach(): the gateway (its secret) is read when a request comes.
    return clusterStreamStatus({
      streams: { list: async () => mergeStreams(await this.gather('streams')) },
      local,
      sipWorker,
      key: this.env.key,
      secret: () => this.gateway?.config.auth.secret ?? '',
    });
  }

  recordingsView(local: RecordingsService): RecordingsService {
    return { ...local, active: async () => (await this.gather<ActiveRecordingDto>('recorders')).flatMap((part) => part.items) };
  }

  async installHttp(http: FastifyInstance, hasGb28181: boolean): Promise<void> {
    // GB28181 lives in slot 1: its API routes are answered there, whichever worker took the request.
    if (!hasGb28181 && this.gbElsewhere) http.addHook('onRequest', (request, reply) => forwardGbApi(request, reply, () => this.addresses.get(1), this.env.key));
    http.addHook('preHandler', (request, reply) =>
      forwardRecordApi(
        request,
        reply,
        (path) => slotOf(path, this.env.workers),
        this.slot,
        (slot) => this.addresses.get(slot),
        this.env.key,
      ),
    );
    // Which worker answered (a client or a test can tell the workers apart).
    http.addHook('onSend', async (_request, reply, payload) => {
      void reply.header('x-gateway-worker', String(this.slot));
      return payload;
    });
    // The live state of a proxy or push is known by the worker that runs it.
    http.addHook('preHandler', (request, reply) => answerJobStatus(request, reply, (area) => this.gather(area)));
    http.addHook('onResponse', async (request, reply) => {
      if (request.method === 'GET' || request.method === 'HEAD' || reply.statusCode >= 400) return;
      const topic = RELOAD_TOPICS.find(([prefix]) => request.url.startsWith(prefix))?.[1];
      if (topic) this.peer.emit('broadcast', { topic });
    });
    await http.register(clusterApi, { status: () => this.status() });
  }

  /** Before start: the private port, the on-demand router, registration of local publishers, the primary's questions. */
  async attach(gateway: Gateway): Promise<void> {
    this.gateway = gateway;
    const { registry } = gateway;
    this.privateServer = await listenPrivate(registry, this.env.key, this.log.child({ component: 'cluster-private' }), gateway.http);
    registry.routeOnDemand((path, local) => this.route(path, local));
    registry.events.on('publish', (path, source) => {
      if (source.kind === CLUSTER_PROTOCOL) return;
      this.registered.add(path);
      this.directory.register(path, this.slot).catch((err: unknown) => this.log.warn({ path, err: errorMessage(err) }, 'directory register failed'));
    });
    registry.events.on('streamEnd', (path) => {
      if (!this.registered.delete(path)) return;
      this.directory.unregister(path, this.slot).catch((err: unknown) => this.log.warn({ path, err: errorMessage(err) }, 'directory unregister failed'));
    });
    this.peer.handle('local', (body) => this.local(body as { op: LocalOp; arg?: string }));
    this.peer.onEvent('directory', (body) => {
      const { entries, workers } = body as { entries: DirectoryEntry[]; workers: { slot: number; address: string }[] };
      const live = new Set(workers.map((w) => w.address));
      for (const address of this.addresses.values()) if (!live.has(address)) this.deadAddresses.add(address);
      this.addresses = new Map(workers.map((w) => [w.slot, w.address]));
      this.directoryChanged(entries);
      this.jobs.update(this.owners, workers.length);
    });
    this.peer.onEvent('reload', (body) => this.reload((body as { topic: string }).topic));
    if (this.gbElsewhere) this.gbMedia = gbMediaOf(gateway, this.peer, this.slot, this.log);
  }

  /** After start: the primary may place streams here from now on; a restarted worker recovers what it left open. */
  async ready(ports: object): Promise<void> {
    // Every worker serves GB28181 paths (the media receiver is placed by load, gb-media.ts); the SIP one is the busier on a tie.
    await this.peer.request('ready', { privatePort: this.privateServer?.port, serves: [], signalling: this.gateway?.gb28181 !== undefined, ports });
    if (!this.env.first) void this.recoverLeftOpen().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'recovery of segments left open failed'));
  }

  /**
   * The open rows no worker writes are the ones a dead worker left (this slot's previous life,
   * or another that died meanwhile). Rows are listed before the workers are asked, so a segment
   * opened after the listing is never taken. A segment a live worker is closing is in no list
   * but done within the settle time, and the recovery skips rows closed since. While another
   * worker is still starting (its plans may be opening segments) it waits.
   */
  private async recoverLeftOpen(): Promise<void> {
    const { recording } = this.gateway!;
    for (let attempt = 0; attempt < RECOVERY_ATTEMPTS; attempt++) {
      const rows = recording.repo.open();
      if (rows.length === 0) return;
      const status = await this.peer.request<Omit<ClusterDto, 'answeredBy'>>('status');
      if (status.workers.every((w) => w.ready)) {
        const busy = new Set((await this.gather<ActiveRecordingDto>('recorders')).flatMap((part) => part.items.flatMap((r) => r.files)));
        const left = rows.filter((row) => !busy.has(row.file));
        if (left.length === 0) return;
        await new Promise((resolve) => setTimeout(resolve, CLOSE_SETTLE_MS));
        const result = recording.recoverRows(left);
        this.log.info({ ...result, stillOpen: rows.length - left.length }, 'segments left open by a dead worker: recovered');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, RECOVERY_RETRY_MS));
    }
    this.log.warn('another worker stayed not ready: segments left open are recovered at the next full start');
  }

  async close(): Promise<void> {
    this.jobs.close();
    this.gbMedia?.close();
    this.peer.close('the worker is stopping');
    await this.privateServer?.close();
  }

  private async status(): Promise<ClusterDto> {
    return { ...(await this.peer.request<Omit<ClusterDto, 'answeredBy'>>('status')), answeredBy: this.slot };
  }

  /** Every ready worker's answer to a local op (through the primary). */
  gather<T>(op: LocalOp, arg?: string): Promise<WorkerPart<T>[]> {
    return this.peer.request('gather', { op, arg });
  }

  /** The on-demand seam: the path's owner serves it (here: the local factory; elsewhere: an internal pull). */
  private async route(path: string, local: OnDemandFactory | undefined): Promise<OnDemandSource | undefined> {
    const entry = (await this.directory.lookup(path)) ?? (await this.directory.place({ path, slot: this.slot, localFactory: local !== undefined }));
    if (!entry) return undefined;
    if (entry.owner !== this.slot) return this.pullFrom(path, entry.address, local);
    return this.startHere(path, local);
  }

  /** The path is placed here: its local factory runs (none, or it declines: the placement is given back). */
  private async startHere(path: string, local: OnDemandFactory | undefined): Promise<OnDemandSource | undefined> {
    if (!local) {
      await this.directory.unregister(path, this.slot);
      return undefined;
    }
    try {
      const source = await local(path);
      if (!source) await this.directory.unregister(path, this.slot);
      return source;
    } catch (err) {
      await this.directory.unregister(path, this.slot).catch(() => undefined);
      throw err;
    }
  }

  private async pullFrom(path: string, address: string, local: OnDemandFactory | undefined): Promise<OnDemandSource> {
    const config = this.gateway!.config;
    const registry = this.gateway!.registry;
    let placedAfter: string | undefined;
    const pull = new InternalPull(path, {
      registry,
      log: this.log.child({ component: 'cluster-pull', stream: path }),
      key: this.env.key,
      // The owner died with viewers left here: the path is placed again (once per lost owner), on
      // a live worker by load; placed here, its factory runs here (a GB28181 channel is INVITEd again).
      locate: async (p, lost) => {
        let entry = await this.directory.lookup(p);
        if (!entry && this.deadAddresses.has(lost) && placedAfter !== lost && registry.readerCount(p) > 0) {
          placedAfter = lost;
          entry = await this.directory.place({ path: p, slot: this.slot, localFactory: local !== undefined });
          if (entry) this.log.info({ path: p, owner: entry.owner }, 'the owner of a watched stream died: placed again');
        }
        if (!entry) return undefined;
        if (entry.owner !== this.slot) return entry.address;
        return entry.state === 'claimed' ? this.startHere(p, local) : undefined;
      },
      connectTimeoutMs: config.rtsp.connectTimeout * 1000,
      stallTimeoutMs: config.relay.stallTimeout * 1000,
      graceMs: config.hub.reconnectGrace * 1000,
    });
    try {
      await pull.start(address);
    } catch (err) {
      await pull.stop('start failed');
      throw new GatewayError('SOURCE_START_FAILED', `stream ${path}: its owner worker did not serve it: ${errorMessage(err)}`, { cause: err });
    }
    return pull;
  }

  private async local({ op, arg }: { op: LocalOp; arg?: string }): Promise<unknown[]> {
    const registry = this.gateway!.registry;
    if (op === 'metrics') return (await this.gateway!.metrics?.json()) ?? [];
    if (op === 'proxies') return this.gateway!.proxies.list();
    if (op === 'pushes') return this.gateway!.pushes.list();
    if (op === 'rtp') return (await this.rtp?.list()) ?? [];
    if (op === 'closeRtp') return [(await this.rtp?.close(arg ?? '')) === true];
    if (op === 'streams') return registry.list();
    if (op === 'sessions') return registry.sessions();
    if (op === 'recorders') return this.gateway!.recording.manager.active();
    if (op === 'closeSession') return [registry.closeSession(arg ?? '', 'closed by the API')];
    if (op === 'kick') {
      const origin = arg !== undefined && registry.get(arg)?.publisher?.kind !== CLUSTER_PROTOCOL;
      return [origin && registry.kick(arg, 'kicked through the API')];
    }
    const cpu = process.cpuUsage();
    return [{ cpuMs: (cpu.user + cpu.system) / 1000, rss: process.memoryUsage.rss(), heapUsed: process.memoryUsage().heapUsed }];
  }

  private directoryChanged(entries: DirectoryEntry[]): void {
    this.entries = entries;
    this.owners = ownersOf(entries);
    const gateway = this.gateway;
    if (!gateway) return;
    // Viewers here that wait for a publisher which landed on another worker.
    for (const entry of entries) if (entry.owner !== this.slot && entry.state === 'live') gateway.registry.retryOnDemand(entry.path);
    gateway.recording.manager.tick();
  }

  private reload(topic: string): void {
    const gateway = this.gateway;
    if (!gateway) return;
    this.log.info({ topic }, 'another worker changed this area: reloading it from the database');
    if (topic === 'proxies') void gateway.proxies.reload();
    else if (topic === 'pushes') gateway.pushes.reload();
    else if (topic === 'plans') gateway.recording.manager.reloadPlans();
  }
}
