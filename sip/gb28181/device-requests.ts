import { parseUri, type SipResponse } from '../message';
import type { SipStack } from '../stack';
import { remoteKey, type SipRemote } from '../transport';
import { MANSCDP_CONTENT_TYPE, buildManscdp, type XmlFields } from './commands';
import type { ManscdpTarget } from './queries';
import type { DeviceSession } from './sessions';
import type { SipLog } from './sip-log';

/** Requests from the platform to an online device: MANSCDP bodies in the device's charset, sent where the device can be reached. */
export class DeviceRequests {
  constructor(
    private readonly stack: SipStack,
    private readonly platform: { id: string; domain: string },
    private readonly sipLog: SipLog,
    private readonly requireOnline: (id: string) => DeviceSession,
  ) {}

  manscdp(
    id: string,
    method: 'MESSAGE' | 'SUBSCRIBE',
    cmdType: string,
    sn: number,
    extra: XmlFields,
    headers: Record<string, unknown> = {},
    target: ManscdpTarget = {},
  ): Promise<SipResponse> {
    const session = this.requireOnline(id);
    const { id: platformId, domain } = this.platform;
    const request = this.stack.newRequest({
      method,
      uri: `sip:${id}@${remoteKey(session.remote)}`,
      from: { uri: `sip:${platformId}@${domain}`, params: {} },
      to: { uri: `sip:${id}@${domain}`, params: {} },
      contact: method === 'SUBSCRIBE',
      contentType: MANSCDP_CONTENT_TYPE,
      content: buildManscdp(target.root ?? 'Query', cmdType, sn, target.targetId ?? id, extra, session.charset),
      headers,
    });
    this.sipLog.bindCallId(request.headers['call-id'], id);
    return this.stack.request(request, this.reachable(session));
  }

  /** Requests go to the packet source; a TCP device whose connection dropped is reached at its Contact. */
  reachable(session: DeviceSession): SipRemote {
    if (session.remote.protocol === 'tcp' && !this.stack.hasConnection(session.remote) && session.contact) {
      const uri = parseUri(session.contact);
      if (uri) return { protocol: 'tcp', address: uri.host, port: uri.port ?? 5060 };
    }
    return session.remote;
  }
}
