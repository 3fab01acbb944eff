import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedHook {
  readonly hook: string;
  readonly headers: IncomingMessage['headers'];
  readonly raw: string;
  readonly body: Record<string, unknown>;
  readonly at: number;
}

/** How the receiver answers one hook: JSON after an optional delay; `hang` never answers. */
export type HookResponder = (body: Record<string, unknown>) => { status?: number; json?: unknown; delayMs?: number; hang?: boolean };

/**
 * A webhook receiver as a platform would run it: every POST /{hook} is recorded with its raw
 * body and headers, and answered by the responder set for that hook (default `{code: 0}`).
 */
export class HookReceiver {
  readonly received: ReceivedHook[] = [];
  private readonly responders = new Map<string, HookResponder>();
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  port = 0;

  constructor() {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(hook: string): string {
    return `http://127.0.0.1:${this.port}/${hook}`;
  }

  respond(hook: string, responder: HookResponder): void {
    this.responders.set(hook, responder);
  }

  of(hook: string): ReceivedHook[] {
    return this.received.filter((r) => r.hook === hook);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const hook = (req.url ?? '/').slice(1);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        body = {};
      }
      this.received.push({ hook, headers: req.headers, raw, body, at: Date.now() });
      const responder: HookResponder = this.responders.get(hook) ?? (() => ({ json: { code: 0, msg: 'success' } }));
      const answer = responder(body);
      if (answer.hang) return;
      const send = (): void => {
        if (res.destroyed) return;
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.json ?? { code: 0 }));
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
      else send();
    });
  }
}
