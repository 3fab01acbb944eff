import { randomBytes } from 'node:crypto';
import { GatewayError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import { TypedEmitter, type ManagerEvents } from '../../core/events';
import { runJob, type JobPlacement } from '../../core/source';
import type { Registry } from '../../hub/registry';
import { assertStreamPath } from '../../hub/path';
import type { RtspTransportChoice } from '../../protocols/rtsp/pull';
import type { UdpPortAllocator } from '../../protocols/rtsp/udp';
import type { GatewayConfig } from '../../config/schema';
import type { TlsTrust } from '../../protocols/shared/tls';
import type { ProxyDto, ProxyInput, ProxyPatchInput, ProxiesService } from '../../api/proxies';
import type { ProxyRepo } from '../../../storage/repos/proxies';
import { RtspProxy, type ProxySettings, type ProxySpec } from './proxy';
import { maskPullUrl, validatePullUrl } from './pull-clients';

export interface ProxyManagerDeps {
  readonly registry: Pick<Registry, 'publish' | 'get' | 'registerOnDemand' | 'admission'>;
  readonly repo: ProxyRepo;
  readonly config: GatewayConfig['proxies'];
  readonly settings: ProxySettings;
  readonly log: Logger;
  readonly udpPorts?: UdpPortAllocator;
  /** Most proxies at once (config, API and hook pulls together): rtsp.maxProxies. */
  readonly maxProxies?: number;
  /** Called when a proxy is refused for the cap. */
  readonly refused?: (details: object) => void;
  /** Several workers: an always-on proxy connects in the one process its job is placed in. */
  readonly placement?: Pick<JobPlacement, 'runJob'>;
}

interface Entry {
  proxy: RtspProxy;
  unregister?: () => void;
  /** An always-on proxy: ends its job's placement. */
  unplace?: () => void;
  createdAt: number;
  updatedAt: number;
}

export function proxySettingsFrom(rtsp: GatewayConfig['rtsp'], tls?: TlsTrust): ProxySettings {
  return {
    ...(tls ? { tls } : {}),
    connectTimeoutMs: rtsp.connectTimeout * 1000,
    requestTimeoutMs: rtsp.requestTimeout * 1000,
    udpFallbackMs: rtsp.udpFallback * 1000,
    stallTimeoutMs: rtsp.stallTimeout * 1000,
    reorderDelayMs: rtsp.reorderDelay * 1000,
    reconnectMinMs: rtsp.reconnectMin * 1000,
    reconnectMaxMs: Math.max(rtsp.reconnectMin, rtsp.reconnectMax) * 1000,
    userAgent: rtsp.userAgent,
  };
}

/**
 * Every pull proxy (rtsp://, rtmp://, rtmps://, http(s)://...flv): those declared in config (read-only through the API) and those added
 * through the API (kept in SQLite, so they survive restarts). On-demand proxies are registered
 * with the hub for their exact path; always-on ones connect at start.
 */
export class ProxyManager implements ProxiesService {
  /** `changed`: a proxy was added or removed, or its state or last error changed (`list()` tells). */
  readonly events = new TypedEmitter<ManagerEvents>();
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(private readonly deps: ProxyManagerDeps) {}

  /** Loads config and database proxies and starts them. A path declared twice: the later is skipped. */
  start(): void {
    const now = Date.now();
    this.deps.config.forEach((item, index) => {
      const spec: ProxySpec = { id: `config-${index + 1}`, path: item.path, url: item.url, transport: item.transport, onDemand: item.onDemand, origin: 'config' };
      this.tryAdd(spec, now, now);
    });
    for (const record of this.deps.repo.list()) this.tryAdd(apiSpec(record), record.createdAt, record.updatedAt);
  }

  /** Re-reads the API proxies from the database (another worker changed them). */
  async reload(): Promise<void> {
    if (this.closed) return;
    const stored = new Map(this.deps.repo.list().map((r) => [r.id, r]));
    for (const [id, entry] of [...this.entries]) {
      if (entry.proxy.spec.origin !== 'api') continue;
      const record = stored.get(id);
      if (!record || record.updatedAt !== entry.updatedAt) await this.removeEntry(id, record ? 'reconfigured' : 'proxy deleted');
    }
    for (const record of stored.values()) if (!this.entries.has(record.id)) this.tryAdd(apiSpec(record), record.createdAt, record.updatedAt);
  }

  list(): ProxyDto[] {
    return [...this.entries.values()].map((e) => this.toDto(e));
  }

  get(id: string): ProxyDto | undefined {
    const entry = this.entries.get(id);
    return entry ? this.toDto(entry) : undefined;
  }

  create(input: ProxyInput): ProxyDto {
    this.assertOpen();
    const spec: ProxySpec = {
      id: `px${randomBytes(5).toString('hex')}`,
      path: input.path,
      url: input.url,
      transport: input.transport ?? 'auto',
      onDemand: input.onDemand ?? true,
      origin: 'api',
    };
    this.validate(spec);
    const now = Date.now();
    try {
      this.deps.repo.insert({ id: spec.id, path: spec.path, url: spec.url, transport: spec.transport, onDemand: spec.onDemand, createdAt: now, updatedAt: now });
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new GatewayError('STREAM_BUSY', `a stored proxy already pulls ${spec.path}`);
      throw err;
    }
    return this.toDto(this.add(spec, now, now));
  }

  async update(id: string, patch: ProxyPatchInput): Promise<ProxyDto> {
    this.assertOpen();
    const entry = this.mutable(id);
    const old = entry.proxy.spec;
    const spec: ProxySpec = { ...old, ...definedOnly(patch) };
    this.validate(spec, id);
    const updated = this.deps.repo.update(id, definedOnly(patch));
    await this.removeEntry(id, 'reconfigured');
    return this.toDto(this.add(spec, entry.createdAt, updated?.updatedAt ?? Date.now()));
  }

  async remove(id: string): Promise<boolean> {
    if (!this.entries.has(id)) return false;
    this.mutable(id);
    this.deps.repo.delete(id);
    await this.removeEntry(id, 'proxy deleted');
    return true;
  }

  /**
   * Pulls for on_stream_not_found answers: always-on while they have readers, never stored;
   * the hooks stop them when the stream has no readers left.
   */
  readonly hookPulls = {
    start: (path: string, url: string): void => {
      this.assertOpen();
      const spec: ProxySpec = { id: `hook-${randomBytes(5).toString('hex')}`, path, url, transport: 'auto', onDemand: false, origin: 'hook' };
      this.validate(spec);
      const now = Date.now();
      this.add(spec, now, now);
    },
    stop: async (path: string, reason: string): Promise<void> => {
      for (const [id, entry] of this.entries) if (entry.proxy.spec.origin === 'hook' && entry.proxy.spec.path === path) await this.removeEntry(id, reason);
    },
    has: (path: string): boolean => [...this.entries.values()].some((e) => e.proxy.spec.origin === 'hook' && e.proxy.spec.path === path),
  };

  /** Stops every proxy (TEARDOWN). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.entries.keys()].map((id) => this.removeEntry(id, 'shutting down')));
  }

  private tryAdd(spec: ProxySpec, createdAt: number, updatedAt: number): void {
    try {
      this.validate(spec);
      this.add(spec, createdAt, updatedAt);
    } catch (err) {
      this.deps.log.error({ proxy: spec.id, path: spec.path, err: errorMessage(err) }, 'proxy not started');
    }
  }

  private add(spec: ProxySpec, createdAt: number, updatedAt: number): Entry {
    const onChange = () => this.events.emit('changed');
    const newProxy = () =>
      new RtspProxy(spec, this.deps.settings, {
        registry: this.deps.registry,
        log: this.deps.log,
        onChange,
        ...(this.deps.udpPorts ? { udpPorts: this.deps.udpPorts } : {}),
      });
    const proxy = newProxy();
    const entry: Entry = { proxy, createdAt, updatedAt };
    this.entries.set(spec.id, entry);
    onChange();
    if (spec.onDemand) {
      entry.unregister = this.deps.registry.registerOnDemand(spec.path, async () => {
        await proxy.startOnce();
        return { stop: (reason: string) => proxy.stop(reason) };
      });
    } else if (spec.origin === 'hook') {
      // Asked for by a viewer of this process (on_stream_not_found): it runs here, where the hook was called.
      proxy.startAlways();
    } else {
      entry.unplace = runJob(this.deps.placement, spec.path, () => {
        // A stopped proxy does not start again: one that comes back after its job moved away is new.
        if (entry.proxy.status().state === 'stopped') entry.proxy = newProxy();
        entry.proxy.startAlways();
        return () => void entry.proxy.stop('its job moved to another worker');
      });
    }
    return entry;
  }

  private async removeEntry(id: string, reason: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.events.emit('changed');
    entry.unregister?.();
    entry.unplace?.();
    await entry.proxy.stop(reason);
  }

  private mutable(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry) throw new GatewayError('PROXY_NOT_FOUND', `proxy ${id} not found`);
    if (entry.proxy.spec.origin === 'config') throw new GatewayError('BAD_REQUEST', `proxy ${id} is declared in the config file: change it there`);
    if (entry.proxy.spec.origin === 'hook') throw new GatewayError('BAD_REQUEST', `proxy ${id} was started by the on_stream_not_found hook: it stops with its last reader`);
    return entry;
  }

  private validate(spec: ProxySpec, replacing?: string): void {
    const cap = this.deps.maxProxies;
    if (cap !== undefined && replacing === undefined && this.entries.size >= cap) {
      this.deps.refused?.({ proxies: this.entries.size, cap });
      throw new GatewayError('UNAVAILABLE', `at most ${cap} pull proxies (rtsp.maxProxies)`);
    }
    assertStreamPath(spec.path);
    validatePullUrl(spec.url);
    if (!['auto', 'tcp', 'udp'].includes(spec.transport)) throw new GatewayError('BAD_REQUEST', `transport must be auto, tcp or udp`);
    for (const [id, entry] of this.entries) {
      if (id !== replacing && entry.proxy.spec.path === spec.path) throw new GatewayError('STREAM_BUSY', `path ${spec.path} is already pulled by proxy ${id}`);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new GatewayError('CLOSED', 'the gateway is shutting down');
  }

  private toDto(entry: Entry): ProxyDto {
    const spec = entry.proxy.spec;
    return {
      id: spec.id,
      path: spec.path,
      url: maskPullUrl(spec.url),
      transport: spec.transport as RtspTransportChoice,
      onDemand: spec.onDemand,
      origin: spec.origin,
      createdAt: entry.createdAt,
      updatedAt: entry.updatedAt,
      status: entry.proxy.status(),
    };
  }
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function apiSpec(record: ReturnType<ProxyRepo['list']>[number]): ProxySpec {
  return { id: record.id, path: record.path, url: record.url, transport: record.transport, onDemand: record.onDemand, origin: 'api' };
}
