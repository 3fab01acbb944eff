/**
 * What the GB28181 server needs from storage. storage/repos (DeviceRepo, ChannelRepo) satisfy
 * these structurally; the app passes them in (sip/ does not import storage/).
 */
export type StreamMode = 'udp' | 'tcp-passive' | 'tcp-active';
export const STREAM_MODES: readonly StreamMode[] = ['udp', 'tcp-passive', 'tcp-active'];

export interface GbDevice {
  id: string;
  name: string | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  transport: 'udp' | 'tcp';
  address: string | null;
  charset: string;
  streamMode: StreamMode;
  password: string | null;
  noAuth: boolean;
  provisioned: boolean;
  online: boolean;
  callId: string | null;
  registeredAt: number | null;
  keepaliveAt: number | null;
  expires: number | null;
  heartbeatInterval: number | null;
  heartbeatCount: number | null;
  onlineAt: number | null;
  offlineAt: number | null;
  offlineReason: string | null;
  catalogAt: number | null;
  channelCount: number;
}

export type GbDevicePatch = Partial<Omit<GbDevice, 'id' | 'channelCount'>>;

export interface GbCatalogItem {
  id: string;
  kind: 'civil' | 'group' | 'org' | 'device';
  name?: string;
  parentId?: string;
  civilCode?: string;
  businessGroupId?: string;
  manufacturer?: string;
  model?: string;
  owner?: string;
  address?: string;
  ipAddress?: string;
  port?: number;
  status?: string;
  online: boolean;
  ptzType?: number;
  longitude?: number;
  latitude?: number;
  raw: Record<string, unknown>;
}

export type GbCatalogEvent = 'ADD' | 'DEL' | 'UPDATE' | 'ON' | 'OFF' | 'VLOST' | 'DEFECT';

export interface GbCatalogDiff {
  added: number;
  updated: number;
  removed: number;
  total: number;
  removedIds: string[];
}

export interface GbDeviceStore {
  get(id: string): GbDevice | undefined;
  listOnline(): GbDevice[];
  /** Creates or updates. */
  upsert(id: string, patch: GbDevicePatch): void;
  /** Updates an existing device (no-op if it is gone). */
  set(id: string, patch: GbDevicePatch): void;
}

export interface GbChannelStore {
  get(deviceId: string, id: string): (GbCatalogItem & { gone: boolean }) | undefined;
  applyCatalog(deviceId: string, items: readonly GbCatalogItem[], complete: boolean): GbCatalogDiff;
  applyEvent(deviceId: string, event: GbCatalogEvent, items: readonly GbCatalogItem[]): GbCatalogDiff;
}
