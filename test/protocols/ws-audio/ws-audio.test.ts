import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import { WebSocket } from 'ws';
import { silentLogger } from '../../../src/core/log';
import type { Frame } from '../../../src/core/frame';
import { g711Track } from '../../../src/codecs/g711/g711';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../../src/hub/registry';
import { refuseHttpAudio, serveWsAudio, type AudioRequest } from '../../../src/protocols/ws-audio/route';
import { AUDIO_HEADER_BYTES, AUDIO_MESSAGE_G711 } from '../../../src/protocols/ws-audio/message';
import { AAC_TEST_TRACK, H264_TEST_TRACK, videoFrame } from '../../helpers/hub-fixtures';

function g711Frame(dts: number, fill: number): Frame {
  const unit = Buffer.alloc(160, fill);
  return { trackId: 1, codec: 'g711a', dts, pts: dts, keyframe: true, units: [unit], byteLength: 160, receivedAt: performance.now() };
}

async function serve(registry: Registry): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify();
  await app.register(websocket);
  app.route({
    method: 'GET',
    url: '/ws-audio/:app/:stream',
    handler: refuseHttpAudio,
    wsHandler: (socket, request) => serveWsAudio(socket, request as AudioRequest, { registry, log: silentLogger() }),
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: address.replace('http', 'ws') };
}

interface Received {
  texts: string[];
  binaries: Buffer[];
  close: Promise<{ code: number; reason: string }>;
}

function listen(url: string): { ws: WebSocket; got: Received } {
  const ws = new WebSocket(url);
  const got: Received = {
    texts: [],
    binaries: [],
    close: new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
  };
  ws.on('message', (data: Buffer, isBinary) => (isBinary ? got.binaries.push(data) : got.texts.push(data.toString())));
  return { ws, got };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('the audio feed sends the GOP cache audio and live G.711 frames (law, dts in 90 kHz, samples), never video', { timeout: 10_000 }, async () => {
  const registry = new Registry({ ...DEFAULT_REGISTRY_OPTIONS, trackWaitMs: 50 }, silentLogger());
  const { app, url } = await serve(registry);
  const publisher = registry.publish('live/cam', { kind: 'test', close: () => {} });
  publisher.setTracks([H264_TEST_TRACK, g711Track(1, 'g711a')]);
  publisher.write(videoFrame(900_000, true));
  publisher.write(g711Frame(900_000, 0xd5));
  publisher.write(videoFrame(903_600));
  const { ws, got } = listen(`${url}/ws-audio/live/cam`);
  await until(() => got.binaries.length >= 1, 'the cached frame');
  publisher.write(g711Frame(901_800, 0x55));
  await until(() => got.binaries.length >= 2, 'the live frame');
  assert.deepEqual(JSON.parse(got.texts[0]!), { type: 'start', path: 'live/cam', codec: 'g711a', sampleRate: 8000 });
  const [cached, live] = got.binaries as [Buffer, Buffer];
  assert.equal(cached[0], AUDIO_MESSAGE_G711);
  assert.equal(cached[1], 8, 'A-law is RTP payload type 8');
  assert.equal(cached.readDoubleBE(2), 900_000);
  assert.equal(live.readDoubleBE(2), 901_800);
  assert.equal(live.length, AUDIO_HEADER_BYTES + 160);
  assert.ok(live.subarray(AUDIO_HEADER_BYTES).every((b) => b === 0x55));
  const readers = registry.get('live/cam')?.readers;
  assert.equal(readers?.total, 1, 'a listener is a reader');
  ws.close();
  await got.close;
  await until(() => registry.get('live/cam')?.readers.total === 0, 'the listener to leave');
  await registry.close();
  await app.close();
});

test('a stream without G.711 closes the feed with 4415 and its reason; a plain GET is told to upgrade', { timeout: 10_000 }, async () => {
  const registry = new Registry({ ...DEFAULT_REGISTRY_OPTIONS, trackWaitMs: 50 }, silentLogger());
  const { app, url } = await serve(registry);
  const publisher = registry.publish('live/aac', { kind: 'test', close: () => {} });
  publisher.setTracks([H264_TEST_TRACK, AAC_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  const { got } = listen(`${url}/ws-audio/live/aac`);
  const closed = await got.close;
  assert.equal(closed.code, 4415);
  assert.match(closed.reason, /no G\.711/);
  const plain = await app.inject({ method: 'GET', url: '/ws-audio/live/aac' });
  assert.equal(plain.statusCode, 426);
  await registry.close();
  await app.close();
});

test('an admission refusal closes the feed with 4403 before any subscription', { timeout: 10_000 }, async () => {
  const registry = new Registry({ ...DEFAULT_REGISTRY_OPTIONS, trackWaitMs: 50 }, silentLogger());
  registry.admission.add('deny', async (request) =>
    request.protocol === 'ws-audio' ? ({ allow: false, status: 'forbidden', reason: 'no listening here' } as const) : ({ allow: true } as const),
  );
  const { app, url } = await serve(registry);
  const { got } = listen(`${url}/ws-audio/live/cam`);
  const closed = await got.close;
  assert.equal(closed.code, 4403);
  assert.equal(registry.sessions().length, 0);
  await registry.close();
  await app.close();
});
