import type { GbCatalogDiff, GbCatalogItem } from '../../src/core/gb28181';
import type { Logger } from '../../src/core/log';
import type { GbChannelStore, GbDeviceStore } from './store';

/** A Catalog answer put back together from its messages. */
export interface CatalogResult {
  deviceId: string;
  sn: number;
  /** SumNum the device announced (undefined if it never said). */
  sumNum: number | undefined;
  items: GbCatalogItem[];
  /** Every announced item arrived (count >= SumNum). */
  complete: boolean;
  messages: number;
}

interface Aggregate {
  deviceId: string;
  sn: number;
  sumNum: number | undefined;
  items: Map<string, GbCatalogItem>;
  messages: number;
  timer: NodeJS.Timeout | undefined;
  waiters: { resolve: (r: CatalogResult) => void; reject: (e: Error) => void }[];
}

/** Most items one device's answer may hold (a huge NVR is a few thousand). */
export const MAX_CATALOG_ITEMS = 100_000;

/**
 * Aggregates multi-message Catalog answers by (device, SN) until the item count reaches SumNum,
 * or no message came for `idleMs` (then the result is partial and nothing is deleted).
 * Spec: GB/T 28181-2016 §9.5.3
 */
export class CatalogCollector {
  private readonly aggregates = new Map<string, Aggregate>();

  constructor(
    private readonly idleMs: number,
    private readonly onResult: (result: CatalogResult) => void,
  ) {}

  /** Waits for the answer to a query we sent with `sn`. */
  expect(deviceId: string, sn: number): Promise<CatalogResult> {
    const aggregate = this.aggregate(deviceId, sn);
    return new Promise((resolve, reject) => aggregate.waiters.push({ resolve, reject }));
  }

  /** One Catalog answer message (also for SNs we did not ask: devices resend old ones). */
  add(deviceId: string, sn: number, sumNum: number | undefined, items: readonly GbCatalogItem[]): void {
    const aggregate = this.aggregate(deviceId, sn);
    aggregate.messages++;
    if (sumNum !== undefined) aggregate.sumNum = sumNum;
    for (const item of items) {
      if (aggregate.items.size >= MAX_CATALOG_ITEMS) break;
      aggregate.items.set(item.id, item);
    }
    if (aggregate.sumNum !== undefined && aggregate.items.size >= aggregate.sumNum) this.finish(aggregate);
    else this.arm(aggregate);
  }

  /** The query failed (the device refused it): the waiters get `err`. */
  cancel(deviceId: string, sn: number, err: Error): void {
    const aggregate = this.aggregates.get(`${deviceId}:${sn}`);
    if (!aggregate) return;
    this.drop(aggregate);
    for (const waiter of aggregate.waiters) waiter.reject(err);
  }

  get pending(): number {
    return this.aggregates.size;
  }

  close(err: Error): void {
    for (const aggregate of [...this.aggregates.values()]) this.cancel(aggregate.deviceId, aggregate.sn, err);
  }

  private aggregate(deviceId: string, sn: number): Aggregate {
    const key = `${deviceId}:${sn}`;
    let aggregate = this.aggregates.get(key);
    if (!aggregate) {
      aggregate = { deviceId, sn, sumNum: undefined, items: new Map(), messages: 0, timer: undefined, waiters: [] };
      this.aggregates.set(key, aggregate);
      this.arm(aggregate);
    }
    return aggregate;
  }

  private arm(aggregate: Aggregate): void {
    clearTimeout(aggregate.timer);
    aggregate.timer = setTimeout(() => {
      if (aggregate.messages === 0) {
        this.cancel(aggregate.deviceId, aggregate.sn, new Error(`no Catalog answer from device ${aggregate.deviceId} within ${this.idleMs} ms`));
      } else {
        this.finish(aggregate);
      }
    }, this.idleMs);
  }

  private drop(aggregate: Aggregate): void {
    clearTimeout(aggregate.timer);
    this.aggregates.delete(`${aggregate.deviceId}:${aggregate.sn}`);
  }

  private finish(aggregate: Aggregate): void {
    this.drop(aggregate);
    const result: CatalogResult = {
      deviceId: aggregate.deviceId,
      sn: aggregate.sn,
      sumNum: aggregate.sumNum,
      items: [...aggregate.items.values()],
      complete: aggregate.sumNum !== undefined && aggregate.items.size >= aggregate.sumNum,
      messages: aggregate.messages,
    };
    this.onResult(result);
    for (const waiter of aggregate.waiters) waiter.resolve(result);
  }
}

/** Writes a collected catalog to the stores and logs it; the diff, or undefined when storing failed (logged). */
export function storeCatalog(
  result: CatalogResult,
  deps: { channels: Pick<GbChannelStore, 'applyCatalog'>; devices: Pick<GbDeviceStore, 'set'>; log: Logger },
): GbCatalogDiff | undefined {
  try {
    const diff = deps.channels.applyCatalog(result.deviceId, result.items, result.complete);
    deps.devices.set(result.deviceId, { catalogAt: Date.now() });
    deps.log.info(
      {
        device: result.deviceId,
        sn: result.sn,
        sumNum: result.sumNum,
        messages: result.messages,
        complete: result.complete,
        added: diff.added,
        updated: diff.updated,
        removed: diff.removed,
      },
      'catalog stored',
    );
    return diff;
  } catch (err) {
    deps.log.error({ err, device: result.deviceId }, 'storing the catalog failed');
    return undefined;
  }
}
