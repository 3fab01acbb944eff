import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../../src/core/errors';
import { silentLogger } from '../../../src/core/log';
import type { Publisher } from '../../../src/core/source';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../../src/hub/registry';
import { GbBridge, downloadPath, gbPath, parseGbPath } from '../../../src/app/gb-bridge/bridge';
import type { GbMediaFactory, GbMediaOpenOptions } from '../../../src/app/gb-bridge/media';
import { H264_TEST_TRACK, RecordingSink, TestSource, videoFrame } from '../../helpers/hub-fixtures';
import { waitFor } from '../../helpers/gateway';
import { DEVICE_ID, startServer, type ServerFixture } from '../../sip/gb28181/gb-fixture';

const CHANNEL = '34020000001310000001';
const PATH = gbPath(DEVICE_ID, CHANNEL);

/** Stands in for rtp/net: "receives" by publishing test frames 100 ms after it is opened. */
class FakeMedia {
  readonly opened: GbMediaOpenOptions[] = [];
  readonly closed: string[] = [];
  flows = true;

  constructor(private readonly registry: Registry) {}

  readonly factory: GbMediaFactory = async (options) => {
    this.opened.push(options);
    let publisher: Publisher | undefined;
    let timer: NodeJS.Timeout | undefined;
    let dts = 0;
    const start = setTimeout(() => {
      if (!this.flows) return;
      const source = Object.assign(new TestSource(), { close: (reason: string) => options.onClosed(reason) });
      publisher = this.registry.publish(options.path, source);
      publisher.setTracks([H264_TEST_TRACK]);
      options.onFirstPacket();
      timer = setInterval(() => publisher!.write(videoFrame((dts += 3600), dts % 90_000 === 0)), 40);
      publisher.write(videoFrame(0, true));
    }, 100);
    return {
      localPort: 40_000 + this.opened.length,
      connect: async () => undefined,
      setSpeed: () => undefined,
      holdSilence: () => undefined,
      expectSsrc: () => undefined,
      stats: () => ({ packets: dts / 3600, bytes: dts }),
      close: (reason: string) => {
        clearTimeout(start);
        clearInterval(timer);
        publisher?.end(reason);
        this.closed.push(reason);
      },
    };
  };
}

async function setup(options: { closeAfterMs?: number; mediaTimeoutMs?: number; sim?: Parameters<ServerFixture['simulator']>[0] } = {}) {
  const f = await startServer();
  const registry = new Registry({ ...DEFAULT_REGISTRY_OPTIONS, closeAfterMs: options.closeAfterMs ?? 300, startTimeoutMs: 5000, reconnectGraceMs: 3000 }, silentLogger());
  const media = new FakeMedia(registry);
  const bridge = new GbBridge({
    gb: f.server,
    registry,
    devices: f.devices,
    channels: f.channels,
    media: media.factory,
    mediaIp: '127.0.0.1',
    mediaTimeoutMs: options.mediaTimeoutMs ?? 2000,
    startTimeoutMs: 5000,
    log: silentLogger(),
  });
  const sim = await f.simulator({ inviteAnswer: 'no-rtp', ...options.sim });
  assert.equal((await sim.register())?.status, 200);
  return {
    f,
    registry,
    media,
    bridge,
    sim,
    async close() {
      bridge.close();
      await registry.close('test done');
      await f.close();
    },
  };
}

test('paths: rtp/{20-digit device}_{channel}', () => {
  assert.deepEqual(parseGbPath(PATH), { deviceId: DEVICE_ID, channelId: CHANNEL });
  assert.equal(parseGbPath('live/x'), undefined);
  assert.equal(parseGbPath('rtp/123_456'), undefined);
});

test('two viewers arriving together cause one INVITE; closeAfter after the last leaves, the device gets BYE and everything is released', async () => {
  const t = await setup();
  try {
    const [a, b] = await Promise.all([t.registry.subscribe(PATH, new RecordingSink('http-flv')), t.registry.subscribe(PATH, new RecordingSink('ws-flv'))]);
    assert.equal(t.sim.invites, 1);
    assert.equal(t.media.opened.length, 1);
    assert.equal(t.media.opened[0]!.mode, 'tcp-passive');
    await waitFor(() => t.bridge.invites()[0]?.state === 'live', 2000, 'the pull to be live');
    const [invite] = t.bridge.invites();
    assert.match(invite!.ssrc, /^0200000\d{3}$/);
    assert.equal(invite!.localPort, 40_001);
    assert.equal(t.bridge.inUseSsrcs(), 1);
    a.close();
    b.close();
    await waitFor(() => t.sim.byes === 1, 3000, 'BYE at the device');
    assert.equal(t.media.closed.length, 1);
    assert.equal(t.bridge.inUseSsrcs(), 0);
    assert.equal(t.f.server.dialogs().length, 0);
  } finally {
    await t.close();
  }
});

test('a device that never sends RTP: viewers hear why; BYE, receiver and SSRC released', async () => {
  const t = await setup({ mediaTimeoutMs: 700 });
  t.media.flows = false;
  try {
    await assert.rejects(t.registry.subscribe(PATH, new RecordingSink()), (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.code, 'SOURCE_START_TIMEOUT');
      assert.match(err.message, /accepted the INVITE but sent no RTP to 127\.0\.0\.1:40001 \(tcp-passive\) within 1 s/);
      return true;
    });
    await waitFor(() => t.sim.byes === 1, 3000, 'BYE');
    assert.equal(t.media.closed.length, 1);
    assert.equal(t.bridge.inUseSsrcs(), 0);
  } finally {
    await t.close();
  }
});

test('a refused INVITE: viewers get the status; the receiver and SSRC are released', async () => {
  const t = await setup({ sim: { inviteAnswer: 488 } });
  try {
    await assert.rejects(t.registry.subscribe(PATH, new RecordingSink()), /answered 488 Not Acceptable Here/);
    assert.equal(t.media.closed.length, 1);
    assert.equal(t.bridge.inUseSsrcs(), 0);
    await assert.rejects(t.registry.subscribe(gbPath('34020000001320000099', CHANNEL), new RecordingSink()), /device 34020000001320000099 is not known/);
  } finally {
    await t.close();
  }
});

test('a BYE from the device with a viewer left: INVITE again, the viewer stays', async () => {
  const t = await setup();
  try {
    const sink = new RecordingSink();
    const sub = await t.registry.subscribe(PATH, sink);
    const first = t.bridge.invites()[0]!;
    assert.equal((await t.sim.hangUp(first.callId!))?.status, 200);
    await waitFor(() => t.sim.invites === 2 && t.bridge.invites()[0]?.state === 'live', 4000, 'the second INVITE');
    const frames = sink.frames.length;
    await waitFor(() => sink.frames.length > frames + 5, 3000, 'frames after the re-INVITE');
    assert.equal(sink.ended, undefined);
    sub.close();
  } finally {
    await t.close();
  }
});

test('stop through the API: BYE now and the stream ends for its viewers', async () => {
  const t = await setup({ closeAfterMs: 60_000 });
  try {
    const sink = new RecordingSink();
    await t.registry.subscribe(PATH, sink);
    assert.equal(await t.bridge.stop(DEVICE_ID, CHANNEL), true);
    assert.equal(t.sim.byes, 1);
    await waitFor(() => sink.ended, 2000, 'the viewer to end');
    assert.equal(t.bridge.inUseSsrcs(), 0);
  } finally {
    await t.close();
  }
});

test('a download INVITEs s=Download with a=downloadspeed at rtp/{dev}_{ch}_download, which is never INVITEd on demand; deleting the device ends it', async () => {
  const t = await setup();
  try {
    const path = downloadPath(DEVICE_ID, CHANNEL);
    assert.equal(parseGbPath(path), undefined, 'not a path the on-demand factory serves');
    let ended: string | undefined;
    const session = await t.bridge.download(DEVICE_ID, CHANNEL, { start: 1764489600, end: 1764489630 }, 8, (reason) => (ended = reason));
    assert.equal(session.target.path, path);
    const offer = t.sim.received.find((r) => r.method === 'INVITE')!.body.toString();
    assert.match(offer, /^s=Download$/m);
    assert.match(offer, /^t=1764489600 1764489630$/m);
    assert.match(offer, /^a=downloadspeed:8$/m);
    assert.match(offer, /^y=1\d{9}$/m);
    await assert.rejects(
      t.bridge.download(DEVICE_ID, CHANNEL, { start: 1764489600, end: 1764489630 }, 8, () => undefined),
      /being downloaded already/,
    );
    assert.deepEqual(
      t.bridge.invites().map((i) => [i.kind, i.speed, i.state]),
      [['download', 8, 'live']],
    );
    await t.bridge.stopDevice(DEVICE_ID, 'device deleted');
    await waitFor(() => ended, 2000, 'the download to hear its end');
    assert.match(ended!, /device deleted/);
    assert.equal(t.bridge.inUseSsrcs(), 0);
  } finally {
    await t.close();
  }
});
