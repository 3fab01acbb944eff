import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { publishTestPattern } from '../helpers/publisher';
import { listRecordings, probeErrors, probeSegment, recordDir, type RecordingJson } from '../helpers/recordings';

/**
 * One gateway, four independent real-time cases side by side (no shared paths): the 50 s
 * FLV+TS+HLS plan recording, event recording with pre-roll, a real cron window of 4 s, and
 * manual recording through the API.
 */
let gw: TestGateway;
const PLANS = [
  { id: 'main', streams: 'live/main', formats: 'flv,ts,hls' },
  // Pre-roll only: the window (1 January 00:00 for 1 s) is never open during the test.
  { id: 'events', streams: 'live/event', when: 'cron', cron: '0 0 1 1 *', duration: 1, preRoll: 8 },
];

before(async () => {
  gw = await startTestGateway({
    GW_RECORD_SEGMENT_SECONDS: '15',
    GW_HUB_RECONNECT_GRACE: '0',
    GW_RECORD_PLANS: JSON.stringify(PLANS),
  });
});

after(async () => {
  await gw?.stop();
});

async function api(method: string, url: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${gw.httpUrl}${url}`, {
    method,
    headers: { ...gw.authHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

async function closedRows(path: string, minimum: number): Promise<RecordingJson[]> {
  return waitFor(
    async () => {
      const { recordings } = await listRecordings(gw, path);
      return recordings.length >= minimum && recordings.every((r) => r.status === 'complete') && recordings;
    },
    30_000,
    `closed recordings of ${path}`,
  );
}

async function mainCase(): Promise<void> {
  const events: { path: string; format: string; file: string; bytes: number }[] = [];
  const off = gw.gateway.recording.manager.events.on('segment', (e) => events.push(e));
  const publisher = await publishTestPattern(gw, 'live/main', { seconds: 50, gop: 25, rate: 25 });
  await new Promise<void>((resolve) => publisher.child.once('exit', () => resolve()));
  await waitFor(() => !gw.gateway.registry.get('live/main'), 15_000, 'the stream to end');
  const rows = await closedRows('live/main', 9);
  const root = recordDir(gw);
  for (const format of ['flv', 'ts', 'hls'] as const) {
    const segments = rows.filter((r) => r.format === format);
    assert.ok(segments.length >= 3 && segments.length <= 5, `${format}: ${segments.length} segments of ~15 s in 50 s`);
    let total = 0;
    for (const row of segments) {
      const file = join(root, row.file);
      assert.ok(existsSync(file), `${row.file} exists`);
      const probe = await probeSegment(file);
      assert.equal(probe.decodeErrors, '', `${row.file} decodes silently`);
      assert.equal(probe.probeErrors, '', `${row.file} probes silently`);
      assert.deepEqual(probe.codecs.sort(), ['aac', 'h264']);
      assert.match(probe.firstVideoFlags ?? '', /K/, `${row.file} starts on a keyframe`);
      assert.equal(row.bytes, probe.fileBytes, `${row.file}: the row's bytes are the file's size`);
      assert.ok(Math.abs(probe.mediaSeconds * 1000 - row.durationMs) < 200, `${row.file}: ${probe.mediaSeconds}s of media, row says ${row.durationMs} ms`);
      assert.equal(row.videoCodec, 'h264');
      assert.equal(row.audioCodec, 'aac');
      assert.equal(row.width, 640);
      assert.equal(row.reason, 'plan');
      assert.equal(row.planId, 'main');
      total += row.durationMs;
    }
    for (let i = 1; i < segments.length; i++) assert.ok(Math.abs(segments[i]!.startMs - segments[i - 1]!.endMs) < 500, `${format}: segment ${i} starts where ${i - 1} ends`);
    // All but the last are cut at the first keyframe after 15 s (GOP 1 s).
    for (const row of segments.slice(0, -1)) assert.ok(row.durationMs >= 15_000 && row.durationMs <= 16_100, `${format}: ${row.durationMs} ms`);
    assert.ok(Math.abs(total - 50_000) <= 1000, `${format}: segments add up to ${total} ms of 50 s published (within one GOP)`);
  }
  const playlistFile = join(root, rows.find((r) => r.format === 'hls')!.file.replace(/[^/]+$/, 'index.m3u8'));
  const playlist = readFileSync(playlistFile, 'utf8');
  assert.match(playlist, /#EXT-X-ENDLIST/);
  assert.equal((playlist.match(/#EXTINF/g) ?? []).length, rows.filter((r) => r.format === 'hls').length);
  assert.equal(await probeErrors(playlistFile), '', 'the VOD playlist probes silently');
  // Index and files in step; one segment event per closed segment (hooks' on_record_segment).
  for (const row of rows) assert.equal(statSync(join(root, row.file)).size, row.bytes);
  off();
  const mine = events.filter((e) => e.path === 'live/main');
  assert.deepEqual(mine.map((e) => `${e.file} ${e.bytes}`).sort(), rows.map((r) => `${r.file} ${r.bytes}`).sort());
  // A file deleted by hand: its row says missing from the next query on.
  rmSync(join(root, rows[0]!.file));
  assert.equal((await listRecordings(gw, 'live/main')).recordings.find((r) => r.id === rows[0]!.id)?.status, 'missing');
}

async function eventCase(): Promise<void> {
  const publisher = await publishTestPattern(gw, 'live/event', { size: '320x240', gop: 25 });
  try {
    await new Promise((resolve) => setTimeout(resolve, 10_000)); // let the pre-roll fill
    const firstAt = Date.now();
    const first = await api('POST', '/api/record/event', { path: 'live/event', preSeconds: 5, postSeconds: 4 });
    assert.equal(first.status, 200, JSON.stringify(first.json));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const secondAt = Date.now();
    await api('POST', '/api/record/event', { path: 'live/event', preSeconds: 5, postSeconds: 4 });
    const rows = await closedRows('live/event', 1);
    assert.equal(rows.length, 1, 'the second event extended the first recording');
    const row = rows[0]!;
    assert.equal(row.reason, 'event');
    assert.ok(row.startMs <= firstAt - 5000, `starts ${firstAt - row.startMs} ms before the event (>= 5000)`);
    assert.ok(row.endMs >= secondAt + 4000 - 300 && row.endMs <= secondAt + 4000 + 2500, `ends ${row.endMs - secondAt} ms after the second event (~4000)`);
    const probe = await probeSegment(join(recordDir(gw), row.file));
    assert.equal(probe.decodeErrors, '');
    // The frames' own timestamps: from >= 5 s before the first event to ~4 s after the second.
    const wanted = (secondAt - firstAt + 5000 + 4000) / 1000;
    assert.ok(probe.mediaSeconds >= wanted - 0.3 && probe.mediaSeconds <= wanted + 3.5, `${probe.mediaSeconds}s of frames, wanted ~${wanted}s`);
  } finally {
    await publisher.stop();
  }
}

async function windowCase(): Promise<void> {
  const publisher = await publishTestPattern(gw, 'live/window', { size: '320x240', gop: 10 });
  try {
    // A real window: a 6-field (seconds) cron 4 s from now, open for 4 s.
    const opens = new Date(Math.ceil((Date.now() + 4000) / 1000) * 1000);
    const cron = `${opens.getSeconds()} ${opens.getMinutes()} * * * *`;
    const created = await api('POST', '/api/record/plans', { id: 'window', streams: ['live/window'], when: 'cron', cron, duration: 4 });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal((await listRecordings(gw, 'live/window')).total, 0, 'nothing before the window');
    await new Promise((resolve) => setTimeout(resolve, opens.getTime() + 4000 + 1500 - Date.now()));
    const rows = await closedRows('live/window', 1);
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.ok(Math.abs(row.startMs - opens.getTime()) <= 1500, `starts ${row.startMs - opens.getTime()} ms from the window's start`);
    assert.ok(Math.abs(row.endMs - (opens.getTime() + 4000)) <= 1500, `ends ${row.endMs - opens.getTime() - 4000} ms from the window's end`);
    assert.equal(row.planId, 'window');
    assert.equal((await api('DELETE', '/api/record/plans/window')).status, 204);
  } finally {
    await publisher.stop();
  }
}

async function manualCase(): Promise<void> {
  const publisher = await publishTestPattern(gw, 'live/manual', { size: '320x240', gop: 10, audio: false });
  try {
    assert.equal((await api('POST', '/api/record/start', { path: '../etc' })).status, 400, 'a path outside app/stream is refused');
    assert.equal((await api('POST', '/api/record/start', { path: 'live/manual', formats: ['ts'] })).status, 200);
    const active = (await api('GET', '/api/record/active')).json as { recorders: { path: string; reason: string; formats: string[]; state: string }[] };
    assert.ok(active.recorders.some((r) => r.path === 'live/manual' && r.reason === 'manual' && r.formats.join() === 'ts'));
    await new Promise((resolve) => setTimeout(resolve, 4000));
    assert.equal((await api('POST', '/api/record/stop', { path: 'live/manual' })).status, 200);
    assert.equal((await api('POST', '/api/record/stop', { path: 'live/manual' })).status, 404);
    const rows = await closedRows('live/manual', 1);
    assert.equal(rows[0]!.format, 'ts');
    assert.equal(rows[0]!.audioCodec, null);
    assert.equal((await probeSegment(join(recordDir(gw), rows[0]!.file))).decodeErrors, '');
    // Plans: config plans are read-only, bad input is a 400 naming the field, API plans round-trip.
    assert.equal((await api('PATCH', '/api/record/plans/main', { enabled: false })).status, 400);
    const badCron = await api('POST', '/api/record/plans', { id: 'bad', streams: ['live/x'], when: 'cron', cron: 'nope', duration: 5 });
    assert.equal(badCron.status, 400);
    assert.match((badCron.json as { message: string }).message, /cron/);
    assert.equal((await api('POST', '/api/record/plans', { id: 'week', streams: 'live/*', when: 'weekly', weekly: 'mon-fri 08:00-18:00', enabled: false })).status, 201);
    const week = (await api('PATCH', '/api/record/plans/week', { weekly: 'sat,sun 22:00-06:00' })).json as { weekly: string; enabled: boolean };
    assert.deepEqual([week.weekly, week.enabled], ['sat,sun 22:00-06:00', false]);
    assert.equal((await api('DELETE', '/api/record/plans/week')).status, 204);
    // Deleting a segment removes file and row; a second delete is a 404.
    const file = join(recordDir(gw), rows[0]!.file);
    assert.equal((await api('DELETE', `/api/recordings/${rows[0]!.id}`)).status, 204);
    assert.equal(existsSync(file), false);
    assert.equal((await api('DELETE', `/api/recordings/${rows[0]!.id}`)).status, 404);
  } finally {
    await publisher.stop();
  }
}

test('recording e2e: 50 s FLV+TS+HLS plan, event pre/post-roll, a real cron window and manual recording, side by side', async () => {
  const results = await Promise.allSettled([mainCase(), eventCase(), windowCase(), manualCase()]);
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${['main', 'event', 'window', 'manual'][i]}: ${(r.reason as Error).stack ?? String(r.reason)}`] : []));
  assert.deepEqual(failures, []);
});
