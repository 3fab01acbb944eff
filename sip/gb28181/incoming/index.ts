import { errorMessage } from '../../../src/core/errors';
import { uriUser } from '../../message';
import type { IncomingRequest } from '../../stack';
import { remoteKey } from '../../transport';
import { isGbId } from '../ids';
import { parseManscdp, type ManscdpMessage } from '../manscdp';
import { alarmNotify } from './alarm';
import { catalogNotify } from './catalog';
import type { ManscdpContext, ManscdpHandler } from './context';
import { keepalive } from './keepalive';
import { mediaStatus } from './media-status';
import { queryResponse } from './response';

export type { ManscdpContext, ManscdpHandler, ManscdpRequest } from './context';

/**
 * The handler of each `Root/CmdType` a device sends; `Root/*` handles every CmdType of that root
 * without one of its own. A new CmdType is a new file beside this one and a line here.
 */
const HANDLERS: Readonly<Record<string, ManscdpHandler>> = {
  'Notify/Keepalive': keepalive,
  'Notify/Catalog': catalogNotify,
  'Notify/MediaStatus': mediaStatus,
  'Notify/Alarm': alarmNotify,
  'Response/*': queryResponse,
};

function handlerOf(message: ManscdpMessage): ManscdpHandler | undefined {
  return HANDLERS[`${message.root}/${message.cmdType}`] ?? HANDLERS[`${message.root}/*`];
}

/**
 * MESSAGE and NOTIFY from a device: keepalives (with NAT rebinding), answers to our queries,
 * catalog change notifications, media status, only from the host the device registered from.
 * Answered with 200 before the body is handled.
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
  if (session.remote.address !== incoming.remote.address) {
    // Not the registered host: neither liveness nor a move (a NAT rebinding keeps the IP; a new IP registers again).
    ctx.log.debug({ device: deviceId, registered: session.remote.address, from: remoteKey(incoming.remote) }, 'MESSAGE from another address than the registered one: 403');
    incoming.reply(403, 'Forbidden (not the registered address: REGISTER from it first)');
    return;
  }
  let message: ManscdpMessage;
  try {
    message = parseManscdp(request.content ?? Buffer.alloc(0));
  } catch (err) {
    incoming.reply(400, `Bad Request (${errorMessage(err).slice(0, 80)})`);
    return;
  }
  incoming.reply(200, 'OK');
  const handler = handlerOf(message);
  if (!handler) {
    ctx.log.debug({ device: deviceId, root: message.root, cmdType: message.cmdType }, 'MANSCDP message ignored');
    return;
  }
  try {
    handler({ deviceId, session, message, incoming, now }, ctx);
  } catch (err) {
    ctx.log.error({ err, device: deviceId, cmdType: message.cmdType }, 'handling a MANSCDP message failed');
  }
}
