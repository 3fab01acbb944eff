import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ffmpegPath, ffprobeJson, runTool, type ProbePacket } from '../../helpers/media-tools';
import { makeRecordings, SEGMENT_MS, startPlaybackServer, T0 } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'gw-playback-'));
let server: { app: FastifyInstance; base: string };
let flv: Awaited<ReturnType<typeof makeRecordings>>;
let ts: Awaited<ReturnType<typeof makeRecordings>>;
let hls: Awaited<ReturnType<typeof makeRecordings>>;

before(async () => {
  const started = await startPlaybackServer(dir);
  server = started;
  flv = await makeRecordings(dir, started.db, 'flv', 'live/cam');
  ts = await makeRecordings(dir, started.db, 'ts', 'live/tscam');
  hls = await makeRecordings(dir, started.db, 'ts', 'live/hlscam', 'hls');
});
after(async () => {
  await server.app.close();
  rmSync(dir, { recursive: true, force: true });
});

const iso = (ms: number): string => new Date(ms).toISOString();

async function probeRange(url: string, ext: string): Promise<{ packets: ProbePacket[]; stderr: string; file: string }> {
  const response = await fetch(url);
  assert.equal(
    response.status,
    200,
    await response
      .clone()
      .text()
      .catch(() => ''),
  );
  const file = join(dir, `probe-${Math.random().toString(36).slice(2)}.${ext}`);
  writeFileSync(file, Buffer.from(await response.arrayBuffer()));
  const probe = await ffprobeJson(file, ['-show_packets']);
  const video = probe.streams.find((s) => s.codec_type === 'video')!;
  return { packets: probe.packets!.filter((p) => p.stream_index === video.index), stderr: probe.stderr, file };
}

for (const [name, path, source, exts] of [
  ['FLV', 'live/cam', () => flv, ['flv', 'ts', 'mp4']],
  ['TS', 'live/tscam', () => ts, ['flv', 'ts', 'mp4']],
  ['HLS', 'live/hlscam', () => hls, ['ts']],
] as const) {
  for (const ext of exts) {
    test(`${name} recordings as .${ext}: a mid-segment range over three segments starts on a keyframe, closes the gap, keeps time moving forward`, async () => {
      assert.equal(source().ids.length, 3);
      // 7 s into the first segment to 5 s into the third (which starts after a 10 s gap).
      const start = T0 + 7_300;
      const end = source().starts[2]! + 5_000;
      const { packets, stderr, file } = await probeRange(`${server.base}/record/${path}.${ext}?start=${iso(start)}&end=${end}`, ext);
      const expected = (source().starts[1]! - start) / 1000 + 15 + 5;
      assert.equal(stderr.trim(), '', stderr);
      assert.ok(packets[0]!.flags.startsWith('K'), 'first frame is a keyframe');
      const times = packets.map((p) => Number(p.dts_time));
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `dts goes back at ${i}`);
      // Played: the rest of the first, 15 s, 5 s, plus up to one GOP (1 s) before the start.
      const duration = times.at(-1)! - times[0]! + 0.04;
      assert.ok(duration >= expected - 0.1 && duration <= expected + 1.1, `duration ${duration}, expected ${expected}`);
      const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', file, '-f', 'null', '-']);
      assert.equal(decode.stderr.trim(), '', decode.stderr);
    });
  }
}

test('the range response reports its bounds and the gap; download=1 names the file', async () => {
  const response = await fetch(`${server.base}/record/live/cam.mp4?start=${T0 + 1000}&download=1`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'video/mp4');
  const [, second, third] = flv.starts;
  const gap = response.headers
    .get('x-playback-gaps')!
    .split('/')
    .map((t) => Date.parse(t));
  assert.ok(Math.abs(gap[0]! - (second! + SEGMENT_MS)) < 100 && gap[1] === third, response.headers.get('x-playback-gaps')!);
  assert.match(response.headers.get('content-disposition')!, /^attachment; filename="live_cam_20260301T024001Z-20260301T02405[45]Z\.mp4"$/);
  await response.arrayBuffer();
});

test('unknown stream, empty range and bad times: 404/400 with {code, message}', async () => {
  for (const [url, status, code] of [
    [`/record/live/nothing.flv?start=${T0}`, 404, 'NOT_FOUND'],
    [`/record/live/cam.flv?start=${T0 - 3_600_000}&end=${T0 - 1_000}`, 404, 'NOT_FOUND'],
    [`/record/live/cam.flv?start=yesterday`, 400, 'BAD_REQUEST'],
    [`/record/live/cam.flv?start=2026-03-01T02:40:00`, 400, 'BAD_REQUEST'],
    [`/record/live/cam.flv?start=${T0}&speed=40`, 400, 'BAD_REQUEST'],
  ] as const) {
    const response = await fetch(`${server.base}${url}`);
    assert.equal(response.status, status, url);
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, code, url);
    assert.ok(body.message.length > 0);
  }
});

test('segment file: Accept-Ranges, 206 for first bytes, middle and suffix, 416 past the end, ETag and Last-Modified, 304', async () => {
  const id = flv.ids[1]!;
  const bytes = readFileSync(join(dir, flv.files[1]!));
  const url = `${server.base}/api/recordings/${id}/file`;
  const whole = await fetch(url);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  assert.ok(Buffer.from(await whole.arrayBuffer()).equals(bytes));
  const etag = whole.headers.get('etag')!;
  assert.ok(etag && whole.headers.get('last-modified'));
  const mid = Math.floor(bytes.length / 2);
  for (const [range, from, to] of [
    ['bytes=0-99', 0, 99],
    [`bytes=${mid}-${mid + 1000}`, mid, mid + 1000],
    ['bytes=-500', bytes.length - 500, bytes.length - 1],
    [`bytes=${mid}-`, mid, bytes.length - 1],
  ] as const) {
    const response = await fetch(url, { headers: { range } });
    assert.equal(response.status, 206, range);
    assert.equal(response.headers.get('content-range'), `bytes ${from}-${to}/${bytes.length}`);
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(bytes.subarray(from, to + 1)), range);
  }
  const beyond = await fetch(url, { headers: { range: `bytes=${bytes.length}-` } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get('content-range'), `bytes */${bytes.length}`);
  await beyond.arrayBuffer();
  const cached = await fetch(url, { headers: { 'if-none-match': etag } });
  assert.equal(cached.status, 304);
  const missing = await fetch(`${server.base}/api/recordings/999999/file`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { code: string }).code, 'NOT_FOUND');
});

test('timeline: the gap splits the day into two intervals; days lists the date', async () => {
  const response = await fetch(`${server.base}/api/recordings/timeline?path=live/cam&start=${T0 - 3_600_000}&end=${T0 + 3_600_000}`);
  const body = (await response.json()) as { intervals: { startMs: number; endMs: number }[] };
  assert.equal(body.intervals.length, 2);
  assert.equal(body.intervals[0]!.startMs, flv.starts[0]);
  assert.equal(body.intervals[1]!.startMs, flv.starts[2]);
  assert.ok(body.intervals[1]!.startMs - body.intervals[0]!.endMs >= 9_900);
  const days = (await (await fetch(`${server.base}/api/recordings/days?path=live/cam&month=2026-03`)).json()) as { days: string[] };
  assert.deepEqual(days.days, ['2026-03-01']);
  const none = (await (await fetch(`${server.base}/api/recordings/days?path=live/cam&month=2026-04`)).json()) as { days: string[] };
  assert.deepEqual(none.days, []);
});

test('HLS VOD: VOD playlist with a PROGRAM-DATE-TIME per segment, DISCONTINUITY at the gap, segments remuxed from FLV that ffprobe reads', async () => {
  const start = T0 + 7_300;
  const text = await (await fetch(`${server.base}/record/live/cam/index.m3u8?start=${start}&end=${T0 + 3 * SEGMENT_MS + 10_000}&token=abc`)).text();
  const lines = text.trim().split('\n');
  assert.ok(lines.includes('#EXT-X-PLAYLIST-TYPE:VOD') && lines.at(-1) === '#EXT-X-ENDLIST', text);
  const uris = lines.filter((l) => !l.startsWith('#'));
  assert.equal(uris.length, 3);
  assert.equal(lines.filter((l) => l.startsWith('#EXT-X-PROGRAM-DATE-TIME:')).length, 3);
  assert.equal(lines.filter((l) => l === '#EXT-X-DISCONTINUITY').length, 1);
  assert.ok(lines.indexOf('#EXT-X-DISCONTINUITY') > lines.indexOf(uris[1]!));
  const firstPdt = Date.parse(lines.find((l) => l.startsWith('#EXT-X-PROGRAM-DATE-TIME:'))!.slice(25));
  assert.ok(firstPdt <= start && firstPdt > start - 1000, 'the first segment starts at the keyframe before start');
  assert.ok(uris.every((u) => u.includes('token=abc')));
  const segment = await fetch(`${server.base}/record/live/cam/${uris[1]}`);
  assert.equal(segment.status, 200);
  const file = join(dir, 'vod-1.ts');
  writeFileSync(file, Buffer.from(await segment.arrayBuffer()));
  const probe = await ffprobeJson(file, ['-show_packets']);
  assert.equal(probe.stderr.trim(), '', probe.stderr);
  const video = probe.packets!.filter((p) => p.stream_index === probe.streams.find((s) => s.codec_type === 'video')!.index);
  assert.ok(video[0]!.flags.startsWith('K'));
  // On the playlist's timeline: segment 2 starts where its PROGRAM-DATE-TIME is after the first.
  const secondPdt = Date.parse(lines.filter((l) => l.startsWith('#EXT-X-PROGRAM-DATE-TIME:'))[1]!.slice(25));
  assert.ok(Math.abs(Number(video[0]!.dts_time) - (secondPdt - firstPdt) / 1000) < 0.05, `segment 2 starts at ${video[0]!.dts_time}`);
  assert.equal(video.length, 15 * 25);
});

function openSegmentFds(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir) && readlinkSync(`/proc/self/fd/${fd}`).includes('seg-')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

test('a client that disconnects from a real-time range stops the read at once (the file is closed)', async () => {
  const controller = new AbortController();
  const response = await fetch(`${server.base}/record/live/cam.flv?start=${T0}&speed=1`, { signal: controller.signal });
  const reader = response.body!.getReader();
  const first = await reader.read();
  assert.ok(first.value && first.value.length > 0);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(openSegmentFds(), 1, 'one segment open while playing');
  controller.abort();
  const closed = Date.now();
  while (openSegmentFds() > 0 && Date.now() - closed < 2000) await new Promise((r) => setTimeout(r, 10));
  assert.equal(openSegmentFds(), 0);
  assert.ok(Date.now() - closed < 500, `closed after ${Date.now() - closed} ms`);
});
