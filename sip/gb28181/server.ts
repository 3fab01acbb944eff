import { GatewayError, errorMessage } from '../../src/core/errors';
import { TypedEmitter } from '../../src/core/events';
import { SipCounters } from './counters';
import type { ByteBudget } from '../../src/core/budget';
import type { Logger } from '../../src/core/log';
import { SipStack, type IncomingRequest } from '../stack';
import { remoteKey } from '../transport';
import { storeCatalog, type CatalogResult } from './catalog';
import { basicParamOf, deviceInfoOf, deviceStatusOf, type DeviceInfo, type DeviceStatus } from './commands';
import type { GbServerConfig } from './config';
import { InviteClient, type Dialog, type GbDialogStore } from './invite';
import { DeviceCommands } from './device-commands';
import { DeviceQueries } from './queries';
import { Registrar } from './registrar';
import { DeviceSessions, type DeviceSession } from './sessions';
import { SipLog, type SipLogEntry } from './sip-log';
import type { GbCatalogDiff, StreamMode } from '../../src/core/gb28181';
import type { GbChannelStore, GbDeviceStore } from './store';
import { handleManscdpRequest } from './incoming/index';
import { isDeviceCharset } from './charset';
import { routeRequest } from './request-router';
import { restoreSessions } from './session-restore';
import type { GbAlarm, GbAlarmStore } from './alarms';
import { MANSRTSP_CONTENT_TYPE, mansrtspBody, type PlaybackControl } from './mansrtsp';
import { DeviceSubscriptions } from './subscriptions';
import { DeviceRequests } from './device-requests';

export interface GbServerEvents extends Record<string, unknown[]> {
  online: [deviceId: string];
  offline: [deviceId: string, reason: string];
  registered: [deviceId: string, first: boolean];
  catalog: [deviceId: string, diff: GbCatalogDiff & { complete: boolean }];
  addressChanged: [deviceId: string, from: string, to: string];
  dialogEnded: [dialog: Dialog, reason: string];
  /** MediaStatus 121: the device sent the whole playback or download of this dialog (its BYE follows at once). */
  mediaEnded: [callId: string];
  /** A device reported an alarm (stored: `id`); for the console, hooks and event recording. */
  alarm: [alarm: GbAlarm & { id: number | null }];
}

export interface GbServerOptions {
  host: string;
  port: number;
  /** Our address in Via/Contact. */
  advertisedHost: string;
  config: GbServerConfig;
  devices: GbDeviceStore;
  channels: GbChannelStore;
  log: Logger;
  /** Where open dialogs are kept, to BYE them after a restart (migration 005). */
  dialogs?: GbDialogStore;
  /** Where device alarms are stored (migration 005). */
  alarms?: GbAlarmStore;
  /** Shared budget for unfinished SIP-over-TCP messages (sip.tcpPartialBudget). */
  tcpBudget?: ByteBudget;
}

export interface PlayTarget {
  deviceId: string;
  channelId: string;
  mediaIp: string;
  mediaPort: number;
  mode: StreamMode;
  ssrc: string;
  sdp: Buffer;
}

/**
 * The GB28181 platform: registrar, keepalive/offline tracking, MANSCDP queries (DeviceInfo,
 * ConfigDownload, DeviceStatus, Catalog), catalog subscription, and INVITE dialogs for live play.
 */
export class GbServer {
  readonly events = new TypedEmitter<GbServerEvents>();
  readonly sessions = new DeviceSessions();
  /** Requests by kind and result, and our INVITEs by answer, for /metrics. */
  readonly counters = new SipCounters();
  /** Control commands, RecordInfo and PresetQuery. */
  readonly commands: DeviceCommands;
  private readonly stack: SipStack;
  private readonly requests: DeviceRequests;
  private readonly registrar: Registrar;
  private readonly queries: DeviceQueries;
  private readonly invites: InviteClient;
  private readonly subscriptions: DeviceSubscriptions;
  private readonly sipLog: SipLog;
  private readonly lastCatalog = new Map<string, number>();
  private mansrtspCseq = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: GbServerOptions) {
    const { config, log } = options;
    this.sipLog = new SipLog(config.sipLogSize, config.sipLogBytes);
    this.stack = new SipStack(
      {
        host: options.host,
        port: options.port,
        advertisedHost: options.advertisedHost,
        userAgent: 'gateway',
        log,
        onTrace: (e) => this.sipLog.record(e),
        tcpMaxBody: config.tcpMaxBody,
        ...(options.tcpBudget ? { tcpBudget: options.tcpBudget } : {}),
      },
      (incoming) => this.onRequest(this.counters.counting(incoming)),
    );
    this.requests = new DeviceRequests(this.stack, config, this.sipLog, (id) => this.requireOnline(id));
    this.registrar = new Registrar(
      config,
      options.devices,
      this.sessions,
      {
        registered: (session, first) => this.onRegistered(session, first),
        unregistered: (id, reason) => this.markOffline(id, reason),
      },
      log.child({ component: 'registrar' }),
    );
    this.queries = new DeviceQueries(
      (id, cmdType, sn, extra, target) => this.requests.manscdp(id, 'MESSAGE', cmdType, sn, extra, {}, target),
      config.queryTimeoutMs,
      config.catalogIdleMs,
      (r) => this.onCatalog(r),
      config.recordInfoTimeoutMs,
    );
    this.commands = new DeviceCommands(this.queries, (id) => void this.requireOnline(id));
    this.invites = new InviteClient(
      this.stack,
      { id: config.id, domain: config.domain },
      {
        ended: (d, reason) => this.events.emit('dialogEnded', d, reason),
        warn: (deviceId, _callId, text) => this.sipLog.note(deviceId, text),
        ...(options.dialogs ? { store: options.dialogs } : {}),
      },
      log.child({ component: 'invite' }),
    );
    this.subscriptions = new DeviceSubscriptions(
      config,
      (id, event, sn, extra, headers) => this.requests.manscdp(id, 'SUBSCRIBE', event, sn, extra, headers),
      () => this.queries.nextSn(),
      log,
    );
  }

  get port(): number {
    return this.stack.port;
  }

  get config(): GbServerConfig {
    return this.options.config;
  }

  async listen(): Promise<{ port: number }> {
    const bound = await this.stack.listen();
    const now = Date.now();
    for (const id of restoreSessions(this.options.devices, this.sessions, this.options.config, now)) this.lastCatalog.set(id, now);
    void this.invites
      .byeStale('left open by a gateway that stopped without hanging up (restart)')
      .catch((err: unknown) => this.options.log.warn({ err: errorMessage(err) }, 'BYE of stale dialogs failed'));
    this.sweepTimer = setInterval(() => this.sweep(Date.now()), this.options.config.sweepMs);
    return bound;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    await this.invites.close('gateway shutting down');
    this.queries.close();
    this.subscriptions.close();
    await this.stack.close();
  }

  session(id: string): DeviceSession | undefined {
    return this.sessions.get(id);
  }

  sipLogOf(id: string, limit?: number): SipLogEntry[] {
    return this.sipLog.get(id, limit);
  }

  stats(): { devicesOnline: number; dialogs: number } & ReturnType<SipStack['stats']> {
    return { devicesOnline: this.sessions.size, dialogs: this.invites.list().length, ...this.stack.stats() };
  }

  /** Refusals of the SIP bounds: TCP messages over the size cap, device logs dropped for the byte budget. */
  limitCounts(): { tooLarge: number; logEvictions: number } {
    return { tooLarge: this.stack.tooLargeCount, logEvictions: this.sipLog.evictions };
  }

  /** Applies changed settings (API PATCH) to an online device. */
  settingsChanged(id: string): void {
    const session = this.sessions.get(id);
    const record = this.options.devices.get(id);
    if (!session || !record) return;
    if (isDeviceCharset(record.charset)) session.charset = record.charset;
    session.streamMode = record.streamMode;
  }

  /** The device was deleted through the API: forget its session, log and ban. */
  forget(id: string): void {
    this.sessions.delete(id);
    this.sipLog.forget(id);
    this.registrar.unban(id);
    this.subscriptions.forget(id);
  }

  async refreshCatalog(id: string): Promise<CatalogResult> {
    this.requireOnline(id);
    this.lastCatalog.set(id, Date.now());
    return this.queries.catalog(id);
  }

  async deviceInfo(id: string): Promise<DeviceInfo> {
    this.requireOnline(id);
    const info = deviceInfoOf(await this.queries.query(id, 'DeviceInfo'));
    this.options.devices.set(id, { name: info.name, manufacturer: info.manufacturer, model: info.model, firmware: info.firmware });
    return info;
  }

  async deviceStatus(id: string): Promise<DeviceStatus> {
    this.requireOnline(id);
    return deviceStatusOf(await this.queries.query(id, 'DeviceStatus'));
  }

  /** ConfigDownload BasicParam: adopts the device's heartbeat interval and count. */
  async loadBasicParam(id: string): Promise<void> {
    this.requireOnline(id);
    const param = basicParamOf(await this.queries.query(id, 'ConfigDownload', { ConfigType: 'BasicParam' }));
    const session = this.sessions.get(id);
    if (!session || (!param.heartbeatInterval && !param.heartbeatCount)) return;
    session.heartbeatInterval = param.heartbeatInterval ?? session.heartbeatInterval;
    session.heartbeatCount = param.heartbeatCount ?? session.heartbeatCount;
    this.options.devices.set(id, { heartbeatInterval: session.heartbeatInterval, heartbeatCount: session.heartbeatCount });
  }

  /** INVITEs a channel for live video; resolves with the confirmed dialog. */
  async invite(target: PlayTarget, onCallId?: (callId: string) => void): Promise<Dialog> {
    const session = this.requireOnline(target.deviceId);
    const remote = this.requests.reachable(session);
    const dialog = this.invites.invite(
      { deviceId: target.deviceId, channelId: target.channelId, remote, requestUri: `sip:${target.channelId}@${remoteKey(session.remote)}` },
      { sdp: target.sdp, subject: `${target.channelId}:${target.ssrc},${this.options.config.id}:0`, timeoutMs: this.options.config.inviteTimeoutMs },
      (callId) => {
        this.sipLog.bindCallId(callId, target.deviceId);
        onCallId?.(callId);
      },
    );
    dialog.then(
      () => this.counters.add('invite', 'ok'),
      (err: unknown) => this.counters.add('invite', /answered [1-6]\d\d/.test(errorMessage(err)) ? 'refused' : 'failed'),
    );
    return dialog;
  }

  /** Playback control in a Playback dialog (INFO, Application/MANSRTSP); throws when the device refuses it. */
  async playbackControl(callId: string, control: PlaybackControl): Promise<void> {
    const dialog = this.invites.get(callId);
    if (!dialog) throw new GatewayError('SESSION_NOT_FOUND', `no dialog ${callId}`);
    const response = await this.invites.inDialog(callId, 'INFO', MANSRTSP_CONTENT_TYPE, mansrtspBody(control, ++this.mansrtspCseq));
    if (response.status === 408) throw new GatewayError('TIMEOUT', `device ${dialog.deviceId} did not answer the ${control.action} INFO`);
    if (response.status >= 300) throw new GatewayError('SOURCE_START_FAILED', `device ${dialog.deviceId} answered ${response.status} ${response.reason} to ${control.action}`);
  }

  /** IFameCmd: asks the channel for a keyframe now (sent when a live INVITE starts). */
  requestKeyframe(deviceId: string, channelId: string): void {
    this.commands
      .device(deviceId, channelId, { kind: 'iframe' })
      .catch((err: unknown) => this.options.log.debug({ device: deviceId, channel: channelId, err: errorMessage(err) }, 'IFameCmd not delivered'));
  }

  bye(callId: string, reason: string): Promise<void> {
    return this.invites.bye(callId, reason);
  }

  dialogs(): Dialog[] {
    return this.invites.list();
  }

  private requireOnline(id: string): DeviceSession {
    const session = this.sessions.get(id);
    if (!session) {
      const known = this.options.devices.get(id);
      throw new GatewayError(
        known ? 'DEVICE_OFFLINE' : 'DEVICE_NOT_FOUND',
        known ? `device ${id} is offline${known.offlineReason ? ` (${known.offlineReason})` : ''}` : `device ${id} is not known`,
      );
    }
    return session;
  }

  private onRequest(incoming: IncomingRequest): void {
    routeRequest(incoming, { registrar: this.registrar, invites: this.invites, manscdp: () => this.manscdpContext(), log: this.options.log });
  }

  private manscdpContext(): Parameters<typeof handleManscdpRequest>[1] {
    return {
      sessions: this.sessions,
      devices: this.options.devices,
      channels: this.options.channels,
      queries: this.queries,
      log: this.options.log,
      addressChanged: (id, from, to) => this.events.emit('addressChanged', id, from, to),
      catalogChanged: (id, diff) => this.events.emit('catalog', id, { ...diff, complete: false }),
      mediaEnded: (deviceId, callId) => {
        if (this.invites.get(callId)?.deviceId !== deviceId) return;
        this.events.emit('mediaEnded', callId);
        void this.invites.bye(callId, 'the device reported the end of the media (MediaStatus 121)');
      },
      alarm: (alarm) => this.onAlarm(alarm),
    };
  }

  /** Spec: GB/T 28181-2016 §9.4.2: the platform confirms an alarm with a Response, Result OK. */
  private onAlarm(alarm: GbAlarm): void {
    let id: number | null = null;
    try {
      id = this.options.alarms?.add(alarm) ?? null;
    } catch (err) {
      this.options.log.error({ err, device: alarm.deviceId }, 'storing an alarm failed');
    }
    this.options.log.info({ device: alarm.deviceId, channel: alarm.channelId, priority: alarm.priority, method: alarm.method, type: alarm.type, id }, 'device alarm');
    this.queries
      .answer(alarm.deviceId, 'Alarm', alarm.sn, { Result: 'OK' }, { targetId: alarm.channelId })
      .catch((err: unknown) => this.options.log.debug({ device: alarm.deviceId, err: errorMessage(err) }, 'alarm answer not delivered'));
    this.events.emit('alarm', { ...alarm, id });
  }

  private onRegistered(session: DeviceSession, first: boolean): void {
    this.events.emit('registered', session.id, first);
    if (!first) return;
    this.events.emit('online', session.id);
    void this.afterFirstRegistration(session.id);
  }

  /** DeviceInfo, ConfigDownload BasicParam, Catalog, then the catalog and alarm subscriptions. */
  private async afterFirstRegistration(id: string): Promise<void> {
    const log = this.options.log.child({ device: id });
    const steps: [string, () => Promise<unknown>][] = [
      ['DeviceInfo', () => this.deviceInfo(id)],
      ['ConfigDownload', () => this.loadBasicParam(id)],
      ['Catalog', () => this.refreshCatalog(id)],
      ['Catalog SUBSCRIBE', () => this.subscriptions.catalog.subscribe(id)],
      ['Alarm SUBSCRIBE', () => this.subscriptions.alarm.subscribe(id)],
    ];
    for (const [name, step] of steps) {
      if (this.closed || !this.sessions.get(id)) return;
      try {
        await step();
      } catch (err) {
        log.info({ err: errorMessage(err) }, `${name} after registration failed`);
      }
    }
  }

  private onCatalog(result: CatalogResult): void {
    const diff = storeCatalog(result, this.options);
    if (diff) this.events.emit('catalog', result.deviceId, { ...diff, complete: result.complete });
  }

  private markOffline(id: string, reason: string, now = Date.now()): void {
    this.sessions.delete(id);
    this.subscriptions.forget(id);
    this.options.devices.set(id, { online: false, offlineAt: now, offlineReason: reason });
    this.options.log.info({ device: id, reason }, 'device offline');
    this.events.emit('offline', id, reason);
    for (const dialog of this.invites.list()) if (dialog.deviceId === id) void this.invites.bye(dialog.callId, `device offline: ${reason}`);
  }

  private sweep(now: number): void {
    for (const verdict of this.sessions.sweep(now)) this.markOffline(verdict.id, verdict.reason, now);
    this.registrar.sweep(now);
    this.subscriptions.renew(now, this.sessions.ids());
    const refresh = this.options.config.catalogRefreshMs;
    if (refresh > 0) {
      for (const id of this.sessions.ids()) {
        const last = this.lastCatalog.get(id) ?? 0;
        if (now - last >= refresh) this.refreshCatalog(id).catch(() => undefined);
      }
    }
  }
}
