import pino from 'pino';
import pretty from 'pino-pretty';
import type { GatewayConfig } from '../config/schema';
import { maskObject, maskSecrets } from '../core/redact';

/**
 * The one pino root of the process: JSON lines, or pretty output when stdout is a TTY (or when
 * asked). Components take `log.child({ component })`, sessions a child of that. Every line goes
 * through `maskObject`/`maskSecrets`: a password in a URL, a `?key=` or a `token=` never reaches
 * the log, whoever logged it.
 */
export function createRootLogger(config: GatewayConfig['log'], isTty = Boolean(process.stdout.isTTY), destination?: pino.DestinationStream): pino.Logger {
  const options: pino.LoggerOptions = {
    level: config.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      log: (object) => maskObject(object) as Record<string, unknown>,
      bindings: (bindings) => maskObject(bindings) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? maskSecrets(arg) : arg)) as Parameters<typeof method>);
      },
    },
  };
  if (destination) return pino(options, destination);
  const usePretty = config.pretty === 'yes' || (config.pretty === 'auto' && isTty);
  if (usePretty) return pino(options, pretty({ colorize: isTty, sync: true, translateTime: 'SYS:HH:MM:ss.l' }));
  return pino(options, pino.destination({ dest: 1, sync: false }));
}
