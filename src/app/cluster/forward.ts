/**
 * The GB28181 API in a cluster: SIP and its dialogs live in slot 1, so a worker without them
 * hands those API requests to slot 1's private port, which answers them through its own
 * fastify (`inject`: the same auth guard, schemas and handlers as a direct request).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, errorBody, httpStatusOf } from '../../core/errors';

export const CLUSTER_KEY_HEADER = 'x-cluster-key';

/** The headers of an API request one worker makes of another's private port: the cluster key added to `headers`. */
export function clusterKeyHeaders(key: string, headers: Record<string, string> = {}): Record<string, string> {
  return { ...headers, [CLUSTER_KEY_HEADER]: key };
}

/** Routes of the GB28181 API (src/api: devices, channels, device queries, control, play, playback). */
const GB_API = /^\/api\/(?:devices|channels|alarms|invites|play|playback)(?:[/?]|$)/;
const MAX_BODY_BYTES = 1024 * 1024;
const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', CLUSTER_KEY_HEADER]);

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        stream.destroy();
        reject(new GatewayError('BAD_REQUEST', `request body over ${MAX_BODY_BYTES} bytes`));
      } else chunks.push(chunk);
    });
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

function forwardedHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_HEADERS.has(name)) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/** Manual and event recordings of a path run in the slot of the path (so that a stop finds its start). */
const RECORD_API = /^\/api\/record\/(?:start|stop|event)(?:\?|$)/;

async function forward(request: FastifyRequest, reply: FastifyReply, target: string | undefined, body: Buffer, key: string): Promise<FastifyReply> {
  try {
    if (!target) throw new GatewayError('UNAVAILABLE', 'the worker that serves this request is not up');
    const headers = clusterKeyHeaders(key, forwardedHeaders(request.headers));
    const res = await fetch(`${target}${request.url}`, {
      method: request.method,
      headers,
      ...(body.length ? { body: new Uint8Array(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const type = res.headers.get('content-type');
    if (type) void reply.header('content-type', type);
    return await reply.code(res.status).send(Buffer.from(await res.arrayBuffer()));
  } catch (err) {
    return reply.code(httpStatusOf(err)).send(errorBody(err));
  }
}

/** onRequest hook of a worker without GB28181: a GB API request is answered by slot 1 (its raw body passed on). */
export async function forwardGbApi(request: FastifyRequest, reply: FastifyReply, address: () => string | undefined, key: string): Promise<FastifyReply | undefined> {
  if (!GB_API.test(request.url)) return undefined;
  let body: Buffer;
  try {
    body = await readBody(request.raw);
  } catch (err) {
    return reply.code(httpStatusOf(err)).send(errorBody(err));
  }
  return forward(request, reply, address(), body, key);
}

/** preHandler hook: a manual/event recording request goes to the slot of its path (`slotOf`), unless that is this one. */
export async function forwardRecordApi(
  request: FastifyRequest,
  reply: FastifyReply,
  slotFor: (path: string) => number,
  self: number,
  address: (slot: number) => string | undefined,
  key: string,
): Promise<FastifyReply | undefined> {
  if (request.method !== 'POST' || !RECORD_API.test(request.url)) return undefined;
  const path = (request.body as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string') return undefined;
  const slot = slotFor(path);
  if (slot === self) return undefined;
  return forward(request, reply, address(slot), Buffer.from(JSON.stringify(request.body)), key);
}

/** Slot 1's private port: a forwarded API request, answered by this worker's fastify. */
export async function answerForwarded(http: FastifyInstance, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const payload = await readBody(req);
    const answer = await http.inject({ method: req.method as 'GET', url: req.url ?? '/', headers: forwardedHeaders(req.headers), ...(payload.length ? { payload } : {}) });
    const type = answer.headers['content-type'];
    res.writeHead(answer.statusCode, type ? { 'content-type': String(type) } : {}).end(answer.rawPayload);
  } catch (err) {
    res.writeHead(httpStatusOf(err), { 'content-type': 'application/json' }).end(JSON.stringify(errorBody(err)));
  }
}
