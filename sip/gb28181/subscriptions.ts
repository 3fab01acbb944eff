import { errorMessage } from '../../src/core/errors';
import type { Logger } from '../../src/core/log';
import type { SipResponse } from '../message';
import type { XmlFields } from './commands';

type Subscriber = (deviceId: string, sn: number, extra: XmlFields, headers: Record<string, unknown>) => Promise<SipResponse>;

interface Subscription {
  expiresAt: number;
  renewing: boolean;
}

/** The Alarm subscription's query body: every priority (1-4) and method (0: all). Spec: GB/T 28181-2016 §9.7.3, A.2.4.7. */
export const ALARM_SUBSCRIBE_QUERY: XmlFields = { StartAlarmPriority: '1', EndAlarmPriority: '4', AlarmMethod: '0' };

/**
 * Device subscriptions of one event (Catalog, Alarm): SUBSCRIBE after registration, renewed
 * before it expires; a device that refuses is not asked again until it registers anew.
 * Spec: GB/T 28181-2016 §9.7, §9.11; RFC 6665
 */
export class EventSubscriptions {
  private readonly active = new Map<string, Subscription>();
  private closed = false;

  constructor(
    private readonly expiresSec: number,
    private readonly send: Subscriber,
    private readonly nextSn: () => number,
    private readonly log: Logger,
    private readonly event: 'Catalog' | 'Alarm',
    private readonly query: XmlFields = {},
  ) {}

  async subscribe(deviceId: string, now = Date.now()): Promise<void> {
    if (this.expiresSec <= 0 || this.closed) return;
    const sn = this.nextSn();
    const entry = this.active.get(deviceId) ?? { expiresAt: now + this.expiresSec * 1000, renewing: false };
    entry.renewing = true;
    this.active.set(deviceId, entry);
    let response: SipResponse;
    try {
      response = await this.send(deviceId, sn, this.query, { event: `${this.event};id=${sn}`, expires: String(this.expiresSec) });
    } catch (err) {
      this.active.delete(deviceId);
      throw err;
    }
    entry.renewing = false;
    if (response.status >= 300) {
      this.active.delete(deviceId);
      this.log.info({ device: deviceId, status: response.status }, `device refused the ${this.event} subscription`);
      return;
    }
    const granted = Number(typeof response.headers.expires === 'string' ? response.headers.expires : this.expiresSec);
    entry.expiresAt = Date.now() + (Number.isFinite(granted) && granted > 0 ? granted : this.expiresSec) * 1000;
  }

  /** Renews subscriptions close to their expiry. */
  renew(now: number, online: readonly string[]): void {
    if (this.expiresSec <= 0) return;
    // A tenth of the lifetime (at least 30 s), but never more than half of it.
    const margin = Math.min(this.expiresSec * 500, Math.max(30_000, this.expiresSec * 100));
    for (const id of online) {
      const entry = this.active.get(id);
      if (!entry || entry.renewing || entry.expiresAt - now > margin) continue;
      this.subscribe(id, now).catch((err: unknown) => this.log.debug({ device: id, err: errorMessage(err) }, `${this.event} subscription renewal failed`));
    }
  }

  forget(deviceId: string): void {
    this.active.delete(deviceId);
  }

  close(): void {
    this.closed = true;
    this.active.clear();
  }
}

/** A device's two subscriptions, Catalog and Alarm, kept, renewed and forgotten together. */
export class DeviceSubscriptions {
  readonly catalog: EventSubscriptions;
  readonly alarm: EventSubscriptions;

  constructor(
    expires: { catalogSubscribeSec: number; alarmSubscribeSec: number },
    send: (deviceId: string, event: 'Catalog' | 'Alarm', sn: number, extra: XmlFields, headers: Record<string, unknown>) => Promise<SipResponse>,
    nextSn: () => number,
    log: Logger,
  ) {
    this.catalog = new EventSubscriptions(expires.catalogSubscribeSec, (id, sn, extra, headers) => send(id, 'Catalog', sn, extra, headers), nextSn, log, 'Catalog');
    this.alarm = new EventSubscriptions(expires.alarmSubscribeSec, (id, sn, extra, headers) => send(id, 'Alarm', sn, extra, headers), nextSn, log, 'Alarm', ALARM_SUBSCRIBE_QUERY);
  }

  renew(now: number, online: readonly string[]): void {
    this.catalog.renew(now, online);
    this.alarm.renew(now, online);
  }

  forget(deviceId: string): void {
    this.catalog.forget(deviceId);
    this.alarm.forget(deviceId);
  }

  close(): void {
    this.catalog.close();
    this.alarm.close();
  }
}
