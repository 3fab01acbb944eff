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
import type { DirectoryEntry, StreamDirectory } from './directory';
import { slotOf, type ClusterEnv } from './env';
import { InternalPull, listenPrivate, type PrivateServer } from './internal-pull';
import { IpcPeer, type IpcChannel } from './ipc';
import { CLUSTER_PROTOCOL, mergeSessions, mergeStreams, parsePrefixedId, type WorkerPart } from './merge';
import { RemoteDirectory } from './remote-directory';
import { forwardGbApi, forwardRecordApi } from './forward';

/** What build.ts asks of the cluster (all optional there: a single process has none). */
export interface ClusterSeams {
  readonly slot: number;
  /** This process runs a path's always-on proxy, keepSource push and record plans. */
  runsHere(path: string): boolean;
  /** Paths with a publisher on any worker (record plan patterns). */
  livePaths(): string[];
  /** Recovery of segments a crashed run left open happens in one process, once. */
  readonly recovers: boolean;
  streamsView(local: Registry): StreamsView;
  installHttp(http: FastifyInstance, hasGb28181: boolean): Promise<void>;
  recordingsView(local: RecordingsService): RecordingsService;
}

export type LocalOp = 'streams' | 'sessions' | 'kick' | 'closeSession' | 'recorders' | 'stats';

/** API areas whose changes every other worker re-reads from SQLite. */
const RELOAD_TOPICS: readonly [prefix: string, topic: string][] = [
  ['/api/proxies', 'proxies'],
  ['/api/pushes', 'pushes'],
  ['/api/record/plans', 'plans'],
];

export class ClusterWorker implements ClusterSeams {
  readonly slot: number;
  readonly directory: StreamDirectory;
  private readonly peer: IpcPeer;
  private entries: DirectoryEntry[] = [];
  private addresses = new Map<number, string>();
  private readonly registered = new Set<string>();
  private privateServer: PrivateServer | undefined;
  private gateway: Gateway | undefined;

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
  }

  get recovers(): boolean {
    return this.env.first;
  }

  runsHere(path: string): boolean {
    return slotOf(path, this.env.workers) === this.slot;
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
      this.addresses = new Map(workers.map((w) => [w.slot, w.address]));
      this.directoryChanged(entries);
    });
    this.peer.onEvent('reload', (body) => this.reload((body as { topic: string }).topic));
  }

  /** After start: the primary may place streams here from now on. */
  async ready(ports: object): Promise<void> {
    const serves = this.gateway?.gb28181 ? ['rtp/*'] : [];
    await this.peer.request('ready', { privatePort: this.privateServer?.port, serves, ports });
  }

  async close(): Promise<void> {
    this.peer.close('the worker is stopping');
    await this.privateServer?.close();
  }

  private async status(): Promise<ClusterDto> {
    return { ...(await this.peer.request<Omit<ClusterDto, 'answeredBy'>>('status')), answeredBy: this.slot };
  }

  private gather<T>(op: LocalOp, arg?: string): Promise<WorkerPart<T>[]> {
    return this.peer.request('gather', { op, arg });
  }

  /** The on-demand seam: the path's owner serves it (here: the local factory; elsewhere: an internal pull). */
  private async route(path: string, local: OnDemandFactory | undefined): Promise<OnDemandSource | undefined> {
    const entry = (await this.directory.lookup(path)) ?? (await this.directory.place({ path, slot: this.slot, localFactory: local !== undefined }));
    if (!entry) return undefined;
    if (entry.owner !== this.slot) return this.pullFrom(path, entry.address);
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

  private async pullFrom(path: string, address: string): Promise<OnDemandSource> {
    const config = this.gateway!.config;
    const pull = new InternalPull(path, {
      registry: this.gateway!.registry,
      log: this.log.child({ component: 'cluster-pull', stream: path }),
      key: this.env.key,
      locate: async (p) => {
        const owner = await this.directory.lookup(p);
        return owner && owner.owner !== this.slot ? owner.address : undefined;
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

  private local({ op, arg }: { op: LocalOp; arg?: string }): unknown[] {
    const registry = this.gateway!.registry;
    if (op === 'streams') return registry.list();
    if (op === 'sessions') return registry.sessions();
    if (op === 'recorders') return this.gateway!.recording.manager.active();
    if (op === 'closeSession') return [registry.closeSession(arg ?? '', 'closed by the API')];
    if (op === 'kick') {
      const origin = arg !== undefined && registry.get(arg)?.publisher?.kind !== CLUSTER_PROTOCOL;
      return [origin && registry.kick(arg, 'kicked through the API')];
    }
    const cpu = process.cpuUsage();
    return [{ cpuMs: (cpu.user + cpu.system) / 1000, rss: process.memoryUsage.rss() }];
  }

  private directoryChanged(entries: DirectoryEntry[]): void {
    this.entries = entries;
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
