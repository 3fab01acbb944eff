import type pino from 'pino';
import type { GatewayConfig } from '../../config/schema';
import { errorMessage } from '../../core/errors';
import { ClusterPrimary } from './primary';

/** main.ts with cluster.workers > 1: this process is the primary until a signal stops the workers. */
export async function runPrimary(workers: number, config: GatewayConfig, log: pino.Logger): Promise<void> {
  const primary = new ClusterPrimary({ workers, log: log.child({ component: 'cluster' }), stopTimeoutMs: (config.shutdown.timeout + 1) * 1000 });
  let signalled = false;
  const stop = (signal: string): void => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'cluster stopping');
    primary.stop().then(
      () => {
        log.info('cluster stopped');
        log.flush();
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => primary.signalWorkers('SIGHUP'));
  try {
    await primary.start();
  } catch (err) {
    log.fatal({ err }, `cluster failed to start: ${errorMessage(err)}`);
    await primary.stop();
    process.exit(1);
  }
}
