import { GatewayError } from '../../src/core/errors';
import { childOf, listOf, numberOf, textOf, type ManscdpMessage, type XmlValue } from './manscdp';

/**
 * RecordInfo: the recordings a device (NVR, camera with an SD card) holds for a channel. The
 * answer comes in several MESSAGEs with the query's SN, each with SumNum (the total) and a
 * RecordList; they are joined until SumNum items arrived, or `timeoutMs` passed (the result is
 * then said to be partial). GB times carry no zone: they are read and written in the gateway's
 * local time zone, as devices synced by the Date of our REGISTER answer use it.
 * Spec: GB/T 28181-2016 §9.7, §A.2.4.5 (query), §A.2.6.6 (answer)
 */
export type RecordType = 'all' | 'time' | 'alarm' | 'manual';
export const RECORD_TYPES: readonly RecordType[] = ['all', 'time', 'alarm', 'manual'];

export interface DeviceRecording {
  deviceId: string;
  name?: string;
  filePath?: string;
  address?: string;
  startMs: number;
  endMs: number;
  secrecy?: number;
  type?: string;
  recorderId?: string;
  fileSize?: number;
}

export interface RecordInfoResult {
  deviceId: string;
  channelId: string;
  sn: number;
  sumNum: number | undefined;
  /** Sorted by start time. */
  items: DeviceRecording[];
  /** Every announced item arrived. */
  complete: boolean;
  messages: number;
}

/** Most items kept from one answer. */
export const MAX_RECORD_ITEMS = 50_000;

/** `2026-12-01T10:00:00` in local time (what GB devices send and expect). */
export function gbTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A GB local time (`T` or space between date and time); undefined when unreadable. */
export function parseGbTime(text: string | undefined): number | undefined {
  const m = text ? /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})/.exec(text.trim()) : null;
  if (!m) return undefined;
  const [mo, d, h, mi, s] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = new Date(Number(m[1]), mo - 1, d, h, mi, s).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/** The fields of the RecordInfo query after CmdType/SN/DeviceID (DeviceID is the channel). */
export function recordInfoFields(startMs: number, endMs: number, type: RecordType): Record<string, string> {
  return { StartTime: gbTime(startMs), EndTime: gbTime(endMs), Secrecy: '0', Type: type };
}

function text(value: XmlValue | undefined): string | undefined {
  const t = textOf(value)?.trim();
  return t ? t.slice(0, 512) : undefined;
}

/** The items of one RecordInfo answer message; items without readable times are skipped. */
export function recordItems(message: ManscdpMessage): DeviceRecording[] {
  const out: DeviceRecording[] = [];
  for (const item of listOf(childOf(message.body.RecordList, 'Item'))) {
    const startMs = parseGbTime(text(item.StartTime));
    const endMs = parseGbTime(text(item.EndTime));
    if (startMs === undefined || endMs === undefined) continue;
    const size = numberOf(item.FileSize);
    const secrecy = numberOf(item.Secrecy);
    out.push({
      deviceId: text(item.DeviceID) ?? message.deviceId,
      name: text(item.Name),
      filePath: text(item.FilePath),
      address: text(item.Address),
      startMs,
      endMs,
      secrecy: secrecy !== undefined && Number.isInteger(secrecy) ? secrecy : undefined,
      type: text(item.Type),
      recorderId: text(item.RecorderID),
      fileSize: size !== undefined && size >= 0 ? size : undefined,
    });
  }
  return out;
}

interface Pending {
  channelId: string;
  sumNum: number | undefined;
  items: DeviceRecording[];
  messages: number;
  timer: NodeJS.Timeout;
  resolve: (result: RecordInfoResult) => void;
  reject: (err: Error) => void;
}

/** Joins multi-message RecordInfo answers by (device, SN). */
export class RecordInfoCollector {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly timeoutMs: number) {}

  expect(deviceId: string, channelId: string, sn: number): Promise<RecordInfoResult> {
    const key = `${deviceId}:${sn}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.timedOut(deviceId, sn), this.timeoutMs);
      this.pending.set(key, { channelId, sumNum: undefined, items: [], messages: 0, timer, resolve, reject });
    });
  }

  /** One answer message: true if it belonged to a query we sent. */
  add(deviceId: string, message: ManscdpMessage): boolean {
    const pending = this.pending.get(`${deviceId}:${message.sn}`);
    if (!pending) return false;
    pending.messages++;
    const sumNum = numberOf(message.body.SumNum);
    if (sumNum !== undefined && Number.isInteger(sumNum) && sumNum >= 0) pending.sumNum = sumNum;
    for (const item of recordItems(message)) if (pending.items.length < MAX_RECORD_ITEMS) pending.items.push(item);
    if (pending.sumNum !== undefined && pending.items.length >= pending.sumNum) this.finish(deviceId, message.sn);
    return true;
  }

  cancel(deviceId: string, sn: number, err: Error): void {
    const pending = this.pending.get(`${deviceId}:${sn}`);
    if (!pending) return;
    this.pending.delete(`${deviceId}:${sn}`);
    clearTimeout(pending.timer);
    pending.reject(err);
  }

  close(err: Error): void {
    for (const key of [...this.pending.keys()]) {
      const [deviceId, sn] = key.split(':');
      this.cancel(deviceId!, Number(sn), err);
    }
  }

  private timedOut(deviceId: string, sn: number): void {
    const pending = this.pending.get(`${deviceId}:${sn}`);
    if (!pending) return;
    if (pending.messages === 0) {
      this.cancel(
        deviceId,
        sn,
        new GatewayError('TIMEOUT', `device ${deviceId} sent no RecordInfo answer for channel ${pending.channelId} within ${Math.round(this.timeoutMs / 1000)} s`),
      );
      return;
    }
    this.finish(deviceId, sn);
  }

  private finish(deviceId: string, sn: number): void {
    const key = `${deviceId}:${sn}`;
    const pending = this.pending.get(key);
    if (!pending) return;
    this.pending.delete(key);
    clearTimeout(pending.timer);
    const items = pending.items.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
    pending.resolve({
      deviceId,
      channelId: pending.channelId,
      sn,
      sumNum: pending.sumNum,
      items,
      complete: pending.sumNum !== undefined && items.length >= pending.sumNum,
      messages: pending.messages,
    });
  }
}
