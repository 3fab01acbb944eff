import type { ConsoleEvent, ConsoleEventType } from '../../src/api/dto';

type EventOf<K extends ConsoleEventType> = Extract<ConsoleEvent, { type: K }>;

/** The console's live channel (`GET /api/events`, Server-Sent Events; the browser reconnects by itself). */
export interface EventBus {
  /** Calls `fn` for each event of `type`; returns the function that stops it. */
  on<K extends ConsoleEventType>(type: K, fn: (event: EventOf<K>) => void): () => void;
  /** Calls `fn` each time the channel (re)opens: a page reloads what it may have missed. */
  onOpen(fn: () => void): () => void;
}

export class ServerEvents implements EventBus {
  private source: EventSource | undefined;
  private readonly handlers = new Map<string, Set<(event: ConsoleEvent) => void>>();
  private readonly openHandlers = new Set<() => void>();

  constructor(private readonly url = '/api/events') {}

  connect(): void {
    if (this.source) return;
    const source = new EventSource(this.url, { withCredentials: true });
    source.addEventListener('open', () => {
      for (const fn of this.openHandlers) fn();
    });
    this.source = source;
    for (const type of this.handlers.keys()) this.listen(type);
  }

  disconnect(): void {
    this.source?.close();
    this.source = undefined;
  }

  on<K extends ConsoleEventType>(type: K, fn: (event: EventOf<K>) => void): () => void {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
      this.listen(type);
    }
    const handler = fn as (event: ConsoleEvent) => void;
    set.add(handler);
    return () => set.delete(handler);
  }

  onOpen(fn: () => void): () => void {
    this.openHandlers.add(fn);
    return () => this.openHandlers.delete(fn);
  }

  private listen(type: string): void {
    this.source?.addEventListener(type, (message) => {
      let event: ConsoleEvent;
      try {
        event = JSON.parse((message as MessageEvent<string>).data) as ConsoleEvent;
      } catch {
        return;
      }
      for (const fn of this.handlers.get(type) ?? []) fn(event);
    });
  }
}
