import { ParseError } from './errors';

/** The shared budget was spent: the connection that asked is closed (its peer input is not logged). */
export class BudgetSpentError extends ParseError {}

/**
 * A byte budget shared by every connection of one protocol: memory held for messages that are
 * not complete yet (RTMP chunk streams, SIP over TCP). A connection takes bytes before it
 * buffers them and gives them back when the message completes or the connection closes, so
 * that many peers each sending half a message cannot hold more than `limit` together.
 */
export class ByteBudget {
  private usedBytes = 0;
  /** Takes refused since start (for /metrics). */
  refusals = 0;

  constructor(
    /** The name under which refusals are counted (`rtmp.partialBudget`). */
    readonly name: string,
    readonly limit: number,
    /** Called on each refusal (the owner logs it, rate-limited). */
    private readonly onRefused?: (budget: ByteBudget) => void,
  ) {}

  get used(): number {
    return this.usedBytes;
  }

  /** Reserves `bytes`; false (and counted) when that would go over the limit. */
  take(bytes: number): boolean {
    if (this.usedBytes + bytes > this.limit) {
      this.refusals++;
      this.onRefused?.(this);
      return false;
    }
    this.usedBytes += bytes;
    return true;
  }

  give(bytes: number): void {
    this.usedBytes = Math.max(0, this.usedBytes - bytes);
  }
}

/** Takes `bytes` or throws BudgetSpentError naming what the memory was for. */
export function takeOrThrow(budget: ByteBudget | undefined, bytes: number, what: string): void {
  if (budget && !budget.take(bytes)) throw new BudgetSpentError(`${what}: the gateway's budget of ${budget.limit} bytes (${budget.name}) is spent`);
}
