import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway, gbServerOf } from '../helpers/gateway';
import { captureHttp } from '../helpers/capture';
import { ffprobeJson } from '../helpers/media-tools';
import { GbDeviceSimulator, type SimulatorOptions } from '../helpers/gb-device-simulator';
import { makeChannels } from '../helpers/gb-sim-manscdp';

// Device recordings (RecordInfo), PTZ, presets, control commands and INVITE robustness over
// the real SIP path, against the device simulator.
const DEVICE = '34020000001320000001';
const CHANNELS = makeChannels(DEVICE, 2);
const CHANNEL = CHANNELS[0]!.id;
const BASE = new Date(2026, 10, 30, 8, 0, 0).getTime();
const RECORDS = Array.from({ length: 7 }, (_, i) => ({ startMs: BASE + i * 600_000, endMs: BASE + i * 600_000 + 300_000, type: 'time' as const }));

async function withDevice(
  run: (gw: TestGateway, sim: GbDeviceSimulator, dir: string) => Promise<void>,
  options: Partial<SimulatorOptions> = {},
  env: Record<string, string> = {},
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-gb-control-'));
  const gw = await startTestGateway({ GW_SIP_MEDIA_IP: '127.0.0.1', GW_HUB_CLOSE_AFTER: '1', GW_SIP_MEDIA_TIMEOUT: '3', GW_SIP_QUERY_TIMEOUT: '2', ...env });
  const sim = new GbDeviceSimulator({
    deviceId: DEVICE,
    ...gbServerOf(gw),
    channels: CHANNELS,
    records: RECORDS,
    recordChunk: 3,
    presets: [
      { id: 1, name: '大门' },
      { id: 2, name: 'Gate 2' },
    ],
    ...options,
  });
  try {
    assert.equal((await gw.api('POST', '/api/devices', { id: DEVICE, streamMode: 'udp' })).statusCode, 201);
    await sim.start();
    assert.equal((await sim.register())?.status, 200);
    await run(gw, sim, dir);
  } finally {
    await sim.close();
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const api = (gw: TestGateway, method: 'GET' | 'POST', url: string, payload?: object) => gw.api(method, url, payload);

test('RecordInfo over 3 messages joins to the full sorted list at GET .../records', async () => {
  await withDevice(async (gw, sim) => {
    const res = await api(
      gw,
      'GET',
      `/api/devices/${DEVICE}/channels/${CHANNEL}/records?start=${new Date(BASE).toISOString()}&end=${Math.floor((BASE + 86_400_000) / 1000)}&type=time`,
    );
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.messages, 3);
    assert.equal(body.complete, true);
    assert.equal(body.partial, false);
    assert.deepEqual(
      body.records.map((r: { startMs: number }) => r.startMs),
      RECORDS.map((r) => r.startMs),
    );
    assert.equal(body.records[0].playback, `rtp/${DEVICE}_${CHANNEL}_${BASE / 1000}_${BASE / 1000 + 300}`);
    const query = sim.received.find((r) => r.method === 'MESSAGE' && r.body.includes('RecordInfo'))!.body.toString();
    assert.match(query, new RegExp(`<DeviceID>${CHANNEL}</DeviceID>`));
    assert.match(query, /<Type>time<\/Type>/);
    assert.equal((await api(gw, 'GET', `/api/devices/${DEVICE}/channels/${CHANNEL}/records?start=x&end=1`)).statusCode, 400);
  });
});

test('PTZ, presets and device control reach the device with their bytes; answers and silences are said in plain words', async () => {
  await withDevice(async (gw, sim) => {
    const ptz = await api(gw, 'POST', `/api/devices/${DEVICE}/channels/${CHANNEL}/ptz`, { command: 'upleft', speed: 200 });
    assert.equal(ptz.statusCode, 200, ptz.body);
    assert.equal(ptz.json().ptzCmd, 'A50F010AC8C8004F');
    const call = await api(gw, 'POST', `/api/devices/${DEVICE}/channels/${CHANNEL}/presets`, { action: 'call', preset: 2 });
    assert.equal(call.statusCode, 200, call.body);
    await waitFor(() => sim.controls.length >= 2 || undefined, 2000, 'the commands at the device');
    assert.deepEqual(
      sim.controls.map((c) => [c.targetId, c.ptzCmd]),
      [
        [CHANNEL, 'A50F010AC8C8004F'],
        [CHANNEL, 'A50F018200020039'],
      ],
    );
    assert.match(sim.controls[1]!.xml, /^<\?xml[^>]*>\r\n<Control>\r\n<CmdType>DeviceControl<\/CmdType>/);

    const presets = await api(gw, 'GET', `/api/devices/${DEVICE}/channels/${CHANNEL}/presets`);
    assert.deepEqual(presets.json().presets, [
      { id: 1, name: '大门' },
      { id: 2, name: 'Gate 2' },
    ]);

    const record = await api(gw, 'POST', `/api/devices/${DEVICE}/control`, { command: 'record', channelId: CHANNEL });
    assert.equal(record.statusCode, 200, record.body);
    assert.deepEqual(record.json(), { command: 'RecordCmd', result: 'OK', message: `channel ${CHANNEL} of device ${DEVICE} carried out RecordCmd` });
    assert.match(sim.controls.at(-1)!.xml, /<RecordCmd>Record<\/RecordCmd>/);
    const config = await api(gw, 'POST', `/api/devices/${DEVICE}/config`, { heartbeatInterval: 30, heartbeatCount: 4 });
    assert.equal(config.statusCode, 200, config.body);
    assert.match(sim.controls.at(-1)!.xml, /<BasicParam>\r\n<HeartBeatInterval>30<\/HeartBeatInterval>\r\n<HeartBeatCount>4<\/HeartBeatCount>/);
    assert.equal(gw.gateway.gb28181!.server.session(DEVICE)!.heartbeatInterval, 30);
    const boot = await api(gw, 'POST', `/api/devices/${DEVICE}/control`, { command: 'teleboot' });
    assert.equal(boot.json().result, 'sent');

    sim.options.controlResult = 'ERROR';
    const guard = await api(gw, 'POST', `/api/devices/${DEVICE}/control`, { command: 'guard' });
    assert.equal(guard.statusCode, 502);
    assert.equal(guard.json().message, `device ${DEVICE} refused GuardCmd (Result ERROR)`);
    sim.options.controlResult = 'none';
    const reset = await api(gw, 'POST', `/api/devices/${DEVICE}/control`, { command: 'resetAlarm' });
    assert.equal(reset.statusCode, 504);
    assert.match(reset.json().message, new RegExp(`^device ${DEVICE} did not confirm AlarmCmd: no DeviceControl answer from device ${DEVICE} within 2 s$`));
    assert.equal((await api(gw, 'POST', `/api/devices/${DEVICE}/channels/${CHANNEL}/ptz`, { command: 'left', speed: 300 })).statusCode, 400);
  });
});

test('a live INVITE asks for a keyframe (IFameCmd); a 200 OK without SDP is taken as the offer, with a SIP-log warning', async () => {
  await withDevice(
    async (gw, sim, dir) => {
      const file = join(dir, 'nosdp.flv');
      const capture = await captureHttp(`${gw.httpUrl}/rtp/${DEVICE}_${CHANNEL}.flv`, file, 3000);
      assert.equal(capture.status, 200, capture.body);
      const probe = await ffprobeJson(file, ['-count_frames']);
      assert.ok(Number(probe.streams[0]?.nb_read_frames) >= 20, probe.stderr);
      await waitFor(() => sim.controls.find((c) => /<IFameCmd>Send<\/IFameCmd>/.test(c.xml)) ?? undefined, 2000, 'IFameCmd at the device');
      const log = (await api(gw, 'GET', `/api/devices/${DEVICE}/sip-log`)).json();
      const entries = (log.entries ?? log) as { summary: string }[];
      assert.ok(
        entries.some((e) => /^warning: device \d+ answered the INVITE .* with 200 OK without SDP: taken as accepting the offer as sent$/.test(e.summary)),
        JSON.stringify(entries.map((e) => e.summary)),
      );
    },
    { inviteAnswer: 'no-sdp' },
  );
});

test('an INVITE the device never answers is CANCELled (and its 487 absorbed); viewers get 504, a refused one 502', async () => {
  await withDevice(
    async (gw, sim, dir) => {
      const capture = await captureHttp(`${gw.httpUrl}/rtp/${DEVICE}_${CHANNEL}.flv`, join(dir, 'none.flv'), 6000);
      assert.equal(capture.status, 504, capture.body);
      assert.match(capture.body, /SOURCE_START_TIMEOUT/);
      assert.match(capture.body, /did not answer the INVITE for channel .* within 1 s/);
      await waitFor(() => sim.cancels === 1 || undefined, 3000, 'the CANCEL at the device');
      const cancel = sim.received.find((r) => r.method === 'CANCEL')!;
      const invite = sim.received.find((r) => r.method === 'INVITE')!;
      assert.equal(cancel.headers.get('call-id')?.[0], invite.headers.get('call-id')?.[0]);
      assert.equal(cancel.headers.get('via')?.[0], invite.headers.get('via')?.[0], 'the CANCEL carries the INVITE branch');
      assert.match(cancel.headers.get('cseq')?.[0] ?? '', /^\d+ CANCEL$/);
      assert.equal(gw.gateway.gb28181!.bridge.inUseSsrcs(), 0);
      sim.options.inviteAnswer = 486;
      const refused = await captureHttp(`${gw.httpUrl}/rtp/${DEVICE}_${CHANNELS[1]!.id}.flv`, join(dir, 'refused.flv'), 6000);
      assert.equal(refused.status, 502, refused.body);
      assert.match(refused.body, /SOURCE_START_FAILED/);
      assert.match(refused.body, /answered 486 Rejected to the INVITE for channel/);
      assert.equal(gw.gateway.gb28181!.bridge.inUseSsrcs(), 0);
    },
    { inviteAnswer: 'ignore' },
    { GW_SIP_INVITE_TIMEOUT: '1' },
  );
});

test('an alarm is stored, confirmed to the device, emitted for the console, and starts an event recording that decodes', async () => {
  await withDevice(
    async (gw, sim) => {
      const gb = gw.gateway.gb28181!;
      const events: { channelId: string; id: number | null }[] = [];
      gb.server.events.on('alarm', (alarm) => void events.push(alarm));
      const alarmAt = Math.floor(Date.now() / 1000) * 1000 - 2000;
      assert.equal((await sim.sendAlarm(CHANNEL, { priority: 1, method: 5, type: 2, timeMs: alarmAt, description: '移动侦测' }, 'NOTIFY'))?.status, 200);
      await waitFor(() => events.length === 1 || undefined, 2000, 'the alarm event');
      const listed = (await api(gw, 'GET', `/api/alarms?device=${DEVICE}&start=${alarmAt / 1000 - 60}&end=${new Date(alarmAt + 60_000).toISOString()}`)).json();
      assert.equal(listed.total, 1);
      assert.deepEqual(
        { ...listed.items[0], id: undefined, receivedAt: undefined },
        {
          id: undefined,
          receivedAt: undefined,
          deviceId: DEVICE,
          channelId: CHANNEL,
          priority: 1,
          method: 5,
          type: 2,
          alarmAt,
          description: '移动侦测',
          longitude: 116.397128,
          latitude: 39.916527,
        },
      );
      assert.equal(events[0]!.id, listed.items[0].id);
      await waitFor(
        () => sim.received.find((r) => r.method === 'MESSAGE' && /<Response>[\s\S]*<CmdType>Alarm<\/CmdType>[\s\S]*<Result>OK<\/Result>/.test(r.body.toString())) ?? undefined,
        2000,
        'the alarm Response at the device',
      );
      assert.equal((await api(gw, 'GET', `/api/alarms?device=34020000001320000099`)).json().total, 0);

      const path = `rtp/${DEVICE}_${CHANNEL}`;
      const row = await waitFor(
        () => gw.gateway.recording.repo.find({ path, startMs: 0, endMs: Date.now() + 60_000 }).find((r) => r.reason === 'event' && r.status === 'complete'),
        15_000,
        'the event recording',
      );
      const probe = await ffprobeJson(gw.gateway.recording.layout.inside(row.file), ['-count_frames']);
      assert.equal(probe.streams[0]?.codec_name, 'h264', probe.stderr);
      assert.ok(Number(probe.streams[0]?.nb_read_frames) >= 25, `decoded ${probe.streams[0]?.nb_read_frames} frames`);
    },
    {},
    { GW_SIP_ALARM_RECORD_POST: '2', GW_SIP_ALARM_RECORD_PRE: '0' },
  );
});
