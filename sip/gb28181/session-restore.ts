import { isDeviceCharset } from './charset';
import type { GbServerConfig } from './config';
import type { DeviceSessions } from './sessions';
import type { GbDeviceStore } from './store';

/**
 * Devices still registered when the gateway stopped stay online (their keepalives keep coming);
 * those whose registration expired meanwhile are marked offline. Returns the ids restored.
 */
export function restoreSessions(
  devices: Pick<GbDeviceStore, 'listOnline' | 'set'>,
  sessions: DeviceSessions,
  config: Pick<GbServerConfig, 'heartbeatInterval' | 'heartbeatCount' | 'defaultCharset'>,
  now: number,
): string[] {
  const restored: string[] = [];
  for (const record of devices.listOnline()) {
    const expiresAt = (record.registeredAt ?? 0) + (record.expires ?? 0) * 1000;
    const [address, port] = splitAddress(record.address);
    if (expiresAt <= now || !address || !record.callId) {
      devices.set(record.id, { online: false, offlineAt: now, offlineReason: 'registration expired while the gateway was down' });
      continue;
    }
    sessions.set({
      id: record.id,
      remote: { protocol: record.transport, address, port },
      contact: undefined,
      callId: record.callId,
      registeredAt: record.registeredAt ?? now,
      expires: record.expires ?? 3600,
      lastKeepaliveAt: now,
      heartbeatInterval: record.heartbeatInterval ?? config.heartbeatInterval,
      heartbeatCount: record.heartbeatCount ?? config.heartbeatCount,
      charset: isDeviceCharset(record.charset) ? record.charset : config.defaultCharset,
      streamMode: record.streamMode,
      persistedKeepaliveAt: now,
    });
    restored.push(record.id);
  }
  return restored;
}

function splitAddress(address: string | null): [string | undefined, number] {
  const match = address ? /^(.*):(\d+)$/.exec(address) : null;
  return match ? [match[1], Number(match[2])] : [undefined, 0];
}
