import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitAnnexB } from '../../../src/codecs/annexb';
import { h265Track } from '../../../src/codecs/h265/track';
import { isH265Keyframe } from '../../../src/codecs/h265/nal';
import { silentLogger } from '../../../src/core/log';
import type { Frame } from '../../../src/core/frame';
import { Amf0EcmaArray } from '../../../src/formats/amf0/amf0';
import { videoFrameBody, videoSequenceHeaderBody } from '../../../src/formats/flv/bodies';
import { FOURCC_HVC1 } from '../../../src/formats/flv/constants';
import { DEFAULT_REGISTRY_OPTIONS, Registry, type RegistryOptions } from '../../../src/hub/registry';
import { dataMessage } from '../../../src/protocols/rtmp/command';
import { pingRequestMessage, setChunkSizeMessage, windowAckSizeMessage } from '../../../src/protocols/rtmp/control';
import { MessageType } from '../../../src/protocols/rtmp/message';
import { RtmpServer, type RtmpServerOptions } from '../../../src/protocols/rtmp/server';
import { H264_TEST_TRACK, RecordingSink, TestSource, sleep, videoFrame } from '../../helpers/hub-fixtures';
import { TestRtmpClient } from './test-client';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'rtmp');
const FFMPEG_PUBLISH = readFileSync(join(FIXTURES, 'ffmpeg-publish-h264-aac.rtmp'));
const HEVC = splitAnnexB(readFileSync(join(FIXTURES, 'h265-160x120.h265')));

interface Env {
  registry: Registry;
  server: RtmpServer;
  port: number;
}

async function startEnv(hub: Partial<RegistryOptions> = {}, rtmp: Partial<RtmpServerOptions> = {}): Promise<Env> {
  const registry = new Registry({ ...DEFAULT_REGISTRY_OPTIONS, reconnectGraceMs: 0, waitForPublisherMs: 2000, ...hub }, silentLogger());
  const server = new RtmpServer({ host: '127.0.0.1', port: 0, registry, logger: silentLogger(), ...rtmp });
  const { port } = await server.listen();
  return { registry, server, port };
}

async function stopEnv(env: Env | undefined): Promise<void> {
  await env?.server.close();
  await env?.registry.close();
}

/** H.265 access units of the fixture: parameter sets, then one frame per VCL-bearing AU. */
function hevcAccessUnits(): { vps: Buffer; sps: Buffer; pps: Buffer; frames: Buffer[][] } {
  const type = (u: Buffer): number => (u[0]! >> 1) & 0x3f;
  const vps = HEVC.find((u) => type(u) === 32)!;
  const sps = HEVC.find((u) => type(u) === 33)!;
  const pps = HEVC.find((u) => type(u) === 34)!;
  const frames = HEVC.filter((u) => type(u) < 32).map((u) => [u]);
  return { vps, sps, pps, frames };
}

describe('RtmpSession with a replayed ffmpeg publish', () => {
  let env: Env;
  before(async () => {
    env = await startEnv();
  });
  after(() => stopEnv(env));

  for (const split of [false, true]) {
    it(`publishes H.264+AAC into the hub and answers like FMS${split ? ' (input in small pieces)' : ''}`, async () => {
      const sink = new RecordingSink();
      const subscribed = env.registry.subscribe('live/cam1', sink, { waitMs: 5000 });
      // The recording holds ffmpeg's own C0/C1/C2: the server's S0S1S2 are skipped.
      const client = await TestRtmpClient.open(env.port, { handshake: false, skip: 1 + 2 * 1536 });
      if (split) {
        for (let i = 0; i < FFMPEG_PUBLISH.length; i += 997) {
          client.raw(FFMPEG_PUBLISH.subarray(i, i + 997));
          await sleep(1);
        }
      } else {
        client.raw(FFMPEG_PUBLISH);
      }
      const subscription = await subscribed;
      await client.until(() => sink.ended !== undefined, 5000, 'the stream to end after deleteStream');
      await client.until(
        () => client.commands().some((c) => c.name === 'onStatus' && (c.args[0] as { code: string }).code === 'NetStream.Unpublish.Success'),
        2000,
        'Unpublish.Success',
      );
      const codes = client.commands().map((c) => (c.args[0] as { code?: string } | undefined)?.code ?? c.name);
      assert.deepEqual(codes.slice(0, 2), ['NetConnection.Connect.Success', '_result']);
      assert.ok(codes.includes('NetStream.Publish.Start'), codes.join());
      assert.equal(client.commands().find((c) => c.transactionId === 4)!.args[0], 1, 'createStream gives stream 1');
      const types = client.messages.map((m) => m.typeId);
      assert.deepEqual(types.slice(0, 3), [MessageType.windowAckSize, MessageType.setPeerBandwidth, MessageType.setChunkSize]);

      assert.deepEqual(
        sink.info!.tracks.map((t) => t.codec),
        ['h264', 'aac'],
      );
      const video = sink.frames.filter((f) => f.codec === 'h264');
      const audio = sink.frames.filter((f) => f.codec === 'aac');
      assert.equal(video.length, 25);
      assert.ok(audio.length >= 40, `audio frames: ${audio.length}`);
      assert.ok(video[0]!.keyframe);
      assert.ok(
        video.some((f) => f.pts > f.dts),
        'B-frames keep their composition offset',
      );
      for (const list of [video, audio]) {
        for (let i = 1; i < list.length; i++) assert.ok(list[i]!.dts >= list[i - 1]!.dts, 'dts never goes back');
      }
      subscription.close();
      await client.close();
    });
  }
});

describe('RtmpSession publisher reconnect and mutated input', () => {
  it('continues the timeline when a publisher comes back within the grace period', async () => {
    const env = await startEnv({ reconnectGraceMs: 5000 });
    try {
      const sink = new RecordingSink();
      const subscribed = env.registry.subscribe('live/cam1', sink, { waitMs: 5000 });
      for (let round = 0; round < 2; round++) {
        const client = await TestRtmpClient.open(env.port, { handshake: false, skip: 1 + 2 * 1536 });
        client.raw(FFMPEG_PUBLISH);
        await client.waitCommand('onStatus', 'NetStream.Unpublish.Success');
        await client.close();
      }
      await subscribed;
      const video = sink.frames.filter((f) => f.codec === 'h264');
      assert.equal(video.length, 50, 'both runs reach the viewer');
      for (let i = 1; i < video.length; i++) assert.ok(video[i]!.dts > video[i - 1]!.dts, `dts goes on at ${i}`);
      assert.ok(video[25]!.dts > video[24]!.dts, 'the second run continues after the first');
      assert.equal(sink.ended, undefined, 'the viewer stayed');
    } finally {
      await stopEnv(env);
    }
  });

  it('survives mutated publish sessions: each one only closes itself', async () => {
    const errors: string[] = [];
    const logger = { ...silentLogger(), error: (obj: object | string) => errors.push(JSON.stringify(obj)) };
    logger.child = () => logger;
    const env = await startEnv({}, { logger });
    try {
      let seed = 12345;
      const random = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      for (let round = 0; round < 30; round++) {
        const bytes = Buffer.from(FFMPEG_PUBLISH);
        for (let i = 0; i < 1 + random(8); i++) bytes[3073 + random(bytes.length - 3073)] = random(256);
        const client = await TestRtmpClient.open(env.port, { handshake: false, skip: 1 + 2 * 1536 });
        client.raw(bytes);
        await sleep(5);
        await client.close();
      }
      const check = await TestRtmpClient.open(env.port, { digest: true });
      await check.connectAndCreateStream();
      await check.close();
      assert.deepEqual(errors, [], 'no internal error, only bad-input closes');
    } finally {
      await stopEnv(env);
    }
  });
});

describe('RtmpSession publish and play', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ waitForPublisherMs: 500 });
  });
  after(() => stopEnv(env));

  async function publishHevc(path: string): Promise<TestRtmpClient> {
    const { vps, sps, pps, frames } = hevcAccessUnits();
    const client = await TestRtmpClient.open(env.port, { digest: true });
    const streamId = await client.connectAndCreateStream();
    client.send(setChunkSizeMessage(4096));
    client.command(streamId, 'publish', 3, null, path, 'live');
    await client.waitCommand('onStatus', 'NetStream.Publish.Start');
    const meta = new Amf0EcmaArray({ width: 160, height: 120, videocodecid: FOURCC_HVC1 });
    client.send(dataMessage(streamId, '@setDataFrame', 'onMetaData', meta));
    const track = h265Track(0, vps, sps, pps);
    const video = (timestamp: number, body: Buffer[]) => ({ chunkStreamId: 6, typeId: 9, streamId, timestamp, body });
    client.send(video(0, [videoSequenceHeaderBody(track, 'enhanced')]));
    frames.forEach((units, i) => {
      const frame: Frame = { trackId: 0, codec: 'h265', dts: i * 3600, pts: i * 3600, keyframe: isH265Keyframe(units), units, byteLength: 0, receivedAt: 0 };
      client.send(video(i * 40, videoFrameBody(frame, 'enhanced')));
    });
    return client;
  }

  it('takes an Enhanced RTMP (hvc1) publish and plays it back as hvc1', async () => {
    const sink = new RecordingSink();
    const subscribed = env.registry.subscribe('live/hevc', sink, { waitMs: 3000 });
    const publisher = await publishHevc('hevc');
    await subscribed;
    await publisher.until(() => sink.frames.length >= 5, 3000, 'five H.265 frames in the hub');
    assert.equal(sink.info!.tracks[0]!.codec, 'h265');
    assert.deepEqual([sink.info!.tracks[0]!.width, (sink.info!.tracks[0] as { height: number }).height], [160, 120]);
    assert.ok(sink.frames[0]!.keyframe);

    const viewer = await TestRtmpClient.open(env.port);
    const streamId = await viewer.connectAndCreateStream();
    viewer.command(streamId, 'play', 4, null, 'hevc');
    await viewer.waitCommand('onStatus', 'NetStream.Play.Start');
    const header = await viewer.waitMessage((m) => m.typeId === MessageType.video);
    assert.equal(header.body[0]! & 0x80, 0x80, 'ExVideoTagHeader');
    assert.equal(header.body.readUInt32BE(1), FOURCC_HVC1);
    assert.equal(header.body[0]! & 0x0f, 0, 'SequenceStart first');
    await viewer.waitMessage((m) => m.typeId === MessageType.video && (m.body[0]! & 0x0f) !== 0, 3000, 'a coded frame');
    await Promise.all([viewer.close(), publisher.close()]);
  });

  it('refuses a second publisher with NetStream.Publish.BadName', async () => {
    const first = await publishHevc('busy');
    await first.waitCommand('onStatus', 'NetStream.Publish.Start');
    const second = await TestRtmpClient.open(env.port);
    const streamId = await second.connectAndCreateStream();
    second.command(streamId, 'publish', 3, null, 'busy', 'live');
    const refused = await second.waitCommand('onStatus', 'NetStream.Publish.BadName');
    assert.equal((refused.args[0] as { level: string }).level, 'error');
    await second.closed;
    assert.equal(env.registry.get('live/busy')?.publisher?.kind, 'rtmp', 'the first publisher stays');
    await first.close();
  });

  it('refuses invalid names and answers play of a missing stream with StreamNotFound', async () => {
    const bad = await TestRtmpClient.open(env.port);
    const id = await bad.connectAndCreateStream();
    bad.command(id, 'publish', 3, null, '../../etc/passwd', 'live');
    await bad.waitCommand('onStatus', 'NetStream.Publish.BadName');
    await bad.closed;

    const viewer = await TestRtmpClient.open(env.port);
    const streamId = await viewer.connectAndCreateStream();
    viewer.command(streamId, 'play', 4, null, 'nothing?token=1');
    const status = await viewer.waitCommand('onStatus', 'NetStream.Play.StreamNotFound', 3000);
    assert.equal((status.args[0] as { level: string }).level, 'error');
    await viewer.closed;
  });

  it('lets a publisher deleteStream and keep its connection', async () => {
    const client = await publishHevc('gone');
    await client.waitCommand('onStatus', 'NetStream.Publish.Start');
    client.command(0, 'FCUnpublish', 5, null, 'gone');
    client.command(0, 'deleteStream', 6, null, 1);
    await client.waitCommand('onStatus', 'NetStream.Unpublish.Success');
    await client.until(() => env.registry.get('live/gone') === undefined, 2000, 'the stream to end');
    assert.equal(client.isClosed, false);
    await client.close();
  });

  it('answers a fourCcList with the FourCCs it carries', async () => {
    const client = await TestRtmpClient.open(env.port);
    client.command(0, 'connect', 1, { app: 'live', fourCcList: ['av01', 'hvc1', 'vp09'] });
    const result = await client.waitCommand('_result', 'NetConnection.Connect.Success');
    assert.deepEqual((result.commandObject as { fourCcList: string[] }).fourCcList, ['hvc1']);
    await client.close();
  });

  it('answers pings and acknowledges a window of received bytes', async () => {
    const client = await TestRtmpClient.open(env.port);
    await client.connectAndCreateStream();
    client.send(pingRequestMessage(1234));
    const pong = await client.waitMessage((m) => m.typeId === MessageType.userControl && m.body.readUInt16BE(0) === 7);
    assert.equal(pong.body.readUInt32BE(2), 1234);
    client.send(windowAckSizeMessage(2000));
    client.send(dataMessage(0, 'filler', 'x'.repeat(3000)));
    const ack = await client.waitMessage((m) => m.typeId === MessageType.acknowledgement);
    assert.ok(ack.body.readUInt32BE(0) >= 2000);
    await client.close();
  });
});

describe('RtmpSession timeouts and bad input', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({}, { idleTimeoutMs: 600, handshakeTimeoutMs: 400 });
  });
  after(() => stopEnv(env));

  it('closes a stalled handshake', async () => {
    const client = await TestRtmpClient.open(env.port, { handshake: false });
    client.raw(Buffer.from([3, 1, 2, 3]));
    await client.until(() => client.isClosed, 3000, 'the server to close');
    assert.equal(env.server.sessions().length, 0);
  });

  it('pings an idle client, then closes it', async () => {
    const client = await TestRtmpClient.open(env.port);
    await client.connectAndCreateStream();
    await client.waitMessage((m) => m.typeId === MessageType.userControl && m.body.readUInt16BE(0) === 6, 2000, 'a PingRequest');
    await client.until(() => client.isClosed, 3000, 'the idle close');
  });

  it('closes a publisher that sends no media even if it keeps talking', async () => {
    const client = await TestRtmpClient.open(env.port);
    const streamId = await client.connectAndCreateStream();
    client.command(streamId, 'publish', 3, null, 'quiet', 'live');
    await client.waitCommand('onStatus', 'NetStream.Publish.Start');
    const chatter = setInterval(() => client.send(pingRequestMessage(1)), 100);
    try {
      await client.until(() => client.isClosed, 3000, 'the idle close');
    } finally {
      clearInterval(chatter);
    }
    assert.equal(env.registry.get('live/quiet'), undefined);
  });

  it('closes a session that sends chunk garbage, and only that one', async () => {
    const good = await TestRtmpClient.open(env.port);
    await good.connectAndCreateStream();
    const bad = await TestRtmpClient.open(env.port);
    bad.raw(Buffer.from('c3c3c3c3', 'hex')); // type-3 chunks on a chunk stream never opened
    await bad.until(() => bad.isClosed, 2000, 'the bad session to close');
    good.send(pingRequestMessage(9));
    await good.waitMessage((m) => m.typeId === MessageType.userControl && m.body.readUInt16BE(0) === 7);
    assert.equal(good.isClosed, false);
    await good.close();
  });

  it('refuses commands before connect', async () => {
    const client = await TestRtmpClient.open(env.port);
    client.command(0, 'createStream', 2, null);
    await client.until(() => client.isClosed, 2000, 'the close');
  });

  it('lists sessions and kicks one', async () => {
    const client = await TestRtmpClient.open(env.port);
    await client.connectAndCreateStream();
    const [snap] = env.server.sessions();
    assert.equal(snap!.state, 'connected');
    assert.equal(snap!.app, 'live');
    assert.ok(env.server.kick(snap!.id));
    assert.equal(env.server.kick('nobody'), false);
    await client.until(() => client.isClosed, 2000, 'the kick');
  });
});

describe('RtmpSession with a viewer that never reads', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ backpressure: { maxPendingBytes: 256 * 1024, maxLagMs: 500 } });
  });
  after(() => stopEnv(env));

  it('drops the stuck viewer and keeps serving the others', async () => {
    const publisher = env.registry.publish('live/big', new TestSource());
    publisher.setTracks([H264_TEST_TRACK]);
    let dts = 0;
    let n = 0;
    const feed = setInterval(() => {
      publisher.write(videoFrame(dts, n++ % 10 === 0, 100_000));
      dts += 3600;
    }, 10);
    try {
      const stuck = await TestRtmpClient.open(env.port);
      const stuckId = await stuck.connectAndCreateStream();
      stuck.command(stuckId, 'play', 3, null, 'big');
      await stuck.waitCommand('onStatus', 'NetStream.Play.Start');
      stuck.socket.pause();
      const good = await TestRtmpClient.open(env.port);
      const goodId = await good.connectAndCreateStream();
      good.command(goodId, 'play', 3, null, 'big');
      await good.waitCommand('onStatus', 'NetStream.Play.Start');
      await good.until(() => env.server.sessions().filter((s) => s.role === 'player').length === 1, 8000, 'the stuck viewer to be dropped');
      const before = good.messages.length;
      await good.until(() => good.messages.length > before + 50, 3000, 'frames to keep coming to the good viewer');
      await Promise.all([good.close(), stuck.close()]);
    } finally {
      clearInterval(feed);
      publisher.end('test done');
    }
  });
});
