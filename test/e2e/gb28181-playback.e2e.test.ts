import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway, gbServerOf } from '../helpers/gateway';
import { captureHttp } from '../helpers/capture';
import { ffprobeJson, type ProbePacket } from '../helpers/media-tools';
import { GbDeviceSimulator, type SimulatorOptions } from '../helpers/gb-device-simulator';
import { PS_FIXTURE_H264 } from '../helpers/gb-media-sender';
import { makeChannels } from '../helpers/gb-sim-manscdp';

// Playback of a device's own recording through the real SIP and RTP paths: the simulator serves
// the sb-im/sbgb28181 PS fixture (6 s, H.264 640x480, 25 fps, IDR every ~0.5 s) once per
// Playback INVITE, honours INFO MANSRTSP, and sends MediaStatus 121 at the end.
const DEVICE = '34020000001320000001';
const CHANNELS = makeChannels(DEVICE, 2);
const CHANNEL = CHANNELS[0]!.id;
const START = Math.floor(Date.UTC(2026, 10, 30, 8, 0, 0) / 1000);
const END = START + 3600;
const PATH = `rtp/${DEVICE}_${CHANNEL}_${START}_${END}`;
const FIXTURE_FRAMES = 149;

async function withDevice(run: (gw: TestGateway, sim: GbDeviceSimulator, dir: string) => Promise<void>, options: Partial<SimulatorOptions> = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-gb-playback-'));
  const gw = await startTestGateway({ GW_SIP_MEDIA_IP: '127.0.0.1', GW_HUB_CLOSE_AFTER: '1', GW_SIP_MEDIA_TIMEOUT: '3' });
  const sim = new GbDeviceSimulator({
    deviceId: DEVICE,
    ...gbServerOf(gw),
    channels: CHANNELS,
    playbackFixture: PS_FIXTURE_H264,
    ...options,
  });
  try {
    const created = await gw.api('POST', '/api/devices', { id: DEVICE, streamMode: 'udp' });
    assert.equal(created.statusCode, 201, created.body);
    await sim.start();
    assert.equal((await sim.register())?.status, 200);
    await run(gw, sim, dir);
  } finally {
    await sim.close();
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const post = (gw: TestGateway, url: string, payload?: object) => gw.api('POST', url, payload);
const playbackInfo = async (gw: TestGateway) => (await gw.api('GET', '/api/invites')).json().invites.find((i: { path: string }) => i.path === PATH);
const waitLive = (gw: TestGateway) => waitFor(async () => (await playbackInfo(gw))?.state === 'live' || undefined, 8000, 'the playback to go live');

function videoPackets(packets: ProbePacket[] | undefined): number[] {
  return (packets ?? []).filter((p) => p.stream_index === 0).map((p) => Number(p.dts_time));
}

function medianStep(times: number[]): number {
  const steps = times
    .slice(1)
    .map((t, i) => t - times[i]!)
    .sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)] ?? 0;
}

test('GB28181 playback: Playback INVITE (s=, u=, t=, SSRC prefix 1), HTTP-FLV decodes, MediaStatus 121 ends the stream', async () => {
  await withDevice(async (gw, sim, dir) => {
    const file = join(dir, 'playback.flv');
    const began = Date.now();
    const capture = await captureHttp(`${gw.httpUrl}/${PATH}.flv`, file, 20_000);
    const elapsed = Date.now() - began;
    assert.equal(capture.status, 200, capture.body);
    assert.ok(elapsed < 15_000, `the stream ended by itself after ${elapsed} ms`);
    const offer = sim.received.find((r) => r.method === 'INVITE')!.body.toString();
    assert.match(offer, /^s=Playback$/m);
    assert.match(offer, new RegExp(`^u=${CHANNEL}:0$`, 'm'));
    assert.match(offer, new RegExp(`^t=${START} ${END}$`, 'm'));
    assert.match(offer, /^y=1\d{9}$/m);
    const dialog = [...sim.dialogs.values()][0]!;
    assert.equal(dialog.endSent, true, 'MediaStatus 121 sent');
    await waitFor(() => dialog.byeReceived || undefined, 3000, 'the BYE after MediaStatus 121');
    const probe = await ffprobeJson(file, ['-count_frames']);
    const video = probe.streams.find((s) => s.codec_type === 'video');
    assert.equal(video?.codec_name, 'h264', probe.stderr);
    assert.equal(video?.width, 640);
    assert.ok(Number(video?.nb_read_frames) >= FIXTURE_FRAMES - 10, `decoded ${video?.nb_read_frames} of ${FIXTURE_FRAMES} frames`);
    const info = await playbackInfo(gw);
    assert.equal(info.kind, 'playback');
    assert.match(info.endReason, /MediaStatus 121/);
    await waitFor(() => gw.gateway.registry.list().length === 0 || undefined, 3000, 'the stream to end');
    assert.equal(gw.gateway.gb28181!.bridge.inUseSsrcs(), 0);
  });
});

test('GB28181 playback at speed 4: INFO Scale reaches the device and the timestamps are rescaled (players play 4x)', async () => {
  await withDevice(async (gw, sim, dir) => {
    const file = join(dir, 'fast.flv');
    const capturing = captureHttp(`${gw.httpUrl}/${PATH}.flv`, file, 20_000);
    await waitLive(gw);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const speed = await post(gw, `/api/playback/${PATH}/speed`, { speed: 4 });
    assert.equal(speed.statusCode, 200, speed.body);
    assert.equal(speed.json().speed, 4);
    const changedAt = Date.now();
    const capture = await capturing;
    assert.equal(capture.status, 200);
    const dialog = [...sim.dialogs.values()][0]!;
    assert.match(dialog.infos.join('\n'), /^PLAY RTSP\/1\.0\r\nCSeq: \d+\r\nScale: 4\.0\r\n/m);
    // The rest of the 6 s fixture arrives 4 times faster than real time.
    assert.ok(Date.now() - changedAt < 4500, `ended ${Date.now() - changedAt} ms after the speed change`);
    const probe = await ffprobeJson(file, ['-show_packets', '-count_frames']);
    const times = videoPackets(probe.packets);
    assert.ok(times.length >= FIXTURE_FRAMES - 10, `${times.length} video packets`);
    const early = medianStep(times.slice(0, 12));
    const late = medianStep(times.slice(-40));
    assert.ok(early > 0.035 && early < 0.045, `1x frame step ${early} s`);
    assert.ok(late > 0.008 && late < 0.012, `4x frame step ${late} s (device timestamps unscaled would give 0.04)`);
    assert.equal(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264', probe.stderr);
  });
});

test('GB28181 playback pause for 20 s keeps the dialog without viewers; resume plays on', async () => {
  await withDevice(async (gw, sim, dir) => {
    const first = captureHttp(`${gw.httpUrl}/${PATH}.flv`, join(dir, 'before.flv'), 1500);
    await waitLive(gw);
    const paused = await post(gw, `/api/playback/${PATH}/pause`);
    assert.equal(paused.statusCode, 200, paused.body);
    assert.equal(paused.json().paused, true);
    await first;
    // No viewer, no RTP: closeAfter is 1 s and the media timeout 3 s; the pause outlives both.
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    const dialog = [...sim.dialogs.values()][0]!;
    assert.equal(dialog.byeReceived, false, 'no BYE during the pause');
    assert.equal((await playbackInfo(gw)).state, 'live');
    assert.match(dialog.infos[0]!, /^PAUSE RTSP\/1\.0\r\nCSeq: \d+\r\nPauseTime: now\r\n/);
    const file = join(dir, 'after.flv');
    const second = captureHttp(`${gw.httpUrl}/${PATH}.flv`, file, 2500);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const resumed = await post(gw, `/api/playback/${PATH}/resume`);
    assert.equal(resumed.statusCode, 200, resumed.body);
    assert.match(dialog.infos[1]!, /^PLAY RTSP\/1\.0\r\nCSeq: \d+\r\nRange: npt=now-\r\n/);
    assert.equal((await second).status, 200);
    const probe = await ffprobeJson(file, ['-count_frames']);
    assert.ok(Number(probe.streams[0]?.nb_read_frames) >= 30, `decoded ${probe.streams[0]?.nb_read_frames} frames after resume`);
  });
});

test('GB28181 playback seek: Range npt=4- lands at 4 s (the rest of the recording follows, then the end)', async () => {
  await withDevice(async (gw, sim, dir) => {
    const file = join(dir, 'seek.flv');
    const capturing = captureHttp(`${gw.httpUrl}/${PATH}.flv`, file, 20_000);
    await waitLive(gw);
    const seek = await post(gw, `/api/playback/${PATH}/seek`, { position: 4 });
    assert.equal(seek.statusCode, 200, seek.body);
    const seekedAt = Date.now();
    const dialog = [...sim.dialogs.values()][0]!;
    assert.match(dialog.infos[0]!, /^PLAY RTSP\/1\.0\r\nCSeq: \d+\r\nRange: npt=4-\r\n/);
    assert.equal((await capturing).status, 200);
    // From the keyframe at 3.66 s, 2.3 s of content remain.
    const afterSeek = Date.now() - seekedAt;
    assert.ok(afterSeek > 1500 && afterSeek < 4500, `ended ${afterSeek} ms after the seek`);
    const probe = await ffprobeJson(file, ['-count_frames']);
    const frames = Number(probe.streams[0]?.nb_read_frames);
    assert.ok(frames >= 50 && frames < 110, `decoded ${frames} frames (all ${FIXTURE_FRAMES} without the seek)`);
    assert.equal(probe.stderr.trim(), '');
  });
});
