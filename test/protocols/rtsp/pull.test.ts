import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { silentLogger } from '../../../src/core/log';
import type { Frame } from '../../../src/core/frame';
import type { Publisher } from '../../../src/core/source';
import type { Track } from '../../../src/core/track';
import { RtspError } from '../../../src/protocols/rtsp/errors';
import { RtspPull, type RtspPullOptions } from '../../../src/protocols/rtsp/pull';
import { startScriptCamera, type CameraOptions, type ScriptCamera } from '../../helpers/rtsp-script-camera';

interface FakePublisher extends Publisher {
  frames: Frame[];
  tracks: Track[][];
  bytes: number;
}

function fakePublisher(): FakePublisher {
  const pub: FakePublisher = {
    path: 'test/cam',
    resumeDts: 0,
    frames: [],
    tracks: [],
    bytes: 0,
    setTracks: (tracks) => void pub.tracks.push([...tracks]),
    write: (frame) => void pub.frames.push(frame),
    end: () => undefined,
    addBytesIn: (n) => void (pub.bytes += n),
  };
  return pub;
}

function pullOptions(url: string, publisher: FakePublisher, overrides: Partial<RtspPullOptions> = {}): RtspPullOptions {
  return {
    url,
    transport: 'tcp',
    connectTimeoutMs: 1000,
    requestTimeoutMs: 1000,
    udpFallbackMs: 500,
    stallTimeoutMs: 3000,
    reorderDelayMs: 100,
    userAgent: 'gw-test',
    log: silentLogger(),
    openPublisher: () => publisher,
    onClose: () => undefined,
    ...overrides,
  };
}

async function withCamera(options: CameraOptions, run: (camera: ScriptCamera) => Promise<void>): Promise<void> {
  const camera = await startScriptCamera(options);
  try {
    await run(camera);
  } finally {
    await camera.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function expectFailure(options: RtspPullOptions, failure: RtspError['failure'], message: RegExp): Promise<void> {
  const pull = new RtspPull(options);
  await assert.rejects(pull.start(), (err: unknown) => {
    assert.ok(err instanceof RtspError, String(err));
    assert.equal(err.failure, failure, err.message);
    assert.match(err.message, message);
    return true;
  });
  await pull.close('test');
}

for (const transport of ['tcp', 'udp'] as const) {
  test(`${transport}: plays H.264 with in-band parameter sets into the publisher, TEARDOWN on close`, async () => {
    await withCamera({}, async (camera) => {
      const publisher = fakePublisher();
      const pull = new RtspPull(pullOptions(camera.url(), publisher, { transport }));
      const info = await pull.start();
      assert.equal(info.transport, transport);
      assert.deepEqual(
        info.tracks.map((t) => t.codec),
        ['h264'],
      );
      await sleep(1200);
      await pull.close('done');
      const video = publisher.frames.filter((f) => f.codec === 'h264');
      assert.ok(video.length >= 15, `frames: ${video.length}`);
      assert.ok(video[0]!.keyframe);
      for (let i = 1; i < video.length; i++) assert.equal(video[i]!.dts - video[i - 1]!.dts, 3600);
      const last = publisher.tracks.at(-1)!;
      assert.ok(last[0]!.ready && last[0]!.codec === 'h264' && last[0]!.width === 320 && last[0]!.height === 240);
      assert.deepEqual(
        camera.requests.map((r) => r.method),
        ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN'],
      );
      assert.equal(camera.requests[2]!.uri, `${camera.url()}/track1`);
      assert.ok(pull.stats().bytes > 10_000);
    });
  });
}

test('parameter sets only in the SDP make the track ready', async () => {
  await withCamera({ spropOnly: true }, async (camera) => {
    const publisher = fakePublisher();
    const pull = new RtspPull(pullOptions(camera.url(), publisher));
    await pull.start();
    await sleep(600);
    await pull.close('done');
    assert.ok(publisher.tracks.at(-1)![0]!.ready);
    assert.ok(publisher.frames.length > 5);
  });
});

test('UDP: receiver reports reach the camera every 5 s and at SETUP', { timeout: 15_000 }, async () => {
  await withCamera({}, async (camera) => {
    const publisher = fakePublisher();
    const pull = new RtspPull(pullOptions(camera.url(), publisher, { transport: 'udp' }));
    await pull.start();
    await sleep(5600);
    await pull.close('done');
    const reports = camera.rtcpReceived.filter((p) => p[1] === 201);
    assert.ok(reports.length >= 1, `receiver reports: ${reports.length}`);
    assert.ok(
      reports.some((p) => (p[0]! & 0x1f) === 1),
      'a report block about the video SSRC',
    );
    assert.ok(publisher.bytes > 0, 'bytes are counted on the publisher');
  });
});

test('auto: a 461 to UDP falls back to TCP; silence on UDP falls back too', async () => {
  await withCamera({ refuseUdp: true }, async (camera) => {
    const pull = new RtspPull(pullOptions(camera.url(), fakePublisher(), { transport: 'auto' }));
    assert.equal((await pull.start()).transport, 'tcp');
    await pull.close('done');
  });
  // The camera answers UDP but never sends over it; a TCP session gets media.
  let udpSessions = 0;
  await withCamera(
    {
      override: (req) => {
        if (req.method === 'SETUP' && !/interleaved/.test(req.headers.get('transport') ?? '')) udpSessions++;
        return undefined;
      },
    },
    async (camera) => {
      const publisher = fakePublisher();
      const blocked = new RtspPull({ ...pullOptions(camera.url(), publisher, { transport: 'auto' }), udpPorts: blackholePorts() });
      const info = await blocked.start();
      assert.equal(info.transport, 'tcp');
      assert.equal(udpSessions, 1);
      await sleep(400);
      await blocked.close('done');
      assert.ok(publisher.frames.length > 0);
    },
  );
});

/** A UDP port allocator whose sockets drop everything (a firewall eating UDP). */
function blackholePorts(): NonNullable<RtspPullOptions['udpPorts']> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { osPortAllocator } = require('../../../src/protocols/rtsp/udp') as typeof import('../../../src/protocols/rtsp/udp');
  return {
    async bindPair(host) {
      const pair = await osPortAllocator.bindPair(host);
      const swallow = (socket: typeof pair.rtp): void => {
        const emit = socket.emit.bind(socket);
        socket.emit = ((event: string, ...args: unknown[]) => (event === 'message' ? false : emit(event, ...args))) as typeof socket.emit;
      };
      swallow(pair.rtp);
      swallow(pair.rtcp);
      return pair;
    },
  };
}

test('a redirect is followed to the other camera', async () => {
  await withCamera({}, async (target) => {
    await withCamera(
      { override: (req) => (req.method === 'DESCRIBE' ? { status: 302, reason: 'Moved', headers: { Location: target.url('live/moved') } } : undefined) },
      async (front) => {
        const publisher = fakePublisher();
        const pull = new RtspPull(pullOptions(front.url(), publisher));
        const info = await pull.start();
        assert.equal(info.url, target.url('live/moved'));
        await pull.close('done');
      },
    );
  });
});

test('credentials: Basic from the URL; none or wrong ones fail with "auth failed"', async () => {
  const basic = { username: 'admin', password: 'secret' };
  await withCamera({ basic }, async (camera) => {
    const ok = new RtspPull(pullOptions(camera.url().replace('rtsp://', 'rtsp://admin:secret@'), fakePublisher()));
    await ok.start();
    await ok.close('done');
    await expectFailure(pullOptions(camera.url(), fakePublisher()), 'auth', /auth failed: .*needs credentials/);
    await expectFailure(pullOptions(camera.url(), fakePublisher(), { credentials: { username: 'admin', password: 'wrong' } }), 'auth', /auth failed: user "admin" was refused/);
  });
});

test('404, an SDP without a usable codec, and a refused connection say so plainly', async () => {
  await withCamera({ override: (req) => (req.method === 'DESCRIBE' ? { status: 404, reason: 'Stream Not Found' } : undefined) }, async (camera) => {
    await expectFailure(pullOptions(camera.url(), fakePublisher()), 'not-found', /not found: DESCRIBE .* answered 404 Stream Not Found/);
  });
  const sdp = 'v=0\r\ns=x\r\nm=video 0 RTP/AVP 26\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 opus/48000/2\r\n';
  await withCamera({ sdp }, async (camera) => {
    await expectFailure(pullOptions(camera.url(), fakePublisher()), 'unsupported-codec', /unsupported codec: .* no playable track: .*opus/);
  });
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await expectFailure(pullOptions(`rtsp://127.0.0.1:${port}/x`, fakePublisher()), 'unreachable', /unreachable: 127\.0\.0\.1:\d+ refused the connection/);
});

test('a camera that answers garbage or hangs fails fast and releases everything', async () => {
  await withCamera({ override: () => Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n') }, async (camera) => {
    await expectFailure(pullOptions(camera.url(), fakePublisher()), 'protocol', /protocol error: the server sent something that is not RTSP/);
  });
  await withCamera({ override: () => Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]) }, async (camera) => {
    await expectFailure(pullOptions(camera.url(), fakePublisher()), 'protocol', /not RTSP/);
  });
  await withCamera({ override: (req) => (req.method === 'DESCRIBE' ? 'hang' : undefined) }, async (camera) => {
    const started = Date.now();
    await expectFailure(pullOptions(camera.url(), fakePublisher(), { requestTimeoutMs: 300 }), 'timeout', /timed out: DESCRIBE got no answer within 300 ms/);
    assert.ok(Date.now() - started < 2000);
  });
  await withCamera({ override: (req) => (req.method === 'SETUP' ? 'close' : undefined) }, async (camera) => {
    await expectFailure(pullOptions(camera.url(), fakePublisher()), 'unreachable', /closed the connection/);
  });
});

test('a stream that stops sending is caught by the stall watchdog', async () => {
  await withCamera({ stopMediaAfterMs: 300 }, async (camera) => {
    let closed: RtspError | undefined;
    const pull = new RtspPull(pullOptions(camera.url(), fakePublisher(), { stallTimeoutMs: 1000, onClose: (err) => (closed = err) }));
    await pull.start();
    await sleep(2600);
    assert.equal(closed?.failure, 'timeout');
    assert.match(closed!.message, /no media for \d+ s \(stuck stream\)/);
    await pull.close('done');
  });
});

test('keepalive within the session timeout; a camera without CSeq and one that sends us requests', async () => {
  await withCamera({ sessionTimeout: 2, omitCSeq: true }, async (camera) => {
    const pull = new RtspPull(pullOptions(camera.url(), fakePublisher()));
    await pull.start();
    await sleep(2300);
    await pull.close('done');
    const keepalives = camera.requests.filter((r) => r.method === 'GET_PARAMETER');
    assert.ok(keepalives.length >= 2, `keepalives: ${keepalives.length}`);
  });
  let answered = '';
  await withCamera(
    {
      override: (req, socket) => {
        if (req.method === 'PLAY') {
          socket.once('data', (chunk: Buffer) => (answered = chunk.toString()));
          setTimeout(() => socket.write('OPTIONS * RTSP/1.0\r\nCSeq: 77\r\n\r\n'), 50);
        }
        return undefined;
      },
    },
    async (camera) => {
      const pull = new RtspPull(pullOptions(camera.url(), fakePublisher()));
      await pull.start();
      await sleep(300);
      await pull.close('done');
      assert.match(answered, /^RTSP\/1\.0 200 OK\r\nCSeq: 77\r\n/);
    },
  );
});
