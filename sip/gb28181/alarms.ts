import type { GbAlarmFields } from '../../src/core/gb28181';
import { childOf, numberOf, textOf, type ManscdpMessage, type XmlValue } from './manscdp';
import { parseGbTime } from './records';

/**
 * An alarm from a device (Notify/Alarm, by MESSAGE or NOTIFY); the body's DeviceID is the
 * alarming channel. `sn` is kept to answer it.
 * Spec: GB/T 28181-2016 §9.4, §A.2.5.5
 */
export interface GbAlarm extends GbAlarmFields {
  sn: number;
}

function small(value: XmlValue | undefined, max: number): number | null {
  const n = numberOf(value);
  return n !== undefined && Number.isInteger(n) && n >= 0 && n <= max ? n : null;
}

function coordinate(value: XmlValue | undefined, limit: number): number | null {
  const n = numberOf(value);
  return n !== undefined && Math.abs(n) <= limit ? n : null;
}

export function alarmOf(deviceId: string, message: ManscdpMessage, receivedAt: number): GbAlarm {
  const b = message.body;
  const description = textOf(b.AlarmDescription)?.trim();
  return {
    deviceId,
    channelId: message.deviceId || deviceId,
    priority: small(b.AlarmPriority, 9),
    method: small(b.AlarmMethod, 99),
    type: small(childOf(b.Info, 'AlarmType') ?? b.AlarmType, 999),
    alarmAt: parseGbTime(textOf(b.AlarmTime)) ?? receivedAt,
    receivedAt,
    description: description ? description.slice(0, 500) : null,
    longitude: coordinate(b.Longitude, 180),
    latitude: coordinate(b.Latitude, 90),
    sn: message.sn,
  };
}

/** Where alarms are kept (storage/repos/alarms.ts); returns the stored id. */
export interface GbAlarmStore {
  add(alarm: GbAlarm): number;
}
