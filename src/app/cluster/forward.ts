/**
 * The GB28181 API in a cluster: SIP and its dialogs live in slot 1, so a worker without them
 * hands those API requests to slot 1's private port, which answers them through its own
 * fastify (`inject`: the same auth guard, schemas and handlers as a direct request).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, errorBody, httpStatusOf } from '../../core/errors';

export const CLUSTER_KEY_HEADER = 'x-cluster-key';

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

/** onRequest hook of a worker without GB28181: a GB API request is answered by slot 1. */
export async function forwardGbApi(request: FastifyRequest, reply: FastifyReply, address: () => string | undefined, key: string): Promise<FastifyReply | undefined> {
  if (!GB_API.test(request.url)) return undefined;
  const target = address();
  try {
    if (!target) throw new GatewayError('UNAVAILABLE', 'the GB28181 worker (slot 1) is not up');
    const body = await readBody(request.raw);
    const res = await fetch(`${target}${request.url}`, {
      method: request.method,
      headers: { ...forwardedHeaders(request.headers), [CLUSTER_KEY_HEADER]: key },
      ...(body.length ? { body: new Uint8Array(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const type = res.headers.get('content-type');
    if (type) void reply.header('content-type', type);
    return reply.code(res.status).send(Buffer.from(await res.arrayBuffer()));
  } catch (err) {
    return reply.code(httpStatusOf(err)).send(errorBody(err));
  }
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
