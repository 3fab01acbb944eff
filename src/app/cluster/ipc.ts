/**
 * Request/response and events over a node:cluster IPC channel (the primary's `Worker` or a
 * worker's `process`). Every request carries an id and is answered once, or rejected after its
 * timeout or when the channel closes; a handler that throws answers with its message.
 */
import { GatewayError, errorMessage, type ErrorCode } from '../../core/errors';

/** The ends of a channel: `process` in a worker, a `cluster.Worker` in the primary. */
export interface IpcChannel {
  /** `false` is backpressure (the message is queued); a closed channel says so through `callback`. */
  send(message: unknown, callback?: (err: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

type Handler = (body: unknown) => unknown;

interface Request {
  readonly t: 'req';
  readonly id: number;
  readonly op: string;
  readonly body: unknown;
}
interface Response {
  readonly t: 'res';
  readonly id: number;
  readonly ok: boolean;
  readonly body?: unknown;
  readonly error?: { code: string; message: string };
}
interface Event {
  readonly t: 'ev';
  readonly op: string;
  readonly body: unknown;
}

function isMessage(value: unknown): value is Request | Response | Event {
  return typeof value === 'object' && value !== null && ['req', 'res', 'ev'].includes((value as { t?: unknown }).t as string);
}

export class IpcPeer {
  private sequence = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly handlers = new Map<string, Handler>();
  private readonly listeners = new Map<string, (body: unknown) => void>();
  private closed = false;
  private readonly onMessage = (message: unknown): void => this.receive(message);

  constructor(
    private readonly channel: IpcChannel,
    private readonly timeoutMs = 5000,
  ) {
    channel.on('message', this.onMessage);
  }

  /** Answers requests named `op`; the result (or a promise of it) goes back as the response. */
  handle(op: string, handler: Handler): void {
    this.handlers.set(op, handler);
  }

  /** Receives events named `op` (one listener per op). */
  onEvent(op: string, listener: (body: unknown) => void): void {
    this.listeners.set(op, listener);
  }

  request<T>(op: string, body: unknown = null, timeoutMs = this.timeoutMs): Promise<T> {
    if (this.closed) return Promise.reject(new GatewayError('UNAVAILABLE', `cluster ${op}: the channel is closed`));
    const id = ++this.sequence;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GatewayError('UNAVAILABLE', `cluster ${op}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      const failed = (): void => this.settle(id, new GatewayError('UNAVAILABLE', `cluster ${op}: the channel is closed`));
      if (!this.trySend({ t: 'req', id, op, body } satisfies Request, failed)) failed();
    });
  }

  emit(op: string, body: unknown = null): void {
    if (!this.closed) this.trySend({ t: 'ev', op, body } satisfies Event);
  }

  /** Rejects what is pending; nothing is sent or received afterwards. Idempotent. */
  close(reason = 'the channel closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.off('message', this.onMessage);
    for (const id of [...this.pending.keys()]) this.settle(id, new GatewayError('UNAVAILABLE', `cluster: ${reason}`));
  }

  /**
   * False only when the send threw. `send` returning false under load only means the message
   * waits in Node's queue (taking it for a closed channel failed requests that then ran anyway).
   */
  private trySend(message: Request | Response | Event, onError: () => void = () => undefined): boolean {
    try {
      this.channel.send(message, (err) => {
        if (err) onError();
      });
      return true;
    } catch {
      return false;
    }
  }

  private settle(id: number, err: Error | undefined, body?: unknown): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    if (err) entry.reject(err);
    else entry.resolve(body);
  }

  private receive(message: unknown): void {
    if (this.closed || !isMessage(message)) return;
    if (message.t === 'res') {
      const err = message.ok ? undefined : new GatewayError((message.error?.code ?? 'UNAVAILABLE') as ErrorCode, message.error?.message ?? 'failed');
      this.settle(message.id, err, message.body);
    } else if (message.t === 'ev') this.listeners.get(message.op)?.(message.body);
    else void this.answer(message);
  }

  private async answer(request: Request): Promise<void> {
    const handler = this.handlers.get(request.op);
    let response: Response;
    try {
      if (!handler) throw new GatewayError('BAD_REQUEST', `cluster: no handler for ${request.op}`);
      response = { t: 'res', id: request.id, ok: true, body: await handler(request.body) };
    } catch (err) {
      const code = err instanceof GatewayError ? err.code : 'INTERNAL';
      response = { t: 'res', id: request.id, ok: false, error: { code, message: errorMessage(err) } };
    }
    if (!this.closed) this.trySend(response);
  }
}
