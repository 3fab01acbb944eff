import { errorMessage } from '../../src/core/errors';
import type { Logger } from '../../src/core/log';
import { uriUser } from '../message';
import type { IncomingRequest } from '../stack';
import { remoteKey } from '../transport';
import { catalogItems } from './commands';
import { isGbId } from './ids';
import { parseManscdp, textOf, type ManscdpMessage } from './manscdp';
import type { DeviceQueries } from './queries';
import type { DeviceSession, DeviceSessions } from './sessions';
import type { GbCatalogDiff, GbCatalogEvent, GbCatalogItem } from '../../src/core/gb28181';
import type { GbChannelStore, GbDeviceStore } from './store';

export interface ManscdpContext {
  sessions: DeviceSessions;
  devices: GbDeviceStore;
  channels: GbChannelStore;
  queries: DeviceQueries;
  log: Logger;
  addressChanged(id: string, from: string, to: string): void;
  catalogChanged(id: string, diff: GbCatalogDiff): void;
  mediaEnded(callId: string): void;
}

/** Keepalive times are written to storage at most this often per device (the address at once). */
const KEEPALIVE_PERSIST_MS = 30_000;

/**
 * MESSAGE and NOTIFY from a device: keepalives (with NAT rebinding), answers to our queries,
 * catalog change notifications. Answered with 200 before the body is processed.
 * Spec: GB/T 28181-2016 §9.6 (keepalive), §9.5 (queries), §9.7 (catalog subscription)
 */
export function handleManscdpRequest(incoming: IncomingRequest, ctx: ManscdpContext, now = Date.now()): void {
  const { request } = incoming;
  const deviceId = uriUser(request.headers.from);
  if (!deviceId || !isGbId(deviceId)) {
    incoming.reply(400, 'Bad Request (From is not a 20-digit GB28181 id)');
    return;
  }
  const session = ctx.sessions.get(deviceId);
  if (!session) {
    incoming.reply(403, 'Forbidden (device not registered)');
    return;
  }
  let message: ManscdpMessage;
  try {
    message = parseManscdp(request.content ?? Buffer.alloc(0));
  } catch (err) {
    incoming.reply(400, `Bad Request (${errorMessage(err).slice(0, 80)})`);
    return;
  }
  if (message.root === 'Notify' && message.cmdType === 'Keepalive') {
    keepalive(session, incoming, ctx, now);
    incoming.reply(200, 'OK');
    return;
  }
  incoming.reply(200, 'OK');
  try {
    if (message.root === 'Response') {
      if (!ctx.queries.handleResponse(deviceId, message)) ctx.log.debug({ device: deviceId, cmdType: message.cmdType, sn: message.sn }, 'unsolicited MANSCDP response');
    } else if (message.root === 'Notify' && message.cmdType === 'Catalog') {
      catalogNotify(deviceId, message, ctx);
    } else if (message.root === 'Notify' && message.cmdType === 'MediaStatus' && textOf(message.body.NotifyType) === '121') {
      ctx.mediaEnded(request.headers['call-id']);
    } else {
      ctx.log.debug({ device: deviceId, root: message.root, cmdType: message.cmdType }, 'MANSCDP message ignored');
    }
  } catch (err) {
    ctx.log.error({ err, device: deviceId, cmdType: message.cmdType }, 'handling a MANSCDP message failed');
  }
}

/** A keepalive proves the device alive; one from a new address moves the device there (NAT rebinding). */
function keepalive(session: DeviceSession, incoming: IncomingRequest, ctx: ManscdpContext, now: number): void {
  session.lastKeepaliveAt = now;
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
}

/** Catalog changes (ADD, DEL, UPDATE, ON, OFF, VLOST, DEFECT); items without an Event are upserts. */
function catalogNotify(deviceId: string, message: ManscdpMessage, ctx: ManscdpContext): void {
  const groups = new Map<GbCatalogEvent, GbCatalogItem[]>();
  for (const item of catalogItems(message)) {
    const event = item.event ?? 'UPDATE';
    const { event: _omit, ...rest } = item;
    void _omit;
    let list = groups.get(event);
    if (!list) groups.set(event, (list = []));
    list.push(rest);
  }
  for (const [event, items] of groups) {
    const diff = ctx.channels.applyEvent(deviceId, event, items);
    ctx.log.info({ device: deviceId, event, items: items.length }, 'catalog notification applied');
    ctx.catalogChanged(deviceId, diff);
  }
}
