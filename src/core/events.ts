import { EventEmitter } from 'node:events';

/**
 * An EventEmitter whose event names and argument lists are checked by the compiler. A listener
 * that throws is reported to `onListenerError` (logged by the owner) and never reaches the
 * emitter's caller, nor stops the other listeners: `publish` is not broken by a bad hook.
 */
export class TypedEmitter<Events extends Record<string, unknown[]>> {
  private readonly emitter = new EventEmitter();

  constructor(private readonly onListenerError: (event: string, err: unknown) => void = () => undefined) {
    this.emitter.setMaxListeners(0);
  }

  on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): () => void {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return () => this.emitter.off(event, listener as (...args: unknown[]) => void);
  }

  once<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): void {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
  }

  emit<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    for (const listener of this.emitter.rawListeners(event) as ((...a: unknown[]) => void)[]) {
      try {
        listener(...args);
      } catch (err) {
        try {
          this.onListenerError(event, err);
        } catch {
          // the reporter itself failed: nothing more to do
        }
      }
    }
  }

  removeAllListeners(): void {
    this.emitter.removeAllListeners();
  }
}

/** The one event of a manager whose items have states (proxies, pushes): something `list()` returns changed. */
export interface ManagerEvents extends Record<string, unknown[]> {
  changed: [];
}
