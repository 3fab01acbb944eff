import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import { HOOK_SIGNATURE_HEADER, HOOK_TIMESTAMP_HEADER, signHookBody } from './signature';

/** How one hook call ended, as counted in `gateway_hook_calls_total{result}`. */
export type HookOutcome = 'ok' | 'timeout' | 'error' | 'dropped' | 'retried';

export interface HookClientOptions {
  /** One request's time limit, ms. */
  readonly timeoutMs: number;
  /** HMAC key; empty: bodies are sent unsigned. */
  readonly secret: string;
  /** Extra attempts for a notification that failed. */
  readonly retries: number;
  /** First retry delay, ms; it doubles per attempt. */
  readonly retryDelayMs: number;
  /** Notifications waiting to be sent; beyond this the newest is dropped and counted. */
  readonly queueSize: number;
  /** Notifications in flight at once. */
  readonly concurrency: number;
  /** Answer bodies larger than this are refused (a receiver cannot make us buffer a lot). */
  readonly maxAnswerBytes: number;
}

export const DEFAULT_HOOK_CLIENT: HookClientOptions = {
  timeoutMs: 3000,
  secret: '',
  retries: 2,
  retryDelayMs: 500,
  queueSize: 1000,
  concurrency: 4,
  maxAnswerBytes: 64 * 1024,
};

/** The parsed JSON answer of a receiver (an object), or why there is none. */
export type HookAnswer = { readonly ok: true; readonly body: Record<string, unknown> } | { readonly ok: false; readonly outcome: 'timeout' | 'error'; readonly reason: string };

interface Queued {
  readonly hook: string;
  readonly url: string;
  readonly body: string;
  attempt: number;
}

/**
 * Posts hook bodies as JSON. `call` is a request that the caller awaits (on_publish, on_play,
 * on_stream_not_found ...): one attempt within the timeout. `notify` is fire-and-forget: queued
 * (bounded), retried with backoff, dropped and counted when the queue is full, so a slow or dead
 * receiver costs a bounded amount of memory and never blocks a stream.
 */
export class HookClient {
  private readonly queue: Queued[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private running = 0;
  private closed = false;
  private droppedSinceLog = 0;
  private lastDropLog = 0;

  constructor(
    private readonly options: HookClientOptions,
    private readonly log: Logger,
    private readonly counted: (hook: string, outcome: HookOutcome) => void,
  ) {}

  /** Notifications waiting (not counting those in flight). */
  get queued(): number {
    return this.queue.length;
  }

  async call(hook: string, url: string, body: object): Promise<HookAnswer> {
    const answer = await this.post(hook, url, JSON.stringify(body));
    this.counted(hook, answer.ok ? 'ok' : answer.outcome);
    return answer;
  }

  notify(hook: string, url: string, body: object): void {
    if (this.closed) return;
    if (this.queue.length + this.timers.size >= this.options.queueSize) {
      this.dropped(hook);
      return;
    }
    this.queue.push({ hook, url, body: JSON.stringify(body), attempt: 0 });
    this.pump();
  }

  /** Drops what is queued, aborts what is in flight, clears retry timers. Idempotent. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const controller of this.inFlight) controller.abort();
  }

  private pump(): void {
    while (!this.closed && this.running < this.options.concurrency && this.queue.length > 0) {
      const item = this.queue.shift() as Queued;
      this.running++;
      void this.post(item.hook, item.url, item.body)
        .then((answer) => this.settled(item, answer))
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }

  private settled(item: Queued, answer: HookAnswer): void {
    if (answer.ok) {
      this.counted(item.hook, 'ok');
      return;
    }
    if (this.closed || item.attempt >= this.options.retries) {
      this.counted(item.hook, answer.outcome);
      this.log.warn({ hook: item.hook, attempts: item.attempt + 1, reason: answer.reason }, 'hook notification failed: given up');
      return;
    }
    this.counted(item.hook, 'retried');
    const delay = this.options.retryDelayMs * 2 ** item.attempt;
    item.attempt++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed) return;
      this.queue.push(item);
      this.pump();
    }, delay);
    this.timers.add(timer);
  }

  private dropped(hook: string): void {
    this.counted(hook, 'dropped');
    this.droppedSinceLog++;
    const now = Date.now();
    if (now - this.lastDropLog < 10_000) return;
    this.log.warn({ hook, dropped: this.droppedSinceLog, queueSize: this.options.queueSize }, 'hook queue full: notifications dropped');
    this.lastDropLog = now;
    this.droppedSinceLog = 0;
  }

  private async post(hook: string, url: string, body: string): Promise<HookAnswer> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = setTimeout(() => controller.abort(new Error('timeout')), this.options.timeoutMs);
    const timestamp = String(Date.now());
    const headers: Record<string, string> = { 'content-type': 'application/json', [HOOK_TIMESTAMP_HEADER]: timestamp, 'x-gateway-hook': hook };
    if (this.options.secret) headers[HOOK_SIGNATURE_HEADER] = signHookBody(this.options.secret, timestamp, body);
    try {
      const response = await fetch(url, { method: 'POST', headers, body, signal: controller.signal, redirect: 'error' });
      const text = await readLimited(response, this.options.maxAnswerBytes);
      if (response.status < 200 || response.status >= 300) return { ok: false, outcome: 'error', reason: `the hook receiver answered HTTP ${response.status}` };
      return { ok: true, body: parseAnswer(text) };
    } catch (err) {
      if (controller.signal.aborted) return { ok: false, outcome: 'timeout', reason: `the hook receiver did not answer within ${this.options.timeoutMs} ms` };
      return { ok: false, outcome: 'error', reason: `the hook receiver could not be reached (${describeFetchError(err)})` };
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }
}

/** An empty or non-JSON 2xx answer counts as `{}` (a plain notification receiver). */
function parseAnswer(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new Error(`answer larger than ${maxBytes} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The cause's code (ECONNREFUSED ...) rather than undici's generic "fetch failed". */
function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  return errorMessage(err).slice(0, 200);
}
