import type { AdmissionCheck, AdmissionRequest, AdmissionResult } from '../../core/admission';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Registry } from '../../hub/registry';
import { INTERNAL_PULL_KIND } from '../../core/source';
import { eventBody, peerBody, streamBody, type HookName, type StreamContext } from './bodies';
import type { HookClient } from './client';

/** What the hooks read of a device alarm. */
export interface GbAlarmEvent {
  readonly id: number | null;
  readonly deviceId: string;
  readonly channelId: string;
  readonly priority: number | null;
  readonly method: number | null;
  readonly type: number | null;
  readonly alarmAt: number;
  readonly description: string | null;
  readonly longitude: number | null;
  readonly latitude: number | null;
}

/** Pulls started by on_stream_not_found answers (RTSP proxies the manager keeps in memory only). */
export interface HookPulls {
  start(path: string, url: string): void;
  stop(path: string, reason: string): Promise<void>;
  has(path: string): boolean;
}

export interface WebhookSettings {
  readonly urls: Readonly<Partial<Record<HookName, string>>>;
  readonly serverId: string;
  /** on_publish / on_play receiver unreachable or late: true admits, false refuses. */
  readonly failOpen: boolean;
  /** on_server_keepalive period, ms (0: never). */
  readonly keepaliveMs: number;
  /** A stream without readers this long gets on_stream_none_reader (and hook pulls stop), ms. */
  readonly noneReaderDelayMs: number;
}

export interface WebhookDeps {
  readonly registry: Pick<Registry, 'events' | 'get' | 'kick' | 'readerCount' | 'hasOnDemandSource'>;
  readonly client: HookClient;
  readonly pulls?: HookPulls;
  /** Numbers for on_server_keepalive (in a cluster: over every worker). */
  readonly keepalive: () => Record<string, number> | Promise<Record<string, number>>;
  /**
   * This process speaks for the gateway in on_server_started and on_server_keepalive (a cluster:
   * only slot 1 does, so that a receiver hears one server, once). Default true.
   */
  readonly announcesServer?: boolean;
  readonly log: Logger;
}

const REASON_MAX = 200;

/**
 * ZLMediaKit's hook set on top of the hub: on_publish and on_play as one admission check,
 * stream up/down and no-reader notifications from the registry's events, on_stream_not_found
 * starting a pull, and notification entry points for devices, alarms, recordings and the server.
 */
export class Webhooks {
  private readonly schemas = new Map<string, string>();
  /** Streams published here by an internal pull (cluster): not announced, so not announced gone. */
  private readonly internalCopies = new Set<string>();
  private readonly noReaderTimers = new Map<string, NodeJS.Timeout>();
  private readonly notFoundPending = new Map<string, Promise<void>>();
  private readonly unsubscribe: (() => void)[] = [];
  private keepaliveTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: WebhookSettings,
    private readonly deps: WebhookDeps,
  ) {}

  /** Subscribes to the hub's events and starts on_server_keepalive. */
  attach(): void {
    const events = this.deps.registry.events;
    this.unsubscribe.push(
      // An internal pull (a stream another worker owns, copied here for viewers) is no event of
      // its own: the owner worker reports the stream once and counts this worker as one reader.
      events.on('publish', (path, source) => (source.kind === INTERNAL_PULL_KIND ? this.internalCopies.add(path) : this.streamUp(path, source.kind, source.remote))),
      events.on('streamEnd', (path, reason) => this.streamDown(path, reason)),
      events.on('readers', (path, count) => this.internalCopies.has(path) || this.readersChanged(path, count)),
    );
    if (this.settings.keepaliveMs > 0 && this.settings.urls.on_server_keepalive && this.announces) {
      this.keepaliveTimer = setInterval(() => void this.keepalive(), this.settings.keepaliveMs);
      this.keepaliveTimer.unref();
    }
  }

  /** The admission check: on_publish / on_play, then on_stream_not_found for a missing stream. */
  readonly check: AdmissionCheck = async (request) => {
    if (request.internal) return { allow: true };
    const hook: HookName = request.action === 'publish' ? 'on_publish' : 'on_play';
    const verdict = await this.ask(hook, request);
    if (!verdict.allow || request.action !== 'play') return verdict;
    await this.pullIfMissing(request);
    return verdict;
  };

  serverStarted(version: string, ports: Record<string, number>, startedAt: number): void {
    if (this.announces) this.notify('on_server_started', { version, ports, startedAt });
  }

  deviceOnline(deviceId: string, remote?: string): void {
    this.notify('on_device_online', remote ? { deviceId, remote } : { deviceId });
  }

  deviceOffline(deviceId: string, reason: string): void {
    this.notify('on_device_offline', { deviceId, reason });
  }

  /** A recorder's `segment` event. */
  recordSegment(segment: { path: string; format: string; file: string; startMs: number; endMs: number; bytes: number }): void {
    const { path, format, file, startMs, endMs, bytes } = segment;
    const [app = '', stream = ''] = path.split('/');
    this.notify('on_record_segment', { app, stream, path, format, file, startMs, endMs, durationMs: Math.max(0, endMs - startMs), bytes });
  }

  /** A GB28181 device alarm (the SIP server's `alarm` event); absent fields are left out. */
  alarm(alarm: GbAlarmEvent): void {
    const fields: Record<string, unknown> = {
      deviceId: alarm.deviceId,
      channelId: alarm.channelId,
      alarmId: alarm.id,
      priority: alarm.priority,
      method: alarm.method,
      alarmType: alarm.type,
      alarmTime: alarm.alarmAt,
      description: alarm.description,
      longitude: alarm.longitude,
      latitude: alarm.latitude,
    };
    this.notify('on_alarm', Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null && v !== undefined)));
  }

  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    for (const timer of this.noReaderTimers.values()) clearTimeout(timer);
    this.noReaderTimers.clear();
    clearInterval(this.keepaliveTimer);
  }

  private async ask(hook: 'on_publish' | 'on_play', request: AdmissionRequest): Promise<AdmissionResult> {
    const url = this.settings.urls[hook];
    if (!url) return { allow: true };
    const answer = await this.deps.client.call(hook, url, peerBody(hook, this.settings.serverId, request));
    if (!answer.ok) {
      this.deps.log.warn({ hook, path: request.path, reason: answer.reason, failOpen: this.settings.failOpen }, `${hook} hook failed`);
      return this.settings.failOpen ? { allow: true } : { allow: false, status: 'unavailable', reason: `${hook} hook failed: ${answer.reason}` };
    }
    if (answer.body.code === 0) return { allow: true };
    return { allow: false, status: 'forbidden', reason: cleanReason(answer.body.msg, `refused by the ${hook} hook`) };
  }

  /** on_stream_not_found: only for a path with no stream and no on-demand source of its own. */
  private async pullIfMissing(request: AdmissionRequest): Promise<void> {
    const url = this.settings.urls.on_stream_not_found;
    const { registry, pulls } = this.deps;
    if (!url || !pulls || registry.get(request.path) || registry.hasOnDemandSource(request.path) || pulls.has(request.path)) return;
    const pending = this.notFoundPending.get(request.path);
    if (pending) return pending;
    const asked = this.askForPull(url, request, pulls).finally(() => this.notFoundPending.delete(request.path));
    this.notFoundPending.set(request.path, asked);
    return asked;
  }

  private async askForPull(url: string, request: AdmissionRequest, pulls: HookPulls): Promise<void> {
    const answer = await this.deps.client.call('on_stream_not_found', url, peerBody('on_stream_not_found', this.settings.serverId, request));
    if (!answer.ok || answer.body.code !== 0 || typeof answer.body.url !== 'string') return;
    try {
      pulls.start(request.path, answer.body.url);
      this.armNoReader(request.path);
    } catch (err) {
      this.deps.log.warn({ path: request.path, err: errorMessage(err) }, 'on_stream_not_found answered a URL that cannot be pulled');
    }
  }

  private streamUp(path: string, protocol: string, remote?: string): void {
    this.internalCopies.delete(path);
    this.schemas.set(path, protocol);
    const body = streamBody('on_stream_changed', this.settings.serverId, { path, protocol });
    this.notifyBody('on_stream_changed', { ...body, regist: true, ...(remote ? { remote } : {}) });
  }

  private get announces(): boolean {
    return this.deps.announcesServer ?? true;
  }

  private async keepalive(): Promise<void> {
    try {
      this.notify('on_server_keepalive', await this.deps.keepalive());
    } catch (err) {
      this.deps.log.warn({ err: errorMessage(err) }, 'on_server_keepalive: the numbers could not be gathered');
    }
  }

  private streamDown(path: string, reason: string): void {
    if (this.internalCopies.delete(path)) return;
    const protocol = this.schemas.get(path) ?? 'unknown';
    this.schemas.delete(path);
    const body = streamBody('on_stream_changed', this.settings.serverId, { path, protocol });
    this.notifyBody('on_stream_changed', { ...body, regist: false, reason: reason.slice(0, REASON_MAX) });
  }

  private readersChanged(path: string, count: number): void {
    if (count > 0) {
      clearTimeout(this.noReaderTimers.get(path));
      this.noReaderTimers.delete(path);
      return;
    }
    if (this.deps.registry.get(path) || this.deps.pulls?.has(path)) this.armNoReader(path);
  }

  private armNoReader(path: string): void {
    if (this.noReaderTimers.has(path)) return;
    const timer = setTimeout(() => {
      this.noReaderTimers.delete(path);
      if (this.deps.registry.readerCount(path) === 0) void this.noReaders(path);
    }, this.settings.noneReaderDelayMs);
    this.noReaderTimers.set(path, timer);
  }

  /** Without an answer, a hook pull stops and a published stream stays (as without hooks). */
  private async noReaders(path: string): Promise<void> {
    const url = this.settings.urls.on_stream_none_reader;
    const hookPull = this.deps.pulls?.has(path) ?? false;
    let close = hookPull;
    if (url) {
      const context: StreamContext = { path, protocol: this.schemas.get(path) ?? (hookPull ? 'rtsp' : 'unknown') };
      const answer = await this.deps.client.call('on_stream_none_reader', url, streamBody('on_stream_none_reader', this.settings.serverId, context));
      if (answer.ok && typeof answer.body.close === 'boolean') close = answer.body.close;
    }
    if (!close || this.deps.registry.readerCount(path) > 0) return;
    this.deps.log.info({ path, hookPull }, 'stream without readers: closing');
    if (hookPull) await this.deps.pulls?.stop(path, 'no readers');
    else this.deps.registry.kick(path, 'closed by on_stream_none_reader');
  }

  private notify(hook: HookName, fields: Record<string, unknown>): void {
    this.notifyBody(hook, eventBody(hook, this.settings.serverId, fields));
  }

  private notifyBody(hook: HookName, body: Record<string, unknown>): void {
    const url = this.settings.urls[hook];
    if (url) this.deps.client.notify(hook, url, body);
  }
}

/** A receiver's reason goes back to a client: printable, short. */
function cleanReason(value: unknown, fallback: string): string {
  if (typeof value !== 'string') return fallback;
  const text = value
    .replace(/[^\x20-\x7e\u00a0-\uffff]/g, '')
    .trim()
    .slice(0, REASON_MAX);
  return text || fallback;
}
