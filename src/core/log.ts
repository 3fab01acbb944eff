/**
 * The logger shape every module takes. pino's Logger satisfies it; core stays free of the
 * dependency so that pure code and tests can pass any implementation.
 */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything: for pure unit tests. */
export function silentLogger(): Logger {
  const noop = (): void => undefined;
  const logger: Logger = {
    trace: noop,
    debug: noop,
    info: noop,
    warn: noop,
    error: noop,
    fatal: noop,
    child: () => logger,
  };
  return logger;
}

/** Counts repeated events and logs them at most once per `intervalMs` (never log per packet). */
export class RateLimitedLog {
  private count = 0;
  private lastLogAt = -Infinity;

  constructor(
    private readonly log: LogFn,
    private readonly message: string,
    private readonly intervalMs = 1000,
  ) {}

  hit(details: object = {}, now = performance.now()): void {
    this.count++;
    if (now - this.lastLogAt >= this.intervalMs) {
      this.log({ ...details, count: this.count }, this.message);
      this.lastLogAt = now;
      this.count = 0;
    }
  }
}
