import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config/schema';
import type { Limits } from './limits';

/** Descriptors kept free for media sockets (RTP receivers, RTMP, SIP, files) when http.maxConnections is 0. */
export const MEDIA_FD_HEADROOM = 512;
/**
 * Connections accepted beyond the cap for health checks and scrapes: while the cap is full only
 * `GET /api/health` and `GET /metrics` are answered (anything else 503), and a connection taken
 * from the reserve that stays idle for RESERVE_IDLE_MS is closed, so a flood that reaches the
 * reserve holds it for a moment only.
 */
export const HEALTH_RESERVE = 8;
const RESERVE_IDLE_MS = 1000;
const ANSWERED_WHEN_FULL = new Set(['/api/health', '/metrics']);

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
 * at once (connections beyond it and HEALTH_RESERVE are dropped by Node and counted; in the
 * reserve only health and metrics answer). Answers the load for health without opening anything (an fd shortage must not make health fail). `https`, the HTTPS
 * listener of the same app (src/app/tls), gets the same bounds and counts in the same load.
 */
export function applyHttpLimits(app: FastifyInstance, config: GatewayConfig['http'], limits: Limits, https?: Server): () => HttpLoad {
  const fdLimit = openFileLimit();
  const cap = httpConnectionCap(config.maxConnections, fdLimit);
  const dropped = limits.counter('http.maxConnections');
  let connections = 0;
  for (const server of https ? [app.server, https] : [app.server]) {
    server.headersTimeout = config.headersTimeout * 1000;
    server.maxConnections = cap + HEALTH_RESERVE;
    server.on('drop', (data?: { remoteAddress?: string }) => dropped({ remote: data?.remoteAddress, cap }));
    server.on('connection', (socket: Socket) => {
      connections++;
      socket.once('close', () => connections--);
      if (connections <= cap) return;
      socket.setTimeout(RESERVE_IDLE_MS, () => {
        dropped({ remote: socket.remoteAddress, cap });
        socket.destroy();
      });
    });
  }
  app.addHook('onRequest', async (request, reply) => {
    if (connections <= cap || (request.method === 'GET' && ANSWERED_WHEN_FULL.has(request.url.split('?')[0] ?? ''))) return;
    dropped({ remote: request.socket.remoteAddress, cap });
    void reply
      .code(503)
      .header('connection', 'close')
      .send({ code: 'UNAVAILABLE', message: `HTTP connection cap (${cap}) reached: only health and metrics answer` });
    return reply;
  });
  return () => ({ connections, maxConnections: cap, fdLimit });
}

function safeRead(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
