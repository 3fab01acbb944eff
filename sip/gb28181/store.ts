/**
 * What the GB28181 server needs from storage. storage/repos (DeviceRepo, ChannelRepo) satisfy
 * these structurally; the app passes them in (sip/ does not import storage/). The records
 * themselves are src/core/gb28181.ts.
 */
import type { GbCatalogDiff, GbCatalogEvent, GbCatalogItem, GbChannel, GbDevice, GbDevicePatch } from '../../src/core/gb28181';

export interface GbDeviceStore {
  get(id: string): GbDevice | undefined;
  listOnline(): GbDevice[];
  /** Creates or updates. */
  upsert(id: string, patch: GbDevicePatch): void;
  /** Updates an existing device (no-op if it is gone). */
  set(id: string, patch: GbDevicePatch): void;
}

export interface GbChannelStore {
  get(deviceId: string, id: string): GbChannel | undefined;
  applyCatalog(deviceId: string, items: readonly GbCatalogItem[], complete: boolean): GbCatalogDiff;
  applyEvent(deviceId: string, event: GbCatalogEvent, items: readonly GbCatalogItem[]): GbCatalogDiff;
}
