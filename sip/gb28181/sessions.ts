import type { SipRemote } from '../transport';
import type { DeviceCharset } from './charset';
import type { StreamMode } from '../../src/core/gb28181';

/** A registered (online) device as the signalling layer tracks it in memory. */
export interface DeviceSession {
  readonly id: string;
  /** Where requests to the device go: the source of its last REGISTER or keepalive. */
  remote: SipRemote;
  /** Contact URI of its REGISTER (a TCP device whose connection dropped is reached there). */
  contact: string | undefined;
  callId: string;
  registeredAt: number;
  /** Registration lifetime, s. */
  expires: number;
  lastKeepaliveAt: number;
  /** A keepalive came after the last REGISTER: the device is alive past its registration expiry. */
  keepaliveSinceRegister?: boolean;
  heartbeatInterval: number;
  heartbeatCount: number;
  charset: DeviceCharset;
  streamMode: StreamMode;
  /** Last time the keepalive time was written to storage (writes are throttled). */
  persistedKeepaliveAt: number;
}

export interface OfflineVerdict {
  id: string;
  reason: string;
}

/**
 * When a device is declared offline. Heartbeat interval x count without a keepalive always is.
 * The registration expiry (Expires not refreshed) is too, unless the device sent a keepalive
 * since its last REGISTER: many devices never refresh but keep their keepalives going (wvp keeps
 * them online the same way), so from then on only keepalive silence ends them.
 * Spec: GB/T 28181-2016 §9.6.1
 */
export function offlineDeadline(session: DeviceSession): { at: number; reason: string } {
  const expiry = session.registeredAt + session.expires * 1000;
  const silence = session.heartbeatInterval * session.heartbeatCount;
  const heartbeat = session.lastKeepaliveAt + silence * 1000;
  return heartbeat < expiry || session.keepaliveSinceRegister
    ? { at: heartbeat, reason: `no keepalive for ${silence} s (heartbeat ${session.heartbeatInterval} s x ${session.heartbeatCount})` }
    : { at: expiry, reason: `registration expired (Expires ${session.expires} s not refreshed, no keepalive since)` };
}

/** The online devices, by id. */
export class DeviceSessions {
  private readonly sessions = new Map<string, DeviceSession>();

  get(id: string): DeviceSession | undefined {
    return this.sessions.get(id);
  }

  set(session: DeviceSession): void {
    this.sessions.set(session.id, session);
  }

  delete(id: string): boolean {
    return this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  ids(): string[] {
    return [...this.sessions.keys()];
  }

  values(): IterableIterator<DeviceSession> {
    return this.sessions.values();
  }

  /** Devices past their deadline at `now` (removed from the set). */
  sweep(now: number): OfflineVerdict[] {
    const out: OfflineVerdict[] = [];
    for (const session of this.sessions.values()) {
      const deadline = offlineDeadline(session);
      if (now >= deadline.at) out.push({ id: session.id, reason: deadline.reason });
    }
    for (const verdict of out) this.sessions.delete(verdict.id);
    return out;
  }
}
