/**
 * What a worker is told by the primary (environment variables that are not GW_ config keys)
 * and the config it runs with: SIP on slot 1 only, its own slice of the RTP port range.
 */
import { availableParallelism } from 'node:os';
import type { GatewayConfig } from '../../config/schema';
import { GatewayError } from '../../core/errors';

export interface ClusterEnv {
  /** 1..workers; a restarted worker keeps its slot. */
  readonly slot: number;
  readonly workers: number;
  /** The key the private ports ask for (random per primary start). */
  readonly key: string;
  /** The first start of slot 1: it recovers what a crashed run left open; nobody else does. */
  readonly first: boolean;
}

export const ENV = { slot: 'CLUSTER_SLOT', workers: 'CLUSTER_WORKERS', key: 'CLUSTER_KEY', first: 'CLUSTER_FIRST' } as const;

/** `cluster.workers` as a count: `auto` is one per core. */
export function workerCount(config: GatewayConfig): number {
  const value = String(config.cluster.workers);
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new GatewayError('CONFIG_INVALID', `config key "cluster.workers": "${value}" is not auto or a count 1..256`);
  return n;
}

/** The environment of a cluster worker; undefined in a single process. */
export function clusterEnvOf(env: NodeJS.ProcessEnv): ClusterEnv | undefined {
  const slot = Number(env[ENV.slot]);
  const workers = Number(env[ENV.workers]);
  const key = env[ENV.key];
  if (!Number.isInteger(slot) || slot < 1 || !Number.isInteger(workers) || workers < 2 || !key) return undefined;
  return { slot, workers, key, first: env[ENV.first] === '1' };
}

/** The worker's own config: GB28181/SIP only on slot 1, rtp.portMin..portMax cut into one even-sized slice per slot. */
export function workerConfig(config: GatewayConfig, env: ClusterEnv): GatewayConfig {
  const rtp = { ...config.rtp };
  if (rtp.portMin > 0) {
    const span = Math.floor((rtp.portMax - rtp.portMin + 1) / env.workers / 2) * 2;
    if (span < 2) throw new GatewayError('CONFIG_INVALID', `rtp.portMin..portMax is too small for ${env.workers} workers (each needs 2 ports at least)`);
    rtp.portMin += (env.slot - 1) * span;
    rtp.portMax = rtp.portMin + span - 1;
  }
  return { ...config, rtp, sip: { ...config.sip, enabled: config.sip.enabled && env.slot === 1 } };
}

/** The slot of a path without an owner: its manual recordings, its record plans while no worker owns its stream. FNV-1a of the path. */
export function slotOf(path: string, workers: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) {
    hash ^= path.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return (hash % workers) + 1;
}
