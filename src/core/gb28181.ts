/**
 * The GB28181 device and catalog records, once for every layer that handles them: sip/gb28181
 * (registrar, catalog), storage/repos (devices, channels), src/api (their DTOs) and web/ (through
 * the API's types). Spec: GB/T 28181-2016 §9.5 (Catalog), Annex A (device fields).
 */

/**
 * How a device sends media: `udp`; `tcp-passive`, the device connects to our port; `tcp-active`,
 * we connect to the device. Spec: GB/T 28181-2016 §9.2.2, RFC 4145 (a=setup).
 */
export type StreamMode = 'udp' | 'tcp-passive' | 'tcp-active';
/** Every stream mode, for config validation, API schemas and the SQL check. */
export const STREAM_MODES: readonly StreamMode[] = ['udp', 'tcp-passive', 'tcp-active'];

/** The SIP transport a device registered over. */
export type SipTransportName = 'udp' | 'tcp';

/** A GB28181 device as stored: identity and settings, plus its last known registration state. */
export interface GbDevice {
  id: string;
  name: string | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  transport: SipTransportName;
  /** `ip:port` the device last sent from. */
  address: string | null;
  charset: string;
  streamMode: StreamMode;
  /** Per-device password; null: the global one. Never shown by the API. */
  password: string | null;
  noAuth: boolean;
  /** Created through the API (kept when it unregisters), not only by registering. */
  provisioned: boolean;
  online: boolean;
  callId: string | null;
  registeredAt: number | null;
  keepaliveAt: number | null;
  /** Registration lifetime the device asked for, seconds. */
  expires: number | null;
  heartbeatInterval: number | null;
  heartbeatCount: number | null;
  onlineAt: number | null;
  offlineAt: number | null;
  offlineReason: string | null;
  catalogAt: number | null;
  channelCount: number;
  createdAt: number;
  updatedAt: number;
}

/** The fields settable through the API or learned from the device. */
export type GbDevicePatch = Partial<Omit<GbDevice, 'id' | 'createdAt' | 'updatedAt' | 'channelCount'>>;

export type GbChannelKind = 'civil' | 'group' | 'org' | 'device';

/** One catalog entry as a device reports it (a channel, or a tree node: civil code, group). */
export interface GbCatalogItem {
  id: string;
  kind: GbChannelKind;
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
  /** Every field of the item as received. */
  raw: Record<string, unknown>;
}

/** A catalog entry as stored, under its device. */
export interface GbChannel extends GbCatalogItem {
  deviceId: string;
  /** No longer in the device's catalog (kept for history; not playable). */
  gone: boolean;
  createdAt: number;
  updatedAt: number;
}

/** Catalog notification events. Spec: GB/T 28181-2016 §9.5.3 (Event). */
export type GbCatalogEvent = 'ADD' | 'DEL' | 'UPDATE' | 'ON' | 'OFF' | 'VLOST' | 'DEFECT';

export interface GbCatalogDiff {
  added: number;
  updated: number;
  removed: number;
  /** Catalog entries live after the change. */
  total: number;
  removedIds: string[];
}

/**
 * A device alarm (Notify/Alarm) as read and as stored. Priority 1-4 (1 highest); method 1 phone,
 * 2 device, 3 SMS, 4 GPS, 5 video, 6 device fault, 7 other; type depends on the method. Times ms.
 * Spec: GB/T 28181-2016 §A.2.5.5
 */
export interface GbAlarmFields {
  deviceId: string;
  channelId: string;
  priority: number | null;
  method: number | null;
  type: number | null;
  /** When the device says it happened (its local time), else when it arrived. */
  alarmAt: number;
  receivedAt: number;
  description: string | null;
  longitude: number | null;
  latitude: number | null;
}
