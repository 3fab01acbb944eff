import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type pino from 'pino';
import type { GatewayConfig } from '../config/schema';
import { Registry } from '../hub/registry';
import { RtmpServer } from '../protocols/rtmp/server';
import { RtspServer } from '../protocols/rtsp/server';
import { openDatabase, type Db } from '../../storage/db';
import { streamsApi } from '../api/streams';
import { healthApi } from '../api/health';
import { createHttpServer } from './http-server';
import { registerMediaRoutes, registerTsRoutes } from './media-routes';
import { registerWebRoutes } from './web-routes';
import { registryOptionsFrom, tsFeedOptions } from './registry-options';
import { attachAlarmRecording, createGb28181, createGbDownloads, MAX_DOWNLOAD_SPEED, type Gb28181 } from './gb-bridge/compose';
import { downloadsApi } from '../api/downloads';
import { ProxyRepo } from '../../storage/repos/proxies';
import { proxiesApi } from '../api/proxies';
import { ProxyManager, proxySettingsFrom } from './rtsp-proxy/manager';
import { rtspUdpPorts } from './rtsp-proxy/udp-ports';
import { PortPool } from '../../rtp/net/port-pool';
import { RtpServers } from './rtp-servers';
import { rtpApi } from '../api/rtp';
import { PushRepo } from '../../storage/repos/pushes';
import { pushesApi } from '../api/pushes';
import { PushManager, pushSettingsFrom } from './relays/push-manager';
import { metricsApi } from '../api/metrics';
import { GatewayMetrics, type RtpReceiverNumbers } from './metrics/metrics';
import { attachAccessLog } from './metrics/access-log';
import { createWebhooks } from './hooks/compose';
import { Limits } from './limits';
import { applyHttpLimits } from './http-limits';
import type { Webhooks } from './hooks/webhooks';
import { TsFeeds } from '../formats/mpegts/ts-feeds';
import { createRecording, type Recording } from './recording/compose';
import { recordingsApi } from '../api/recordings';
import { gbPath } from './gb-bridge/bridge';
import { registerPlayback } from './playback';
import { authApi, installApiGuard } from '../api/auth';
import { AccessControl } from './access/access';
import { loadSecrets, withSecrets, type LoadedSecrets } from './access/secrets';
import { streamUrls } from './stream-urls';
import { corsOrigins } from './http-server';
import { TlsListeners, loadServerTls, type TlsPorts } from './tls/listeners';
import { readTrustedCas } from './tls/files';
import { ConsoleEvents } from './console-events';
import { eventsApi } from '../api/events';
import { streamStatusApi } from '../api/stream-status';
import { wallsApi } from '../api/walls';
import { WallRepo } from '../../storage/repos/walls';
import { streamStatus, type StreamStatusSources } from './stream-status';
import type { ClusterSeams } from './cluster/worker';

export interface BoundPorts extends TlsPorts {
  rtmp?: number;
  rtsp?: number;
  http?: number;
  sip?: number;
}

export interface Gateway {
  readonly registry: Registry;
  readonly http: FastifyInstance | undefined;
  readonly db: Db;
  readonly ports: BoundPorts;
  /** rtp.portMin..portMax (undefined: OS-chosen ports); a cluster worker's GB28181 receivers take theirs from it too. */
  readonly rtpPorts: PortPool | undefined;
  /** The GB28181 SIP server, repos and bridge (undefined when sip.enabled is false). */
  readonly gb28181: Gb28181 | undefined;
  /** RTSP pull proxies (config and API). */
  readonly proxies: ProxyManager;
  /** RTMP/RTMPS pushes to CDNs (config and API). */
  readonly pushes: PushManager;
  /** The webhooks (undefined when no hooks.on_* URL is set). */
  readonly webhooks: Webhooks | undefined;
  /** The Prometheus registry behind GET /metrics (undefined when metrics.enabled is false). */
  readonly metrics: GatewayMetrics | undefined;
  /** Recorders, plans, the recordings index and retention. */
  readonly recording: Recording;
  /** The effective secrets (config wins over storage.dir/secrets.json) and which were generated now. */
  readonly secrets: LoadedSecrets;
  /** API credentials, publish keys, signed URLs, path ownership. */
  readonly access: AccessControl;
  /** The config with the effective secrets filled in. */
  readonly config: GatewayConfig;
  /** The console's live event bus (GET /api/events); `emit` adds an event for every open console. */
  readonly consoleEvents: ConsoleEvents;
  start(): Promise<BoundPorts>;
  /** Re-reads tls.cert/tls.key for every TLS listener (SIGHUP); false if there are none or the new pair is bad (the old one stays). */
  reloadTls(reason?: string): boolean;
  /** Stops accepting, ends every session, flushes and closes the database. Idempotent. */
  stop(reason?: string): Promise<void>;
}

/** The composition root: builds every component from the config and wires them together. */
export async function buildGateway(configured: GatewayConfig, log: pino.Logger, version: string, cluster?: ClusterSeams): Promise<Gateway> {
  const startedAt = Date.now();
  // First, so that a TLS file that is missing or bad stops the start before anything is opened.
  const serverTls = loadServerTls(configured);
  const trustedCas = readTrustedCas(configured);
  const limits = new Limits(log.child({ component: 'limits' }));
  const secrets = loadSecrets(configured, log.child({ component: 'access' }));
  const config = withSecrets(configured, secrets);
  const registry = new Registry(registryOptionsFrom(config.hub, config.http), log.child({ component: 'hub' }));
  const db = openDatabase(config.storage.dir, log.child({ component: 'storage' }));
  const ports: BoundPorts = {};
  const rtmp = config.rtmp.enabled
    ? new RtmpServer({
        host: config.rtmp.host,
        port: config.rtmp.port,
        registry,
        logger: log.child({ component: 'rtmp' }),
        hevcMode: config.rtmp.hevcMode,
        chunkSize: config.rtmp.chunkSize,
        idleTimeoutMs: config.rtmp.idleTimeout * 1000,
        playNoDelay: config.rtmp.playNoDelay,
        partialBudget: limits.budget('rtmp.partialBudget', config.rtmp.partialBudget),
      })
    : undefined;
  const tls = serverTls ? new TlsListeners(config, serverTls, log.child({ component: 'tls' }), limits.counter('tls.maxConnections')) : undefined;
  tls?.serveRtmp(rtmp);
  const rtpPorts = config.rtp.portMin > 0 ? new PortPool(config.rtp.portMin, config.rtp.portMax) : undefined;
  const rtpServers = new RtpServers({
    registry,
    pool: rtpPorts,
    host: config.rtp.host,
    timeoutMs: config.rtp.timeout * 1000,
    ssrcCheck: config.rtp.ssrcCheck,
    dumpDir: join(config.storage.dir, 'rtp-dumps'),
    apiShare: config.rtp.apiShare,
    dumpMaxBytes: config.rtp.dumpMaxBytes,
    refused: limits.counter('rtp.apiShare'),
    log: log.child({ component: 'rtp' }),
  });
  const gb28181 = config.sip.enabled ? createGb28181(config, registry, db, log, rtpPorts, limits.budget('sip.tcpPartialBudget', config.sip.tcpPartialBudget)) : undefined;
  const proxies = new ProxyManager({
    registry,
    repo: new ProxyRepo(db),
    config: config.proxies,
    settings: proxySettingsFrom(config.rtsp, { ca: trustedCas }),
    log: log.child({ component: 'rtsp-proxy' }),
    udpPorts: rtspUdpPorts(rtpPorts),
    maxProxies: config.rtsp.maxProxies,
    refused: limits.counter('rtsp.maxProxies'),
    placement: cluster,
  });
  const pushes = new PushManager({
    registry,
    repo: new PushRepo(db),
    config: config.pushes,
    settings: pushSettingsFrom(config.relay, trustedCas),
    log: log.child({ component: 'push' }),
    placement: cluster,
  });
  const access = new AccessControl(config.auth, registry, (path) => {
    if (proxies.list().some((proxy) => proxy.path === path)) return 'an RTSP proxy';
    if (rtpServers.list().some((receiver) => receiver.path === path)) return 'an RTP receiver';
    return undefined;
  });
  // First in the chain: hooks and other checks only ever see callers with credentials.
  registry.admission.add('access-publish', access.publishCheck);
  registry.admission.add('access-play', access.playCheck);
  const rtspOptions = {
    host: config.rtsp.host,
    port: config.rtsp.port,
    registry,
    logger: log.child({ component: 'rtsp-server' }),
    udpPorts: rtspUdpPorts(rtpPorts),
    credentials: access.rtspCredential,
    sessionTimeoutMs: config.rtsp.sessionTimeout * 1000,
  };
  const rtsp = config.rtsp.enabled ? new RtspServer(rtspOptions) : undefined;
  // RTSPS keeps media inside the TLS connection: UDP transport is refused there (461).
  tls?.serveRtsp((listener, port) => new RtspServer({ ...rtspOptions, port, listener, interleavedOnly: true }));
  const urls = (path: string, host: string, query = access.playQuery(path)) => streamUrls(config, () => ports, path, host, query);
  const metrics = config.metrics.enabled
    ? new GatewayMetrics(
        {
          registry,
          ...(gb28181 ? { devicesOnline: () => gb28181.server.sessions.size, sip: () => gb28181.server.counters.list() } : {}),
          rtpReceivers: () => rtpReceiverNumbers(rtpServers, gb28181),
          limits: () => limits.snapshot(),
          recorderStates: () => recording.manager.active().map((r) => r.state),
          pushStates: () => pushes.list().flatMap((rule) => rule.pushes.map((p) => p.state)),
        },
        { perStream: config.metrics.perStream },
      )
    : undefined;
  const stopAccessLog = attachAccessLog(registry, log.child({ component: 'access' }));
  const hooks = createWebhooks(
    config,
    {
      registry,
      pulls: proxies.hookPulls,
      keepalive: () => keepaliveNumbers(registry, startedAt, gb28181, hooks?.client.queued ?? 0, cluster),
      // A cluster speaks as one server: slot 1's first start announces it, and only slot 1 sends keepalives.
      announcesServer: !cluster || cluster.slot === 1,
      log: log.child({ component: 'hooks' }),
    },
    metrics?.hookCalled ?? (() => undefined),
    log.child({ component: 'hooks' }),
  );
  const webhooks = hooks?.webhooks;
  if (gb28181) {
    limits.track('sip.tcpMaxBody', () => gb28181.server.limitCounts().tooLarge);
    limits.track('sip.sipLogBytes', () => gb28181.server.limitCounts().logEvictions);
  }
  webhooks?.attach();
  if (webhooks) registry.admission.add('hooks', webhooks.check);
  if (webhooks && gb28181) {
    gb28181.server.events.on('online', (id) => {
      const remote = gb28181.server.session(id)?.remote;
      webhooks.deviceOnline(id, remote ? `${remote.address}:${remote.port}` : undefined);
    });
    gb28181.server.events.on('offline', (id, reason) => webhooks.deviceOffline(id, reason));
    gb28181.server.events.on('alarm', (alarm) => webhooks.alarm(alarm));
  }
  const tsFeeds = new TsFeeds(registry, log.child({ component: 'ts-feed' }), tsFeedOptions(config));
  const recording = createRecording({
    config,
    registry,
    feeds: tsFeeds,
    db,
    log,
    gbPaths: gb28181 ? gbPathsOf(gb28181) : undefined,
    placement: cluster,
    recovers: cluster?.recovers,
  });
  if (gb28181) attachAlarmRecording(gb28181, recording.service, config.sip, log);
  const downloads = gb28181 ? createGbDownloads(gb28181, recording.manager, db, config.sip, log) : undefined;
  if (webhooks) recording.manager.events.on('segment', (segment) => webhooks.recordSegment(segment));
  const consoleEvents = new ConsoleEvents({
    registry,
    ...(gb28181 ? { gb: gb28181.server } : {}),
    proxies,
    pushes,
    recorders: recording.manager,
    log: log.child({ component: 'console-events' }),
  });
  let http: FastifyInstance | undefined;
  let tsRoutes: ReturnType<typeof registerTsRoutes> | undefined;
  if (config.http.enabled) {
    http = await createHttpServer(config.http, log.child({ component: 'http' }), version);
    const httpLoad = applyHttpLimits(http, config.http, limits, tls?.serveHttp(http));
    const authDeps = {
      service: { isAdminSecret: (v: string | undefined) => access.isAdminSecret(v), sessions: access.sessions, sign: access.sign.bind(access), urls },
      origins: corsOrigins(config.http),
      loginLimit: config.auth.loginLimit,
      sessionTtlSec: config.auth.sessionTtl,
    };
    installApiGuard(http, authDeps);
    await cluster?.installHttp(http, gb28181 !== undefined);
    await http.register(authApi, authDeps);
    await http.register(streamsApi, { registry: cluster ? cluster.streamsView(registry) : registry });
    await http.register(eventsApi, { subscribe: (send) => consoleEvents.subscribe(send) });
    const statusSources: StreamStatusSources = {
      registry,
      ...(gb28181 ? { gb: { invites: () => gb28181.bridge.invites(), device: (id: string) => gb28181.devices.get(id), mediaIp: gb28181.mediaIp } } : {}),
      proxies,
      receivers: rtpServers,
    };
    await http.register(wallsApi, { walls: new WallRepo(db) });
    await http.register(streamStatusApi, {
      status: cluster ? cluster.statusView(statusSources) : (path) => streamStatus(statusSources, path),
      playQuery: (path) => access.playQuery(path).replace(/^\?/, ''),
    });
    await http.register(healthApi, {
      version,
      startedAt,
      ports: () => ({ ...ports }) as Record<string, number>,
      streams: cluster ? async () => (await cluster.totals()).streams : () => registry.list().length,
      ...(cluster ? { workers: () => cluster.workersUp() } : {}),
      httpLoad,
    });
    await gb28181?.registerApi(http, (path, host) => urls(path, host));
    await http.register(proxiesApi, { proxies });
    await http.register(pushesApi, { pushes });
    await http.register(rtpApi, { rtp: cluster ? cluster.rtpView(rtpServers) : rtpServers });
    if (metrics)
      await http.register(metricsApi, {
        text: cluster ? () => cluster.metricsText() : () => metrics.text(),
        contentType: metrics.contentType,
        auth: config.metrics.auth,
        isAdminSecret: (v) => access.isAdminSecret(v),
      });
    registerMediaRoutes(http, registry, config.http, log);
    tsRoutes = registerTsRoutes(http, registry, config, log, tsFeeds, limits);
    await http.register(recordingsApi, { recordings: cluster ? cluster.recordingsView(recording.service) : recording.service });
    if (downloads) await http.register(downloadsApi, { downloads, maxSpeed: MAX_DOWNLOAD_SPEED });
    registerPlayback(http, recording, config, log, registry);
    await registerWebRoutes(http, join(__dirname, '..', '..', '..'));
  }

  let stopping: Promise<void> | undefined;
  return {
    registry,
    http,
    db,
    ports,
    rtpPorts,
    gb28181,
    proxies,
    pushes,
    webhooks,
    metrics,
    recording,
    secrets,
    access,
    config,
    consoleEvents,
    async start() {
      if (rtmp) ports.rtmp = (await rtmp.listen()).port;
      if (rtsp) ports.rtsp = (await rtsp.listen()).port;
      if (gb28181) ports.sip = await gb28181.start();
      if (http) {
        await http.listen({ host: config.http.host, port: config.http.port });
        ports.http = (http.server.address() as AddressInfo).port;
      }
      if (tls) Object.assign(ports, await tls.start());
      proxies.start();
      pushes.start();
      recording.start();
      consoleEvents.start();
      log.info({ ports, storage: config.storage.dir }, cluster ? 'worker listening' : 'gateway listening');
      if (!cluster || cluster.recovers) webhooks?.serverStarted(version, { ...ports } as Record<string, number>, startedAt);
      return ports;
    },
    reloadTls(reason = 'SIGHUP') {
      return tls?.reload(reason) ?? false;
    },
    stop(reason = 'shutting down') {
      stopping ??= (async () => {
        log.info({ reason }, 'gateway stopping');
        webhooks?.close();
        hooks?.client.close();
        stopAccessLog();
        consoleEvents.close();
        await downloads?.close();
        await recording.close();
        tsRoutes?.close(reason);
        tsFeeds.close(reason);
        rtpServers.closeAll(reason);
        pushes.close();
        await proxies.close();
        await registry.close(reason);
        await Promise.allSettled([rtmp?.close(), rtsp?.close(), http?.close(), gb28181?.stop(), tls?.close()]);
        db.close();
        metrics?.close();
        log.info('gateway stopped');
      })();
      return stopping;
    },
  };
}

function rtpReceiverNumbers(rtpServers: RtpServers, gb28181: Gb28181 | undefined): RtpReceiverNumbers[] {
  const out: RtpReceiverNumbers[] = rtpServers.list().map((r) => ({ owner: 'api', path: r.path, packets: r.packets, lost: r.lost, reordered: r.reordered }));
  for (const play of gb28181?.bridge.invites() ?? []) {
    if (play.media && !play.endReason)
      out.push({ owner: 'gb28181', path: play.path, packets: play.media.packets, lost: play.media.lost ?? 0, reordered: play.media.reordered ?? 0 });
  }
  return out;
}

async function keepaliveNumbers(
  registry: Registry,
  startedAt: number,
  gb28181: Gb28181 | undefined,
  hookQueue: number,
  cluster: ClusterSeams | undefined,
): Promise<Record<string, number>> {
  const streams = registry.list();
  const memory = process.memoryUsage();
  if (cluster) return { uptimeMs: Date.now() - startedAt, ...(await cluster.totals()), devicesOnline: gb28181?.server.sessions.size ?? 0, hookQueue };
  return {
    uptimeMs: Date.now() - startedAt,
    streams: streams.length,
    readers: streams.reduce((n, s) => n + s.readers.total, 0),
    devicesOnline: gb28181?.server.sessions.size ?? 0,
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    hookQueue,
  };
}

/** A GB28181 device id stands for its channels, a channel id for itself (record plans). */
function gbPathsOf(gb: Gb28181): (id: string) => string[] {
  return (id) => {
    if (gb.devices.get(id))
      return gb.channels
        .list({ deviceId: id, count: 10_000 })
        .items.filter((c) => !c.gone)
        .map((c) => gbPath(id, c.id));
    return gb.channels
      .list({ q: id, count: 100 })
      .items.filter((c) => c.id === id && !c.gone)
      .map((c) => gbPath(c.deviceId, c.id));
  };
}
