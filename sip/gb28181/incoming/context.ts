import type { GbCatalogDiff } from '../../../src/core/gb28181';
import type { Logger } from '../../../src/core/log';
import type { IncomingRequest } from '../../stack';
import type { GbAlarm } from '../alarms';
import type { ManscdpMessage } from '../manscdp';
import type { DeviceQueries } from '../queries';
import type { DeviceSession, DeviceSessions } from '../sessions';
import type { GbChannelStore, GbDeviceStore } from '../store';

/** What the MANSCDP handlers may use: the server's sessions, stores, queries and callbacks. */
export interface ManscdpContext {
  sessions: DeviceSessions;
  devices: GbDeviceStore;
  channels: GbChannelStore;
  queries: DeviceQueries;
  log: Logger;
  addressChanged(id: string, from: string, to: string): void;
  catalogChanged(id: string, diff: GbCatalogDiff): void;
  /** MediaStatus 121 from `deviceId`: ends the dialog `callId` if it is that device's. */
  mediaEnded(deviceId: string, callId: string): void;
  /** A device reported an alarm. */
  alarm(alarm: GbAlarm): void;
}

/** One MESSAGE or NOTIFY from a registered device, its body parsed (already answered 200). */
export interface ManscdpRequest {
  readonly deviceId: string;
  readonly session: DeviceSession;
  readonly message: ManscdpMessage;
  readonly incoming: IncomingRequest;
  /** Arrival time, ms since the epoch. */
  readonly now: number;
}

/** Handles one CmdType (a file of its own under incoming/). Throwing is logged, never fatal. */
export type ManscdpHandler = (request: ManscdpRequest, ctx: ManscdpContext) => void;
