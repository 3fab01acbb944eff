import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config/schema';
import type { Limits } from './limits';

/** Descriptors kept free for media sockets (RTP receivers, RTMP, SIP, files) when http.maxConnections is 0. */
export const MEDIA_FD_HEADROOM = 512;

/** The soft limit of open descriptors (Linux /proc), read once at start; undefined elsewhere. */
export function openFileLimit(limitsText = safeRead('/proc/self/limits')): number | undefined {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(limitsText ?? '');
  if (!match || match[1] === 'unlimited') return undefined;
  return Number(match[1]);
}

/** http.maxConnections, or (0) the descriptor limit less the media headroom, at least 64. */
export function httpConnectionCap(configured: number, fdLimit: number | undefined): number {
  if (configured > 0) return configured;
  if (fdLimit === undefined) return 10_000;
  return Math.max(64, fdLimit - MEDIA_FD_HEADROOM);
}

export interface HttpLoad {
  readonly connections: number;
  readonly maxConnections: number;
  readonly fdLimit: number | undefined;
}

/**
 * Slow and idle clients cannot hold the HTTP port: headers within http.headersTimeout, the
 * whole request within http.requestTimeout (fastify's option), and at most the connection cap
 * at once (connections beyond it are dropped by Node and counted). Answers the load for health
 * without opening anything (an fd shortage must not make health fail). `https`, the HTTPS
 * listener of the same app (src/app/tls), gets the same bounds and counts in the same load.
 */
export function applyHttpLimits(app: FastifyInstance, config: GatewayConfig['http'], limits: Limits, https?: Server): () => HttpLoad {
  const fdLimit = openFileLimit();
  const cap = httpConnectionCap(config.maxConnections, fdLimit);
  const dropped = limits.counter('http.maxConnections');
  let connections = 0;
  for (const server of https ? [app.server, https] : [app.server]) {
    server.headersTimeout = config.headersTimeout * 1000;
    server.maxConnections = cap;
    server.on('drop', (data?: { remoteAddress?: string }) => dropped({ remote: data?.remoteAddress, cap }));
    server.on('connection', (socket) => {
      connections++;
      socket.once('close', () => connections--);
    });
  }
  return () => ({ connections, maxConnections: cap, fdLimit });
}

function safeRead(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
