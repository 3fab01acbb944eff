import type { GbCatalogEvent, GbCatalogItem } from '../../../src/core/gb28181';
import { catalogItems } from '../commands';
import type { ManscdpHandler } from './context';

/**
 * Notify/Catalog: catalog changes (ADD, DEL, UPDATE, ON, OFF, VLOST, DEFECT) of a subscription;
 * items without an Event are upserts. Spec: GB/T 28181-2016 §9.7.
 */
export const catalogNotify: ManscdpHandler = ({ deviceId, message }, ctx) => {
  const groups = new Map<GbCatalogEvent, GbCatalogItem[]>();
  for (const item of catalogItems(message)) {
    const event = item.event ?? 'UPDATE';
    const { event: _omit, ...rest } = item;
    void _omit;
    let list = groups.get(event);
    if (!list) groups.set(event, (list = []));
    list.push(rest);
  }
  for (const [event, items] of groups) {
    const diff = ctx.channels.applyEvent(deviceId, event, items);
    ctx.log.info({ device: deviceId, event, items: items.length }, 'catalog notification applied');
    ctx.catalogChanged(deviceId, diff);
  }
};
