import { randomBytes } from 'node:crypto';
import { GatewayError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import { TypedEmitter, type ManagerEvents } from '../../core/events';
import { INTERNAL_PULL_KIND, runJob, type JobPlacement } from '../../core/source';
import type { Registry } from '../../hub/registry';
import type { GatewayConfig } from '../../config/schema';
import type { PushDto, PushInput, PushPatchInput, PushesService } from '../../api/pushes';
import type { PushRecord, PushRepo } from '../../../storage/repos/pushes';
import { parseRtmpUrl, maskRtmpUrl } from '../../protocols/rtmp/url';
import { Push, type PushSettings } from './push';
import type { PushHevcMode } from '../../protocols/rtmp/push-sink';

/** A push rule: a path (or pattern) and a target URL template. */
export interface PushRule {
  readonly id: string;
  /** `app/stream`, or a pattern with `*` inside a segment (`live/*`, `rtp/3402..._*`). */
  readonly path: string;
  /** `rtmp[s]://host/app/key` with `{app}` and `{stream}` filled from the pushed stream. */
  readonly url: string;
  readonly keepSource: boolean;
  readonly hevc: PushHevcMode;
  readonly allowSelfSigned: boolean;
  readonly origin: 'config' | 'api';
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface PushManagerDeps {
  readonly registry: Pick<Registry, 'subscribe' | 'list' | 'events' | 'admission'>;
  readonly repo: PushRepo;
  readonly config: GatewayConfig['pushes'];
  readonly settings: PushSettings;
  readonly log: Logger;
  /** Several workers: a keepSource rule's own push runs in the one process its job is placed in. */
  readonly placement?: Pick<JobPlacement, 'runJob'>;
}

const PATH_PATTERN = /^[A-Za-z0-9_.*-]{1,64}\/[A-Za-z0-9_.*-]{1,64}$/;

export function pushSettingsFrom(relay: GatewayConfig['relay'], ca: readonly string[] = []): PushSettings {
  return {
    connectTimeoutMs: relay.connectTimeout * 1000,
    stallTimeoutMs: relay.stallTimeout * 1000,
    reconnectMinMs: relay.reconnectMin * 1000,
    reconnectMaxMs: Math.max(relay.reconnectMin, relay.reconnectMax) * 1000,
    maxPendingBytes: relay.maxPendingBytes,
    chunkSize: relay.chunkSize,
    ...(ca.length > 0 ? { ca } : {}),
  };
}

/** True if `path` matches the rule's path: exact, or `*` standing for any run of name characters. */
export function pathMatches(pattern: string, path: string): boolean {
  if (!pattern.includes('*')) return pattern === path;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.-]/g, '\\$&'))
      .join('[A-Za-z0-9_.-]*')}$`,
  );
  return re.test(path);
}

/** The rule's URL for one stream: `{app}` and `{stream}` replaced. */
export function targetUrl(template: string, path: string): string {
  const [app = '', stream = ''] = path.split('/');
  return template.replaceAll('{app}', app).replaceAll('{stream}', stream);
}

/**
 * Every push: rules from config (read-only through the API) and from the API (in SQLite).
 * A rule pushes each hub stream its path matches while that stream exists; a keepSource rule
 * (exact path) subscribes at start, which keeps an on-demand source (a GB28181 camera) pulled.
 */
export class PushManager implements PushesService {
  /** `changed`: a rule or push was added or removed, or a push's state or last error changed (`list()` tells). */
  readonly events = new TypedEmitter<ManagerEvents>();
  private readonly rules = new Map<string, PushRule>();
  private readonly running = new Map<string, Map<string, Push>>();
  /** keepSource rules: the end of their job's placement, by rule id. */
  private readonly unplace = new Map<string, () => void>();
  private offPublish: (() => void) | undefined;
  private closed = false;

  constructor(private readonly deps: PushManagerDeps) {}

  start(): void {
    const now = Date.now();
    this.deps.config.forEach((item, index) => {
      const rule: PushRule = { id: `config-${index + 1}`, ...item, origin: 'config', createdAt: now, updatedAt: now };
      this.tryAdd(rule);
    });
    for (const record of this.deps.repo.list()) this.tryAdd({ ...record, origin: 'api' });
    // A stream is pushed where it is published, never from another worker's copy of it.
    this.offPublish = this.deps.registry.events.on('publish', (path, source) => source.kind !== INTERNAL_PULL_KIND && this.streamPublished(path));
  }

  /** Re-reads the API rules from the database (another worker changed them). */
  reload(): void {
    if (this.closed) return;
    const stored = new Map(this.deps.repo.list().map((r) => [r.id, r]));
    for (const [id, rule] of [...this.rules]) {
      if (rule.origin !== 'api') continue;
      const record = stored.get(id);
      if (!record || record.updatedAt !== rule.updatedAt) this.removeRule(id, record ? 'reconfigured' : 'push deleted');
    }
    for (const record of stored.values()) if (!this.rules.has(record.id)) this.tryAdd({ ...record, origin: 'api' });
  }

  list(): PushDto[] {
    return [...this.rules.values()].map((r) => this.toDto(r));
  }

  get(id: string): PushDto | undefined {
    const rule = this.rules.get(id);
    return rule ? this.toDto(rule) : undefined;
  }

  create(input: PushInput): PushDto {
    this.assertOpen();
    const now = Date.now();
    const rule: PushRule = {
      id: `ps${randomBytes(5).toString('hex')}`,
      path: input.path,
      url: input.url,
      keepSource: input.keepSource ?? false,
      hevc: input.hevc ?? 'enhanced',
      allowSelfSigned: input.allowSelfSigned ?? false,
      origin: 'api',
      createdAt: now,
      updatedAt: now,
    };
    validate(rule);
    this.deps.repo.insert(toRecord(rule));
    this.add(rule);
    return this.toDto(rule);
  }

  update(id: string, patch: PushPatchInput): PushDto {
    this.assertOpen();
    const old = this.mutable(id);
    const rule: PushRule = { ...old, ...definedOnly(patch), updatedAt: Date.now() };
    validate(rule);
    this.deps.repo.update(toRecord(rule));
    this.removeRule(id, 'reconfigured');
    this.add(rule);
    return this.toDto(rule);
  }

  remove(id: string): boolean {
    if (!this.rules.has(id)) return false;
    this.mutable(id);
    this.deps.repo.delete(id);
    this.removeRule(id, 'push deleted');
    return true;
  }

  close(): void {
    this.closed = true;
    this.offPublish?.();
    for (const id of [...this.rules.keys()]) this.removeRule(id, 'shutting down');
  }

  private changed(): void {
    this.events.emit('changed');
  }

  private tryAdd(rule: PushRule): void {
    try {
      validate(rule);
      this.add(rule);
    } catch (err) {
      this.deps.log.error({ push: rule.id, path: rule.path, target: maskRtmpUrl(rule.url), err: errorMessage(err) }, 'push not started');
    }
  }

  private add(rule: PushRule): void {
    this.rules.set(rule.id, rule);
    this.running.set(rule.id, new Map());
    this.changed();
    if (rule.keepSource)
      this.unplace.set(
        rule.id,
        runJob(this.deps.placement, rule.path, () => {
          this.run(rule, rule.path);
          return () => this.stopPush(rule.id, rule.path, 'its job moved to another worker');
        }),
      );
    for (const stream of this.deps.registry.list()) if (pathMatches(rule.path, stream.path) && stream.publisher?.kind !== INTERNAL_PULL_KIND) this.run(rule, stream.path);
  }

  private streamPublished(path: string): void {
    for (const rule of this.rules.values()) if (pathMatches(rule.path, path)) this.run(rule, path);
  }

  private run(rule: PushRule, path: string): void {
    const pushes = this.running.get(rule.id);
    if (!pushes || pushes.has(path) || this.closed) return;
    const push = new Push(
      { ruleId: rule.id, path, url: targetUrl(rule.url, path), hevc: rule.hevc, allowSelfSigned: rule.allowSelfSigned, keepSource: rule.keepSource },
      this.deps.settings,
      {
        registry: this.deps.registry,
        log: this.deps.log,
        onFinished: (p) => {
          if (pushes.get(path) === p && pushes.delete(path)) this.changed();
        },
        onChange: () => this.changed(),
      },
    );
    pushes.set(path, push);
    this.changed();
    push.start();
  }

  private stopPush(id: string, path: string, reason: string): void {
    const pushes = this.running.get(id);
    const push = pushes?.get(path);
    if (!push) return;
    pushes!.delete(path);
    push.stop(reason);
    this.changed();
  }

  private removeRule(id: string, reason: string): void {
    this.unplace.get(id)?.();
    this.unplace.delete(id);
    this.rules.delete(id);
    const pushes = this.running.get(id);
    this.running.delete(id);
    for (const push of pushes?.values() ?? []) push.stop(reason);
    this.changed();
  }

  private mutable(id: string): PushRule {
    const rule = this.rules.get(id);
    if (!rule) throw new GatewayError('NOT_FOUND', `push ${id} not found`);
    if (rule.origin === 'config') throw new GatewayError('BAD_REQUEST', `push ${id} is declared in the config file: change it there`);
    return rule;
  }

  private assertOpen(): void {
    if (this.closed) throw new GatewayError('CLOSED', 'the gateway is shutting down');
  }

  private toDto(rule: PushRule): PushDto {
    return {
      id: rule.id,
      path: rule.path,
      url: maskRtmpUrl(rule.url),
      keepSource: rule.keepSource,
      hevc: rule.hevc,
      allowSelfSigned: rule.allowSelfSigned,
      origin: rule.origin,
      createdAt: rule.createdAt,
      updatedAt: rule.updatedAt,
      pushes: [...(this.running.get(rule.id)?.values() ?? [])].map((p) => p.status()),
    };
  }
}

function validate(rule: PushRule): void {
  if (!PATH_PATTERN.test(rule.path)) throw new GatewayError('BAD_REQUEST', 'path must be app/stream (letters, digits, _ . - and * as a wildcard)');
  if (rule.keepSource && rule.path.includes('*')) throw new GatewayError('BAD_REQUEST', 'keepSource needs an exact path (no *): it pulls that one stream');
  if (!['enhanced', 'legacy', 'drop'].includes(rule.hevc)) throw new GatewayError('BAD_REQUEST', 'hevc must be enhanced, legacy or drop');
  parseRtmpUrl(targetUrl(rule.url, 'app/stream'));
}

function toRecord(rule: PushRule): PushRecord {
  const { origin: _origin, ...record } = rule;
  return record;
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
