import type { FastifyInstance } from 'fastify';

/**
 * The console's live events (`GET /api/events`, Server-Sent Events): one JSON object per
 * `data:` line, its `type` also the SSE `event:` name. Additive: a page ignores types it does
 * not know.
 */
export type ConsoleEvent =
  | { type: 'hello'; at: number }
  | { type: 'stream.up'; path: string; at: number }
  | { type: 'stream.down'; path: string; reason: string; at: number }
  | { type: 'device.online'; deviceId: string; at: number }
  | { type: 'device.offline'; deviceId: string; reason: string; at: number }
  | { type: 'channel.changed'; deviceId: string; added: number; updated: number; removed: number; total: number; complete: boolean; at: number }
  | { type: 'proxy.state'; id: string; path: string; state: string; lastError?: string; at: number }
  | { type: 'push.state'; path: string; target: string; state: string; lastError?: string; at: number }
  | { type: 'recorder.state'; path: string; reason: string; state: string; lastError?: string; at: number }
  | { type: 'stream.status'; path: string; status: StreamStatusDto; at: number };

export type ConsoleEventType = ConsoleEvent['type'];

/**
 * Why a stream plays or not, in plain words the console shows on a black tile
 * (`GET /api/streams/:app/:stream/status`, and the `stream.status` event when it changes).
 */
export interface StreamStatusDto {
  path: string;
  /** `live`: frames flow; anything else names why there is no picture. */
  state:
    | 'live'
    | 'starting'
    | 'missing'
    | 'device-offline'
    | 'device-unknown'
    | 'invite-refused'
    | 'invite-timeout'
    | 'no-rtp'
    | 'ssrc-mismatch'
    | 'rtsp-auth'
    | 'source-error'
    | 'ended';
  /** A sentence for a person (English; the console translates `state` and shows this beside). */
  message: string;
  /** Tracks when live: `h264 640x360`, `aac 44100Hz`. */
  codecs?: string[];
  /** The video codec when known (`h264`, `h265`): the page checks whether it can decode it. */
  videoCodec?: string;
  /** GB28181: the address the camera was told to send RTP to (`ip:port/udp`). */
  mediaAddress?: string;
  /**
   * What the console words `state` with in its own language: `sipStatus` (the device's SIP
   * answer code), `deviceId`, `address` (= mediaAddress), `ssrc` (the one asked for), `seconds`.
   */
  params?: Record<string, string | number>;
  /** The source's own words, untranslated (a device's SIP reason phrase, an RTSP server's answer, why a device went offline): a detail under the sentence. */
  detail?: string;
}

export interface EventsApiDeps {
  /** Calls `send` for every event until the returned function is called. */
  subscribe(send: (event: ConsoleEvent) => void): () => void;
  /** A comment line this often keeps proxies from closing an idle stream. */
  keepAliveMs?: number;
}

/** GET /api/events: the console's one live channel (authenticated by the API guard like every /api route). */
export async function eventsApi(app: FastifyInstance, deps: EventsApiDeps): Promise<void> {
  const open = new Set<() => void>();
  app.addHook('onClose', async () => {
    for (const close of [...open]) close();
  });
  app.get(
    '/api/events',
    { schema: { tags: ['console'], summary: 'Live console events as Server-Sent Events (stream, device, channel, proxy, push, recorder state)' } },
    (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      const send = (event: ConsoleEvent): void => {
        // A browser that stops reading is dropped instead of growing this socket's buffer.
        if (res.writableLength > 1024 * 1024) return close();
        res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      };
      const unsubscribe = deps.subscribe(send);
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), deps.keepAliveMs ?? 15_000);
      const close = (): void => {
        if (!open.delete(close)) return;
        clearInterval(keepAlive);
        unsubscribe();
        res.end();
      };
      open.add(close);
      request.raw.on('close', close);
      res.on('error', close);
      res.write('retry: 2000\n\n');
      send({ type: 'hello', at: Date.now() });
    },
  );
}
