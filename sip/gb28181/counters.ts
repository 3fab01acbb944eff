import type { IncomingRequest } from '../stack';

/** What `/metrics` shows of SIP: requests by kind and result, counted since start. */
export interface SipCount {
  readonly kind: string;
  readonly result: string;
  readonly count: number;
}

/** REGISTER, keepalive (a MESSAGE with CmdType Keepalive), other requests and our INVITEs, by result. */
export class SipCounters {
  private readonly counts = new Map<string, number>();

  add(kind: string, result: string): void {
    const key = `${kind}\u0000${result}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  list(): SipCount[] {
    return [...this.counts].map(([key, count]) => {
      const [kind = '', result = ''] = key.split('\u0000');
      return { kind, result, count };
    });
  }

  /** Counts the final answer the gateway gives to `incoming` (once, by its status). */
  counting(incoming: IncomingRequest): IncomingRequest {
    const kind = requestKind(incoming);
    let counted = false;
    return {
      request: incoming.request,
      remote: incoming.remote,
      reply: (status, reason, options) => {
        if (!counted && status >= 200) {
          counted = true;
          this.add(kind, resultOf(status));
        }
        incoming.reply(status, reason, options);
      },
    };
  }
}

const KEEPALIVE_MARK = '<CmdType>Keepalive</CmdType>';

function requestKind(incoming: IncomingRequest): string {
  const { method, content } = incoming.request;
  if (method === 'REGISTER') return 'register';
  if (method === 'MESSAGE' && content !== undefined && content.length < 4096 && content.toString('latin1').includes(KEEPALIVE_MARK)) return 'keepalive';
  return ['MESSAGE', 'NOTIFY', 'BYE'].includes(method) ? method.toLowerCase() : 'other';
}

/** 200 ok, 401 challenged, 403 refused, other 4xx bad, 5xx/6xx error. */
export function resultOf(status: number): string {
  if (status < 300) return 'ok';
  if (status === 401 || status === 407) return 'challenged';
  if (status === 403) return 'refused';
  if (status < 500) return 'bad';
  return 'error';
}
