import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { AAC_TEST_TRACK, H264_TEST_TRACK, RecordingSink, TestSource, audioFrame, videoFrame } from '../helpers/hub-fixtures';

let gw: TestGateway;
let source: TestSource;

before(async () => {
  gw = await startTestGateway();
  source = new TestSource();
  const publisher = gw.gateway.registry.publish('live/api', source);
  publisher.setTracks([H264_TEST_TRACK, AAC_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  publisher.write(audioFrame(100));
  await gw.gateway.registry.subscribe('live/api', new RecordingSink('http-flv'));
});

after(() => gw.stop());

const inject = (method: 'GET' | 'DELETE', url: string) => gw.api(method, url);

test('GET /api/streams lists tracks, publisher and readers per protocol', async () => {
  const res = await inject('GET', '/api/streams');
  assert.equal(res.statusCode, 200);
  const [stream] = res.json().streams;
  assert.equal(stream.path, 'live/api');
  assert.equal(stream.app, 'live');
  assert.equal(stream.stream, 'api');
  assert.deepEqual(
    stream.tracks.map((t: { codec: string }) => t.codec),
    ['h264', 'aac'],
  );
  assert.equal(stream.tracks[0].width, 320);
  assert.equal(stream.tracks[1].sampleRate, 44100);
  assert.equal(stream.publisher.kind, 'test');
  assert.deepEqual(stream.readers, { total: 1, byProtocol: { 'http-flv': 1 } });
  assert.equal(typeof stream.uptimeMs, 'number');
});

test('errors are {code, message} with the matching status, and bad paths are refused', async () => {
  const missing = await inject('GET', '/api/streams/live/none');
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(Object.keys(missing.json()).sort(), ['code', 'message']);
  assert.equal(missing.json().code, 'STREAM_NOT_FOUND');
  const bad = await inject('GET', '/api/streams/live/a%20b');
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().code, 'BAD_REQUEST');
  const noRoute = await inject('GET', '/api/nothing');
  assert.equal(noRoute.statusCode, 404);
  assert.equal(noRoute.json().code, 'NOT_FOUND');
  const noSession = await inject('DELETE', '/api/sessions/sub-999999');
  assert.equal(noSession.statusCode, 404);
  assert.equal(noSession.json().code, 'SESSION_NOT_FOUND');
});

test('sessions can be listed and closed; DELETE a stream kicks its publisher', async () => {
  const sessions = (await inject('GET', '/api/sessions')).json().sessions as { id: string; role: string; protocol: string }[];
  const viewer = sessions.find((s) => s.role === 'subscriber')!;
  assert.equal(viewer.protocol, 'http-flv');
  assert.equal((await inject('DELETE', `/api/sessions/${viewer.id}`)).statusCode, 200);
  assert.equal((await inject('GET', '/api/streams/live/api')).json().readers.total, 0);
  const kicked = await inject('DELETE', '/api/streams/live/api');
  assert.equal(kicked.statusCode, 200);
  assert.match(source.closedWith ?? '', /kicked/);
  assert.equal((await inject('GET', '/api/streams/live/api')).statusCode, 404);
});

test('health and the OpenAPI document', async () => {
  const health = (await inject('GET', '/api/health')).json();
  assert.equal(health.status, 'ok');
  assert.equal(health.ports.http, gw.ports.http);
  assert.equal(health.ports.rtmp, gw.ports.rtmp);
  const doc = (await inject('GET', '/docs/json')).json();
  assert.ok(doc.openapi.startsWith('3.'));
  for (const path of ['/api/streams', '/api/streams/{app}/{stream}', '/api/sessions', '/api/sessions/{id}', '/api/health']) {
    assert.ok(doc.paths[path], `${path} is documented`);
  }
  const docsPage = await inject('GET', '/docs/');
  assert.equal(docsPage.statusCode, 200);
});
