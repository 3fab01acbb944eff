import pino from 'pino';
import pretty from 'pino-pretty';
import type { GatewayConfig } from '../config/schema';

/**
 * The one pino root of the process: JSON lines, or pretty output when stdout is a TTY (or when
 * asked). Components take `log.child({ component })`, sessions a child of that.
 */
export function createRootLogger(config: GatewayConfig['log'], isTty = Boolean(process.stdout.isTTY)): pino.Logger {
  const options: pino.LoggerOptions = { level: config.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  const usePretty = config.pretty === 'yes' || (config.pretty === 'auto' && isTty);
  if (usePretty) return pino(options, pretty({ colorize: isTty, sync: true, translateTime: 'SYS:HH:MM:ss.l' }));
  return pino(options, pino.destination({ dest: 1, sync: false }));
}
