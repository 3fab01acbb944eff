import { ByteBudget } from '../core/budget';
import { RateLimitedLog, type Logger } from '../core/log';

/**
 * Every named bound of the gateway that refuses something under load (a budget, a cap): its
 * refusals are counted for `/metrics` (`gateway_limit_refusals_total{limit}`) and logged at
 * most every 10 s per limit, never with the peer's bytes.
 */
export class Limits {
  private readonly counts = new Map<string, () => number>();
  private readonly logs = new Map<string, RateLimitedLog>();

  constructor(private readonly log: Logger) {}

  /** A shared byte budget whose refusals are counted and logged under `name`. */
  budget(name: string, limit: number): ByteBudget {
    const budget = new ByteBudget(name, limit, (b) => this.refusedLog(name).hit({ limit: name, bytes: b.limit, used: b.used }));
    this.counts.set(name, () => budget.refusals);
    return budget;
  }

  /** A counter for a cap enforced elsewhere: call the returned function on each refusal. */
  counter(name: string): (details?: object) => void {
    let count = 0;
    this.counts.set(name, () => count);
    return (details = {}) => {
      count++;
      this.refusedLog(name).hit({ limit: name, ...details });
    };
  }

  /** Adds a count kept by another component (it already logs its refusals). */
  track(name: string, read: () => number): void {
    this.counts.set(name, read);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].map(([name, read]) => [name, read()]));
  }

  private refusedLog(name: string): RateLimitedLog {
    let log = this.logs.get(name);
    if (!log) this.logs.set(name, (log = new RateLimitedLog(this.log.warn.bind(this.log), `limit reached: ${name}`, 10_000)));
    return log;
  }
}
