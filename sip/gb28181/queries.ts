import { GatewayError } from '../../src/core/errors';
import type { SipResponse } from '../message';
import { CatalogCollector, type CatalogResult } from './catalog';
import type { ManscdpMessage } from './manscdp';
import { catalogItems, sumNumOf, type XmlFields } from './commands';
import { RecordInfoCollector, type RecordInfoResult } from './records';

/** Root element and DeviceID of a request that is not a plain Query of the device itself. */
export interface ManscdpTarget {
  root?: 'Query' | 'Control' | 'Response';
  /** DeviceID in the body (a channel); default the device. */
  targetId?: string;
}

/** Sends one MANSCDP request (MESSAGE or SUBSCRIBE) to a device; resolves with its SIP answer. */
export type ManscdpSender = (deviceId: string, cmdType: string, sn: number, extra: XmlFields, target?: ManscdpTarget) => Promise<SipResponse>;

interface PendingQuery {
  resolve: (message: ManscdpMessage) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Queries to devices and their answers, correlated by (device, CmdType, SN): the device first
 * answers the MESSAGE with 200, then sends its answer in a MESSAGE of its own. Catalog answers
 * are aggregated by the collector.
 * Spec: GB/T 28181-2016 §9.5
 */
export class DeviceQueries {
  private readonly pending = new Map<string, PendingQuery>();
  private readonly collector: CatalogCollector;
  private readonly records: RecordInfoCollector;
  private sn: number;

  constructor(
    private readonly send: ManscdpSender,
    private readonly timeoutMs: number,
    catalogIdleMs: number,
    onCatalog: (result: CatalogResult) => void,
    recordInfoTimeoutMs = 15_000,
  ) {
    this.collector = new CatalogCollector(catalogIdleMs, onCatalog);
    this.records = new RecordInfoCollector(recordInfoTimeoutMs);
    this.sn = 1 + Math.floor(Math.random() * 100_000);
  }

  nextSn(): number {
    this.sn = this.sn >= 2_000_000_000 ? 1 : this.sn + 1;
    return this.sn;
  }

  /** Sends a Query and waits for the device's Response with the same SN. */
  query(deviceId: string, cmdType: string, extra: XmlFields = {}, target?: ManscdpTarget): Promise<ManscdpMessage> {
    const sn = this.nextSn();
    const key = `${deviceId}:${cmdType}:${sn}`;
    const answer = new Promise<ManscdpMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(new GatewayError('TIMEOUT', `no ${cmdType} answer from device ${deviceId} within ${Math.round(this.timeoutMs / 1000)} s`));
      }, this.timeoutMs);
      this.pending.set(key, { resolve, reject, timer });
    });
    answer.catch(() => undefined);
    // The device's 200 to the MESSAGE and its answer race; a refusal fails the query at once.
    Promise.resolve()
      .then(() => this.send(deviceId, cmdType, sn, extra, target))
      .then(
        (response) => this.checkSent(deviceId, cmdType, response).catch((err: Error) => this.settle(key, undefined, err)),
        (err: Error) => this.settle(key, undefined, err),
      );
    return answer;
  }

  /** Sends a Catalog query and waits for the whole (possibly multi-message) answer. */
  catalog(deviceId: string): Promise<CatalogResult> {
    const sn = this.nextSn();
    const result = this.collector.expect(deviceId, sn);
    result.catch(() => undefined);
    Promise.resolve()
      .then(() => this.send(deviceId, 'Catalog', sn, {}))
      .then(
        (response) => this.checkSent(deviceId, 'Catalog', response).catch((err: Error) => this.collector.cancel(deviceId, sn, err)),
        (err: Error) => this.collector.cancel(deviceId, sn, err),
      );
    return result;
  }

  /** Sends a request the device only answers with the 200 of the MESSAGE (PTZ, TeleBoot). */
  async command(deviceId: string, cmdType: string, extra: XmlFields, target: ManscdpTarget): Promise<void> {
    const response = await this.send(deviceId, cmdType, this.nextSn(), extra, target);
    if (response.status === 408) throw new GatewayError('TIMEOUT', `device ${deviceId} did not answer the ${cmdType} MESSAGE`);
    if (response.status >= 300) throw new GatewayError('SOURCE_START_FAILED', `device ${deviceId} answered ${response.status} ${response.reason} to ${cmdType}`);
  }

  /** Answers a device's notification (Response with its SN); failures are only logged by the caller. */
  async answer(deviceId: string, cmdType: string, sn: number, extra: XmlFields, target: ManscdpTarget): Promise<void> {
    await this.send(deviceId, cmdType, sn, extra, { ...target, root: 'Response' });
  }

  /** Sends a RecordInfo query for a channel and joins its (multi-message) answer. */
  recordInfo(deviceId: string, channelId: string, extra: XmlFields): Promise<RecordInfoResult> {
    const sn = this.nextSn();
    const result = this.records.expect(deviceId, channelId, sn);
    result.catch(() => undefined);
    Promise.resolve()
      .then(() => this.send(deviceId, 'RecordInfo', sn, extra, { targetId: channelId }))
      .then(
        (response) => this.checkSent(deviceId, 'RecordInfo', response).catch((err: Error) => this.records.cancel(deviceId, sn, err)),
        (err: Error) => this.records.cancel(deviceId, sn, err),
      );
    return result;
  }

  /** A Response MESSAGE from a device: true if it answered one of our queries (or is a Catalog part). */
  handleResponse(deviceId: string, message: ManscdpMessage): boolean {
    if (message.cmdType === 'Catalog') {
      this.collector.add(deviceId, message.sn, sumNumOf(message), catalogItems(message));
      return true;
    }
    if (message.cmdType === 'RecordInfo') return this.records.add(deviceId, message);
    return this.settle(`${deviceId}:${message.cmdType}:${message.sn}`, message);
  }

  close(): void {
    const err = new GatewayError('CLOSED', 'the SIP server is shutting down');
    for (const key of [...this.pending.keys()]) this.settle(key, undefined, err);
    this.collector.close(err);
    this.records.close(err);
  }

  private async checkSent(deviceId: string, cmdType: string, response: SipResponse): Promise<void> {
    if (response.status >= 300) {
      throw new GatewayError('SOURCE_START_FAILED', `device ${deviceId} answered ${response.status} ${response.reason} to the ${cmdType} query`);
    }
  }

  private settle(key: string, message: ManscdpMessage | undefined, err?: Error): boolean {
    const pending = this.pending.get(key);
    if (!pending) return false;
    this.pending.delete(key);
    clearTimeout(pending.timer);
    if (message) pending.resolve(message);
    else pending.reject(err ?? new Error('query failed'));
    return true;
  }
}
