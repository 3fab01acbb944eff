import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway, gbServerOf } from '../helpers/gateway';
import { ffprobeJson } from '../helpers/media-tools';
import { startRtspPublisher, startRtspServer, waitForPublishing } from '../helpers/rtsp-server';
import { GbDeviceSimulator } from '../helpers/gb-device-simulator';
import { makeChannels } from '../helpers/gb-sim-manscdp';
import { listRecordings, probeSegment, recordDir } from '../helpers/recordings';

const DEVICE = '34020000001320000001';
const CHANNELS = makeChannels(DEVICE, 2);
const CHANNEL = CHANNELS[0]!.id;
const GB_PATH = `rtp/${DEVICE}_${CHANNEL}`;

async function api(gw: TestGateway, method: string, url: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${gw.httpUrl}${url}`, {
    method,
    headers: { ...gw.authHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

/**
 * On-demand sources with an `always` plan and no viewer: an RTSP proxy of a camera with G.711A
 * (ffmpeg into rtsp-streaming-server) and a GB28181 channel of the device simulator (plan by
 * channel id). The pulls start for the recorders alone and end when the plans are disabled.
 */
test(
  'always plans pull an RTSP proxy (H.264 + PCMA) and a GB28181 channel with no viewer, record FLV (pcm_alaw decodes), and release both when disabled',
  { timeout: 90_000 },
  async () => {
    const server = await startRtspServer('rtsp-streaming-server');
    const publisher = startRtspPublisher(server.publishUrl('live/pcma'), { transport: 'udp', audio: 'pcma' });
    const gw = await startTestGateway({ GW_SIP_MEDIA_IP: '127.0.0.1', GW_HUB_CLOSE_AFTER: '1', GW_RECORD_RETRY: '1' });
    const sim = new GbDeviceSimulator({
      deviceId: DEVICE,
      ...gbServerOf(gw),
      channels: CHANNELS,
      transport: 'udp',
    });
    try {
      await waitForPublishing(publisher);
      await sim.start();
      assert.equal((await sim.register())?.status, 200);
      await waitFor(() => gw.gateway.gb28181!.channels.list({ deviceId: DEVICE }).total === CHANNELS.length || undefined, 10_000, 'the catalog');
      assert.equal((await api(gw, 'POST', '/api/proxies', { path: 'cams/pcma', url: server.playUrl('live/pcma'), transport: 'udp' })).status, 201);
      assert.equal(gw.gateway.registry.get('cams/pcma'), undefined, 'on demand: nothing pulls yet');

      for (const [id, streams] of [
        ['rtsp', ['cams/pcma']],
        ['gb', [CHANNEL]],
      ] as const) {
        const created = await api(gw, 'POST', '/api/record/plans', { id, streams, formats: ['flv'], when: 'always' });
        assert.equal(created.status, 201, JSON.stringify(created.json));
      }
      await waitFor(() => gw.gateway.registry.get('cams/pcma')?.ready && gw.gateway.registry.get(GB_PATH)?.ready, 20_000, 'both pulls to start for the recorders');
      assert.equal(sim.invites, 1, 'the GB channel was INVITEd for the recorder');
      assert.equal(gw.gateway.registry.sessions().filter((s) => s.role === 'subscriber' && s.protocol !== 'record' && s.protocol !== 'ts-mux').length, 0, 'no viewer');
      await new Promise((resolve) => setTimeout(resolve, 5000));

      for (const id of ['rtsp', 'gb']) assert.equal((await api(gw, 'PATCH', `/api/record/plans/${id}`, { enabled: false })).status, 200);
      await waitFor(() => !gw.gateway.registry.get('cams/pcma') && !gw.gateway.registry.get(GB_PATH), 15_000, 'both sources to stop after closeAfter');
      await waitFor(() => sim.byes >= 1 || undefined, 5000, 'the BYE to the device');

      const rtsp = (await listRecordings(gw, 'cams/pcma')).recordings;
      assert.equal(rtsp.length, 1);
      assert.equal(rtsp[0]!.status, 'complete');
      assert.deepEqual([rtsp[0]!.videoCodec, rtsp[0]!.audioCodec], ['h264', 'g711a']);
      const rtspFile = join(recordDir(gw), rtsp[0]!.file);
      const probe = await ffprobeJson(rtspFile, ['-count_frames']);
      assert.equal(probe.stderr.trim(), '', probe.stderr);
      const audio = probe.streams.find((s) => s.codec_type === 'audio');
      assert.deepEqual([audio?.codec_name, audio?.sample_rate, audio?.channels], ['pcm_alaw', '8000', 1]);
      assert.ok(Number(audio?.nb_read_frames) >= 20, `G.711 frames ${audio?.nb_read_frames}`);
      assert.equal((await probeSegment(rtspFile)).decodeErrors, '');
      assert.ok(rtsp[0]!.durationMs >= 4000, `${rtsp[0]!.durationMs} ms`);

      const gb = (await listRecordings(gw, GB_PATH)).recordings;
      assert.equal(gb.length, 1);
      assert.equal(gb[0]!.planId, 'gb');
      const gbProbe = await probeSegment(join(recordDir(gw), gb[0]!.file));
      assert.equal(gbProbe.decodeErrors, '');
      assert.ok(gbProbe.codecs.includes('h264'));
      assert.ok(gb[0]!.durationMs >= 3000, `${gb[0]!.durationMs} ms`);
    } finally {
      await sim.close();
      await gw.stop();
      await publisher.stop();
      await server.stop();
    }
  },
);
