import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { H264_TEST_TRACK, TestSource, videoFrame } from '../helpers/hub-fixtures';

let gw: TestGateway;

before(async () => {
  gw = await startTestGateway();
});

after(() => gw.stop());

test('/api/walls: save, list, change and delete a wall; a bad layout or too many tiles is refused', async () => {
  const created = await gw.api('POST', '/api/walls', { name: 'Lobby', layout: '2x2', tiles: ['live/a', null, 'rtp/34020000001320000001_34020000001310000001'] });
  assert.equal(created.statusCode, 201, created.body);
  const wall = created.json();
  assert.equal(wall.name, 'Lobby');
  assert.deepEqual(wall.tiles, ['live/a', null, 'rtp/34020000001320000001_34020000001310000001']);
  assert.equal((await gw.api('GET', '/api/walls')).json().walls.length, 1);
  const changed = await gw.api('PUT', `/api/walls/${wall.id}`, { layout: '3x3', tiles: ['live/b'] });
  assert.equal(changed.statusCode, 200, changed.body);
  assert.deepEqual([changed.json().layout, changed.json().tiles, changed.json().name], ['3x3', ['live/b'], 'Lobby']);
  assert.equal((await gw.api('POST', '/api/walls', { name: 'x', layout: '5x5', tiles: [] })).statusCode, 400);
  assert.equal((await gw.api('POST', '/api/walls', { name: 'x', layout: '1', tiles: ['live/a', 'live/b'] })).statusCode, 400);
  assert.equal((await gw.api('POST', '/api/walls', { name: 'x', layout: '1', tiles: ['../../etc'] })).statusCode, 400);
  assert.equal((await gw.api('DELETE', `/api/walls/${wall.id}`)).statusCode, 200);
  assert.equal((await gw.api('GET', `/api/walls/${wall.id}`)).statusCode, 404);
  assert.equal((await gw.api('DELETE', `/api/walls/${wall.id}`)).statusCode, 404);
});

test('stream status: a missing path says so, a live one names its codecs; many paths in one request', async () => {
  const source = new TestSource();
  const publisher = gw.gateway.registry.publish('live/status', source);
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  try {
    const one = await gw.api('GET', '/api/streams/live/nothing/status');
    assert.equal(one.statusCode, 200);
    assert.equal(one.json().state, 'missing');
    const many = await gw.api('POST', '/api/streams/status', { paths: ['live/status', 'live/nothing'], sign: true });
    assert.equal(many.statusCode, 200, many.body);
    const [live, missing] = many.json().statuses;
    assert.equal(live.state, 'live');
    assert.equal(live.videoCodec, 'h264');
    assert.deepEqual(live.codecs, ['h264 320x240']);
    assert.equal(missing.state, 'missing');
    assert.equal(typeof live.query, 'string');
    assert.equal((await gw.api('POST', '/api/streams/status', { paths: ['no-slash'] })).statusCode, 400);
  } finally {
    publisher.end('test over');
  }
});

/** Reads SSE events from GET /api/events until `until` says stop. */
function readEvents(until: (events: { type: string; path?: string }[]) => boolean, auth: boolean): Promise<{ status: number; events: { type: string; path?: string }[] }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = auth ? { authorization: `Bearer ${gw.config.auth.secret}` } : {};
    const req = request({ host: '127.0.0.1', port: gw.ports.http, path: '/api/events', headers }, (res) => {
      const events: { type: string; path?: string }[] = [];
      let text = '';
      if (res.statusCode !== 200) {
        res.resume();
        return resolve({ status: res.statusCode ?? 0, events });
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const data = block.split('\n').find((line) => line.startsWith('data: '));
          if (data) events.push(JSON.parse(data.slice(6)));
          if (until(events)) {
            req.destroy();
            return resolve({ status: 200, events });
          }
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

test('GET /api/events: refused without credentials; streams going up and down arrive as events', async () => {
  assert.equal((await readEvents(() => true, false)).status, 401);
  let publisher: ReturnType<typeof gw.gateway.registry.publish> | undefined;
  const got = readEvents((events) => {
    if (events.length === 1 && events[0]?.type === 'hello') {
      publisher = gw.gateway.registry.publish('live/sse', new TestSource());
      publisher.setTracks([H264_TEST_TRACK]);
      publisher.write(videoFrame(0, true));
      setTimeout(() => publisher?.end('test over'), 50);
    }
    return events.some((e) => e.type === 'stream.down' && e.path === 'live/sse');
  }, true);
  const { events } = await got;
  assert.deepEqual(
    events.filter((e) => e.path === 'live/sse').map((e) => e.type),
    ['stream.up', 'stream.down'],
  );
});
