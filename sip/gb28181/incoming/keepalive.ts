import { remoteKey } from '../../transport';
import type { ManscdpHandler } from './context';

/** Keepalive times are written to storage at most this often per device (the address at once). */
const KEEPALIVE_PERSIST_MS = 30_000;

/**
 * Notify/Keepalive: proves the device alive; one from a new port of its registered IP moves the
 * device there (NAT rebinding; another IP was refused before this). Spec: GB/T 28181-2016 §9.6.
 */
export const keepalive: ManscdpHandler = ({ session, incoming, now }, ctx) => {
  session.lastKeepaliveAt = now;
  session.keepaliveSinceRegister = true;
  const from = remoteKey(session.remote);
  const to = remoteKey(incoming.remote);
  const moved = from !== to || session.remote.protocol !== incoming.remote.protocol;
  if (moved) {
    session.remote = incoming.remote;
    ctx.log.info({ device: session.id, from, to }, 'device address changed (keepalive from a new address)');
  }
  if (moved || now - session.persistedKeepaliveAt >= KEEPALIVE_PERSIST_MS) {
    session.persistedKeepaliveAt = now;
    ctx.devices.set(session.id, { keepaliveAt: now, ...(moved ? { address: to, transport: incoming.remote.protocol } : {}) });
  }
  if (moved) ctx.addressChanged(session.id, from, to);
};
