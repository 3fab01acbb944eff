import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway, gbServerOf } from '../helpers/gateway';
import { ffprobePath, runTool } from '../helpers/media-tools';
import { GbDeviceSimulator } from '../helpers/gb-device-simulator';
import { PS_FIXTURE_H264 } from '../helpers/gb-media-sender';
import { makeChannels } from '../helpers/gb-sim-manscdp';

// GB28181 downloads (s=Download) through the real SIP and RTP paths: the simulator serves exactly
// the t= range (the sb-im/sbgb28181 PS fixture, H.264 25 fps, IDR about every 0.5 s, looped to the
// range's length) at a=downloadspeed times real time, then MediaStatus 121. One device talks SIP
// over UDP with UDP media, the other SIP over TCP with tcp-passive media.
const GOP_MS = 1000;
const RANGE_S = 24;
const DEVICE_UDP = '34020000001320000001';
const DEVICE_TCP = '34020000001320000002';
// A day ago on a whole minute: the device's recording has ended.
const START = Math.floor(Date.now() / 60_000) * 60 - 86_400;
const END = START + RANGE_S;

interface Download {
  id: number;
  state: string;
  percent: number;
  mediaMs: number;
  bytes: number;
  error: string | null;
  fileSize: number | null;
  achievedSpeed: number | null;
  recordingIds: number[];
  playback: string;
  path: string;
}

async function device(gw: TestGateway, id: string, transport: 'udp' | 'tcp'): Promise<GbDeviceSimulator> {
  const created = await gw.api('POST', '/api/devices', { id, streamMode: transport === 'udp' ? 'udp' : 'tcp-passive' });
  assert.equal(created.statusCode, 201, created.body);
  const sim = new GbDeviceSimulator({
    deviceId: id,
    ...gbServerOf(gw),
    transport,
    channels: makeChannels(id, 1),
    playbackFixture: PS_FIXTURE_H264,
    serveRange: true,
  });
  await sim.start();
  assert.equal((await sim.register())?.status, 200);
  return sim;
}

/** GET `url` into `file`; the status. */
async function fetchTo(url: string, file: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { headers });
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  return res.status;
}

const getDownload = async (gw: TestGateway, id: number): Promise<Download> => (await gw.api('GET', `/api/downloads/${id}`)).json();

/** ffprobe -v error of a file: its stderr (must be empty) and the container's duration, s. */
async function probe(file: string): Promise<{ stderr: string; duration: number; frames: number }> {
  const result = await runTool(ffprobePath, ['-v', 'error', '-count_frames', '-show_entries', 'format=duration:stream=nb_read_frames', '-of', 'json', file]);
  const json = JSON.parse(result.stdout || '{}') as { format?: { duration?: string }; streams?: { nb_read_frames?: string }[] };
  return { stderr: result.stderr.trim(), duration: Number(json.format?.duration), frames: Number(json.streams?.[0]?.nb_read_frames) };
}

test('GB28181 download: speed 4 into the recording index on the device clock, progress 0->100, plays back by its range; a cancelled one stays a clean, shorter recording', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-gb-download-'));
  const gw = await startTestGateway({ GW_SIP_MEDIA_IP: '127.0.0.1', GW_SIP_MEDIA_TIMEOUT: '3' });
  const sims: GbDeviceSimulator[] = [];
  try {
    const udp = await device(gw, DEVICE_UDP, 'udp');
    sims.push(udp);
    const channel = makeChannels(DEVICE_UDP, 1)[0]!.id;
    const unauthenticated = await gw.gateway.http!.inject({ method: 'GET', url: '/api/downloads' });
    assert.equal(unauthenticated.statusCode, 401, 'behind the API auth');
    assert.equal((await gw.api('POST', '/api/downloads', { deviceId: DEVICE_UDP, channelId: channel, start: END, end: START })).statusCode, 400);

    const began = Date.now();
    const posted = await gw.api('POST', '/api/downloads', { deviceId: DEVICE_UDP, channelId: channel, start: START, end: END, speed: 4 });
    assert.equal(posted.statusCode, 201, posted.body);
    const first = posted.json() as Download;
    assert.equal(first.state, 'downloading');
    assert.ok(first.fileSize !== null && first.fileSize > 100_000, `the a=filesize of the device's answer: ${first.fileSize}`);
    const offer = udp.received.find((r) => r.method === 'INVITE')!.body.toString();
    assert.match(offer, /^s=Download$/m);
    assert.match(offer, new RegExp(`^u=${channel}:0$`, 'm'));
    assert.match(offer, new RegExp(`^t=${START} ${END}$`, 'm'));
    assert.match(offer, /^a=downloadspeed:4$/m);
    assert.match(offer, /^y=1\d{9}$/m, 'SSRC with the history prefix 1');

    const percents: number[] = [first.percent];
    const done = await waitFor(
      async () => {
        const now = await getDownload(gw, first.id);
        percents.push(now.percent);
        return now.state !== 'downloading' ? now : undefined;
      },
      RANGE_S * 1000,
      'the download to end',
    );
    const wallMs = Date.now() - began;
    assert.equal(done.state, 'complete', JSON.stringify(done));
    assert.equal(done.percent, 100);
    assert.ok(percents[0]! < 50, `progress starts low: ${percents.join(' ')}`);
    assert.deepEqual(
      [...percents].sort((a, b) => a - b),
      percents,
      `progress never goes back: ${percents.join(' ')}`,
    );
    assert.ok(
      percents.some((p) => p > 0 && p < 100),
      `progress in between was seen: ${percents.join(' ')}`,
    );
    assert.ok(Math.abs(done.mediaMs - RANGE_S * 1000) <= GOP_MS, `media ${done.mediaMs} ms of ${RANGE_S} s`);
    // Faster than real time by the speed asked (about 4 on a quiet machine; the bound leaves room for load).
    assert.ok(done.achievedSpeed !== null && done.achievedSpeed > 2, `achieved speed ${done.achievedSpeed}`);
    t.diagnostic(`download of ${RANGE_S} s at speed 4: ${wallMs} ms from POST to complete, achieved speed ${done.achievedSpeed}, ${done.bytes} bytes`);
    assert.equal([...udp.dialogs.values()][0]!.endSent, true, 'MediaStatus 121 ended it');

    const listed = (await gw.api('GET', `/api/recordings?path=${done.path}&start=${START * 1000 - 60_000}&end=${END * 1000 + 60_000}`)).json();
    assert.equal(listed.recordings.length, 1, JSON.stringify(listed));
    const row = listed.recordings[0];
    assert.deepEqual(done.recordingIds, [row.id]);
    assert.equal(row.reason, 'download');
    assert.equal(row.status, 'complete');
    assert.equal(row.startMs, START * 1000, 'the row starts at the device time asked for, not the wall clock');
    assert.ok(Math.abs(row.endMs - END * 1000) <= GOP_MS, `the row ends within a GOP of the range end: ${row.endMs - END * 1000} ms`);
    const file = join(dir, 'download.flv');
    assert.equal(await fetchTo(`${gw.httpUrl}/api/recordings/${row.id}/file`, file, gw.authHeaders), 200);
    const stored = await probe(file);
    assert.equal(stored.stderr, '', 'ffprobe -v error is silent');
    assert.ok(Math.abs(stored.duration - RANGE_S) <= GOP_MS / 1000, `file duration ${stored.duration} s`);
    assert.ok(stored.frames >= RANGE_S * 25 - 25, `frames ${stored.frames}`);

    const played = join(dir, 'played.flv');
    assert.equal(await fetchTo(`${gw.httpUrl}${done.playback}`, played), 200);
    const replay = await probe(played);
    assert.equal(replay.stderr, '');
    assert.ok(Math.abs(replay.duration - RANGE_S) <= GOP_MS / 1000, `played duration ${replay.duration} s`);

    const tcp = await device(gw, DEVICE_TCP, 'tcp');
    sims.push(tcp);
    const tcpChannel = makeChannels(DEVICE_TCP, 1)[0]!.id;
    const slow = (await gw.api('POST', '/api/downloads', { deviceId: DEVICE_TCP, channelId: tcpChannel, start: START, end: END, speed: 2 })).json() as Download;
    assert.equal(slow.state, 'downloading', JSON.stringify(slow));
    const busy = await gw.api('POST', '/api/downloads', { deviceId: DEVICE_TCP, channelId: tcpChannel, start: START, end: END });
    assert.equal(busy.statusCode, 409, 'one download per channel at a time');
    await waitFor(async () => (await getDownload(gw, slow.id)).percent >= 15 || undefined, 15_000, 'the second download to pass 15 %');
    const cancelled = await gw.api('DELETE', `/api/downloads/${slow.id}`);
    assert.equal(cancelled.statusCode, 200, cancelled.body);
    const gone = cancelled.json() as Download;
    assert.equal(gone.state, 'cancelled');
    assert.match(gone.error ?? '', /^cancelled through the API at \d+(\.\d)?%$/);
    assert.ok(gone.percent > 0 && gone.percent < 100, `cancelled at ${gone.percent} %`);
    await waitFor(() => tcp.byes === 1 || undefined, 3000, 'the BYE at the device');
    assert.equal(gone.recordingIds.length, 1);
    const partRow = (await gw.api('GET', `/api/recordings?path=${gone.path}&start=${START * 1000}&end=${END * 1000}`)).json().recordings[0];
    assert.equal(partRow.status, 'complete', 'a cancelled download closes its file cleanly');
    assert.ok(partRow.endMs < END * 1000 - 2000, 'and it covers only what came');
    const part = join(dir, 'part.flv');
    assert.equal(await fetchTo(`${gw.httpUrl}/api/recordings/${partRow.id}/file`, part, gw.authHeaders), 200);
    const partial = await probe(part);
    assert.equal(partial.stderr, '', 'the cancelled file is not corrupt');
    assert.ok(Math.abs(partial.duration * 1000 - (partRow.endMs - partRow.startMs)) <= GOP_MS, `partial duration ${partial.duration} s vs its row`);

    tcp.options.inviteAnswer = 404;
    const refused = await gw.api('POST', '/api/downloads', { deviceId: DEVICE_TCP, channelId: tcpChannel, start: START, end: END });
    assert.equal(refused.statusCode, 502, refused.body);
    assert.match(refused.json().message, /answered 404 .* to the INVITE for channel/);

    const all = (await gw.api('GET', '/api/downloads')).json();
    assert.deepEqual(
      all.items.map((d: Download) => d.state),
      ['failed', 'cancelled', 'complete'],
    );
    assert.match(all.items[0].error, /answered 404 Rejected to the INVITE/, 'a refused download is listed as failed with why');
    assert.equal((await gw.api('DELETE', `/api/downloads/${first.id}`)).statusCode, 204, 'a finished download is forgotten');
    assert.equal((await gw.api('GET', `/api/downloads/${first.id}`)).statusCode, 404);
    assert.equal((await gw.api('GET', `/api/recordings?path=${done.path}&start=${START * 1000}&end=${END * 1000}`)).json().recordings.length, 1, 'its recording stays');
  } finally {
    for (const sim of sims) await sim.close();
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
