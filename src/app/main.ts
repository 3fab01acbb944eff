import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/load';
import { GatewayError, errorMessage } from '../core/errors';
import { createRootLogger } from './logger';
import { buildGateway } from './build';
import { secretsNotice } from './access/secrets';
import { clusterEnvOf, workerConfig, workerCount } from './cluster/env';
import { ClusterWorker } from './cluster/worker';
import { runPrimary } from './cluster/launch';
import { applyV8Settings } from './v8-settings';

const ROOT = join(__dirname, '..', '..', '..');

function parseArgs(argv: string[]): { configFile?: string } {
  const out: { configFile?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config' && argv[i + 1]) out.configFile = resolve(argv[++i]!);
    else if (arg.startsWith('--config=')) out.configFile = resolve(arg.slice('--config='.length));
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: node dist/src/app/main.js [--config FILE]\n  FILE is YAML merged over conf/default.yaml; GW_* variables override single keys.\n');
      process.exit(0);
    } else throw new GatewayError('CONFIG_INVALID', `unknown argument ${arg} (usage: [--config FILE])`);
  }
  return out;
}

async function main(): Promise<void> {
  let config;
  try {
    const args = parseArgs(process.argv.slice(2));
    config = loadConfig({ defaultsFile: join(ROOT, 'conf', 'default.yaml'), configFile: args.configFile, env: process.env });
  } catch (err) {
    process.stderr.write(`gateway: ${errorMessage(err)}\n`);
    process.exit(1);
  }
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  applyV8Settings(config.v8);
  const log = createRootLogger(config.log);
  const workers = workerCount(config);
  if (workers > 1 && cluster.isPrimary) return runPrimary(workers, config, log);
  const clusterEnv = clusterEnvOf(process.env);
  const worker = clusterEnv && new ClusterWorker(clusterEnv, log.child({ component: 'cluster', slot: clusterEnv.slot }), config.sip.enabled);
  let gateway;
  try {
    gateway = await buildGateway(clusterEnv ? workerConfig(config, clusterEnv) : config, log, version, worker);
  } catch (err) {
    // A TLS file that cannot be read is a configuration error: said on stderr like the others.
    process.stderr.write(`gateway: ${errorMessage(err)}\n`);
    log.flush();
    process.exit(1);
  }
  await worker?.attach(gateway);

  let signalled = false;
  const shutdown = (signal: string): void => {
    if (signalled) return;
    signalled = true;
    const deadline = setTimeout(() => {
      log.warn({ signal }, 'shutdown took too long: exiting');
      log.flush();
      process.exit(0);
    }, config.shutdown.timeout * 1000);
    deadline.unref();
    gateway
      .stop(`received ${signal}`)
      .then(() => worker?.close())
      .then(
        () => {
          log.flush();
          process.exit(0);
        },
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          log.flush();
          process.exit(0);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Certificates are re-read without a restart: open TLS sessions keep theirs, new ones get the new pair.
  process.on('SIGHUP', () => gateway.reloadTls('SIGHUP'));
  // A worker whose primary is gone has nobody to restart it or to ask for the directory.
  if (worker) process.on('disconnect', () => shutdown('the cluster primary is gone'));

  try {
    const ports = await gateway.start();
    await worker?.ready(ports);
    // On stderr, not in the log: stdout stays JSON lines, and the log never carries a secret.
    if (!clusterEnv || clusterEnv.first) process.stderr.write(secretsNotice(gateway.secrets, gateway.config, ports));
  } catch (err) {
    log.fatal({ err }, `gateway failed to start: ${errorMessage(err)}`);
    await gateway.stop('start failed');
    log.flush();
    process.exit(1);
  }
}

void main();
