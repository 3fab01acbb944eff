import type { Logger } from '../../src/core/log';
import type { IncomingRequest } from '../stack';
import { remoteKey } from '../transport';
import { handleManscdpRequest } from './incoming/index';
import type { InviteClient } from './invite';
import type { Registrar } from './registrar';

export interface RequestRoutes {
  readonly registrar: Pick<Registrar, 'handle'>;
  readonly invites: Pick<InviteClient, 'handleBye' | 'match'>;
  /** What MESSAGE and NOTIFY bodies are handled with (made per request: it reads the server's state). */
  readonly manscdp: () => Parameters<typeof handleManscdpRequest>[1];
  readonly log: Logger;
}

/** What GbServer does with each request a device sends, by method. Spec: GB/T 28181-2016 §9. */
export function routeRequest(incoming: IncomingRequest, routes: RequestRoutes): void {
  const { request } = incoming;
  switch (request.method) {
    case 'REGISTER':
      routes.registrar.handle(incoming);
      return;
    case 'MESSAGE':
    case 'NOTIFY':
      handleManscdpRequest(incoming, routes.manscdp());
      return;
    case 'BYE':
      if (!routes.invites.handleBye(incoming)) noDialog(incoming, routes.log);
      return;
    case 'OPTIONS':
      incoming.reply(200, 'OK');
      return;
    case 'INFO':
      if (routes.invites.match(incoming)) incoming.reply(200, 'OK');
      else noDialog(incoming, routes.log);
      return;
    case 'INVITE':
      // A re-INVITE (To tag) is answered only inside its dialog; we change no session either way.
      if (request.headers.to?.params.tag && !routes.invites.match(incoming)) noDialog(incoming, routes.log);
      else incoming.reply(488, 'Not Acceptable Here');
      return;
    case 'CANCEL':
      incoming.reply(481, 'Call/Transaction Does Not Exist');
      return;
    default:
      incoming.reply(405, 'Method Not Allowed', { headers: { allow: 'REGISTER, MESSAGE, NOTIFY, BYE, OPTIONS, INFO, ACK' } });
  }
}

/** An in-dialog request that matches no dialog of ours (or not from the device's address). */
function noDialog(incoming: IncomingRequest, log: Logger): void {
  log.debug({ method: incoming.request.method, remote: remoteKey(incoming.remote) }, 'in-dialog request matches no dialog: 481');
  incoming.reply(481, 'Call/Transaction Does Not Exist');
}
