import { decodeBody } from './charset';
import { isRequest, type SipMessage } from '../message';
import type { SipTraceEvent } from '../stack';
import { remoteKey } from '../transport';

/** One SIP message exchanged with a device, as GET /api/devices/{id}/sip-log shows it. */
export interface SipLogEntry {
  at: number;
  direction: 'in' | 'out';
  remote: string;
  transport: string;
  /** Request line or status line. */
  summary: string;
  /** The whole message, body decoded (or why it was dropped). */
  text: string;
}

/** Kept small: the wire bytes, not the parsed message (thousands of devices x tens of entries). */
interface StoredEntry {
  at: number;
  direction: 'in' | 'out';
  remote: string;
  transport: string;
  data: Buffer;
  malformed?: string;
  /** A note of ours (a device that bent the rules), not a message. */
  warning?: string;
  keepalive: boolean;
}

const MAX_TEXT = 4096;
/** Bytes kept of one message: more than is ever shown (MAX_TEXT), never a whole 1 MiB NOTIFY. */
const MAX_STORED = 8192;
/** Default byte budget of the whole log (sip.logBytes). */
export const DEFAULT_SIP_LOG_BYTES = 32 * 1024 * 1024;
const MAX_CALL_IDS = 50_000;
/** Devices with a log; beyond it the oldest device's log is dropped (ids sent by strangers included). */
const MAX_DEVICES = 20_000;

function isKeepaliveRequest(message: SipMessage): boolean {
  return isRequest(message) && message.method === 'MESSAGE' && message.content !== undefined && message.content.length < 400 && message.content.includes('Keepalive');
}

/** An exact-size copy: small Buffers are slices of shared 8 KB slabs that a kept slice would pin. */
function ownCopy(data: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(data.length);
  data.copy(copy);
  return copy;
}

/**
 * The last `size` SIP messages per device, kept as their wire bytes and rendered on request.
 * Consecutive keepalive exchanges are collapsed to the newest pair so that a device's log keeps
 * its registration and queries rather than hours of heartbeats.
 */
export class SipLog {
  private readonly entries = new Map<string, StoredEntry[]>();
  /** The Call-ID of each device's last keepalive, to recognise the 200 that answers it. */
  private readonly keepaliveCallIds = new Map<string, string>();
  private readonly callIds = new Map<string, string>();
  private bytes = 0;
  /** Device logs dropped to stay within the byte budget (for /metrics). */
  evictions = 0;

  constructor(
    private readonly size: number,
    private readonly maxBytes = DEFAULT_SIP_LOG_BYTES,
  ) {}

  /** Bytes held by every device's log. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Messages of this Call-ID belong to `deviceId` (INVITE To is the channel, not the device). */
  bindCallId(callId: string, deviceId: string): void {
    if (this.size <= 0) return;
    this.callIds.set(callId, deviceId);
    if (this.callIds.size > MAX_CALL_IDS) {
      const oldest = this.callIds.keys().next().value;
      if (oldest !== undefined) this.callIds.delete(oldest);
    }
  }

  record(event: SipTraceEvent): void {
    if (this.size <= 0) return;
    const deviceId = this.deviceOf(event);
    if (!deviceId) return;
    let list = this.entries.get(deviceId);
    if (!list) {
      if (this.entries.size >= MAX_DEVICES) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.forget(oldest);
      }
      this.entries.set(deviceId, (list = []));
    }
    const message = event.message;
    const callId = message?.headers['call-id'];
    let keepalive = false;
    if (message && isKeepaliveRequest(message)) {
      keepalive = true;
      this.keepaliveCallIds.set(deviceId, callId!);
    } else if (message && !isRequest(message)) {
      keepalive = this.keepaliveCallIds.get(deviceId) === callId;
    }
    if (keepalive && list.filter((e) => e.keepalive).length >= 2) {
      this.dropped(
        list.splice(
          list.findIndex((e) => e.keepalive),
          1,
        ),
      );
    }
    const data = ownCopy(event.data.subarray(0, MAX_STORED));
    list.push({ at: event.at, direction: event.direction, remote: remoteKey(event.remote), transport: event.remote.protocol, data, malformed: event.malformed?.reason, keepalive });
    this.bytes += data.length;
    if (list.length > this.size) this.dropped(list.splice(0, list.length - this.size));
    this.keepWithinBudget(deviceId);
  }

  /** The oldest devices' logs go first; the device just logged keeps its newest entries. */
  private keepWithinBudget(current: string): void {
    for (const id of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) return;
      if (id === current) continue;
      this.forget(id);
      this.evictions++;
    }
  }

  private dropped(entries: readonly StoredEntry[]): void {
    for (const entry of entries) this.bytes -= entry.data.length;
  }

  /** A warning about a device's behaviour, shown in its log between the messages. */
  note(deviceId: string, text: string): void {
    if (this.size <= 0) return;
    let list = this.entries.get(deviceId);
    if (!list) this.entries.set(deviceId, (list = []));
    list.push({ at: Date.now(), direction: 'in', remote: '', transport: '', data: Buffer.alloc(0), warning: text.slice(0, 500), keepalive: false });
    if (list.length > this.size) list.splice(0, list.length - this.size);
  }

  /** The newest `limit` entries of a device, oldest first. */
  get(deviceId: string, limit = this.size): SipLogEntry[] {
    const list = this.entries.get(deviceId) ?? [];
    return list.slice(-limit).map(render);
  }

  forget(deviceId: string): void {
    this.dropped(this.entries.get(deviceId) ?? []);
    this.entries.delete(deviceId);
    this.keepaliveCallIds.delete(deviceId);
  }

  private deviceOf(event: SipTraceEvent): string | undefined {
    const message = event.message;
    if (!message) return undefined;
    const bound = this.callIds.get(message.headers['call-id']);
    if (bound) return bound;
    // A request from a device names it in From; our requests name it in To.
    const addr = (event.direction === 'in') === isRequest(message) ? message.headers.from : message.headers.to;
    const user = addr ? /^sips?:(\d{20})@/.exec(addr.uri)?.[1] : undefined;
    return user;
  }
}

/**
 * The digest `response=` of Authorization headers becomes `***`: with the nonce beside it, it
 * would let anyone who reads the log guess the device password offline.
 */
export function maskDigestResponse(text: string): string {
  return text.replace(/(\bresponse\s*=\s*)("[^"\r\n]*"|[^,\s]+)/gi, '$1"***"');
}

function render(entry: StoredEntry): SipLogEntry {
  const base = { at: entry.at, direction: entry.direction, remote: entry.remote, transport: entry.transport };
  if (entry.warning !== undefined) return { ...base, summary: `warning: ${entry.warning}`, text: entry.warning };
  if (entry.malformed !== undefined) return { ...base, summary: `malformed: ${entry.malformed}`, text: maskDigestResponse(entry.data.toString('latin1')) };
  const end = entry.data.indexOf('\r\n\r\n');
  const head = maskDigestResponse(entry.data.subarray(0, end < 0 ? entry.data.length : end).toString('latin1'));
  const body = end < 0 ? '' : decodeBody(entry.data.subarray(end + 4)).text;
  const summary = head
    .slice(0, head.indexOf('\r\n') < 0 ? head.length : head.indexOf('\r\n'))
    .replace(/ SIP\/2\.0$/, '')
    .replace(/^SIP\/2\.0 /, '');
  const text = `${head}\r\n\r\n${body}`;
  return { ...base, summary, text: text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text };
}
