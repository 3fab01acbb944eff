import { decodeBody } from './charset';
import { isRequest, serializeSipMessage, uriUser, type SipMessage } from '../message';
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

interface StoredEntry {
  event: SipTraceEvent;
  keepalive: boolean;
}

const MAX_TEXT = 4096;
const MAX_CALL_IDS = 50_000;
const MAX_DEVICES = 100_000;

function isKeepalive(message: SipMessage): boolean {
  if (message.headers.cseq.method !== 'MESSAGE') return false;
  if (!isRequest(message)) return true; // answers to MESSAGE: keepalive or query, collapsed with the keepalive rule below
  return message.content !== undefined && message.content.length < 400 && message.content.includes('Keepalive');
}

/**
 * The last `size` SIP messages per device, kept as the parsed messages and rendered on request.
 * Consecutive keepalive exchanges are collapsed to the newest pair so that a device's log keeps
 * its registration and queries rather than hours of heartbeats.
 */
export class SipLog {
  private readonly entries = new Map<string, StoredEntry[]>();
  private readonly callIds = new Map<string, string>();

  constructor(private readonly size: number) {}

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
      if (this.entries.size >= MAX_DEVICES) return;
      this.entries.set(deviceId, (list = []));
    }
    const keepalive = !!event.message && isKeepalive(event.message);
    if (keepalive && list.filter((e) => e.keepalive).length >= 2) {
      list.splice(list.findIndex((e) => e.keepalive), 1);
    }
    list.push({ event, keepalive });
    if (list.length > this.size) list.splice(0, list.length - this.size);
  }

  /** The newest `limit` entries of a device, oldest first. */
  get(deviceId: string, limit = this.size): SipLogEntry[] {
    const list = this.entries.get(deviceId) ?? [];
    return list.slice(-limit).map(({ event }) => render(event));
  }

  forget(deviceId: string): void {
    this.entries.delete(deviceId);
  }

  private deviceOf(event: SipTraceEvent): string | undefined {
    const message = event.message;
    if (!message) return undefined;
    const bound = this.callIds.get(message.headers['call-id']);
    if (bound) return bound;
    // A request from a device names it in From; our requests name it in To.
    const addr = (event.direction === 'in') === isRequest(message) ? message.headers.from : message.headers.to;
    const user = uriUser(addr);
    return user && /^\d{20}$/.test(user) ? user : undefined;
  }
}

function render(event: SipTraceEvent): SipLogEntry {
  const base = { at: event.at, direction: event.direction, remote: remoteKey(event.remote), transport: event.remote.protocol };
  if (!event.message) return { ...base, summary: `malformed: ${event.malformed?.reason ?? ''}`, text: event.malformed?.head ?? '' };
  const message = event.message;
  const summary = isRequest(message) ? `${message.method} ${message.uri}` : `${message.status} ${message.reason}`;
  const head = serializeSipMessage({ ...message, content: undefined }).toString('latin1').replace(/Content-Length: 0\r\n\r\n$/, '');
  const body = message.content?.length ? decodeBody(message.content).text : '';
  const text = `${head.trimEnd()}\r\n\r\n${body}`;
  return { ...base, summary, text: text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text };
}
