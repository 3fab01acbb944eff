import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { publishTestPattern } from '../helpers/publisher';
import { ffmpegPath, ffprobeJson, runTool } from '../helpers/media-tools';
import { tsIntegrity } from '../formats/mpegts/helpers';
import { fetchPlaylist, followHls } from '../protocols/hls/hls-client';

let gw: TestGateway;
let publisher: Awaited<ReturnType<typeof publishTestPattern>>;
const dir = mkdtempSync(join(tmpdir(), 'gw-hls-'));

before(async () => {
  gw = await startTestGateway({ GW_HUB_WAIT_FOR_PUBLISHER: '1' });
  publisher = await publishTestPattern(gw, 'live/hls');
});

after(async () => {
  await publisher?.stop();
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('ffprobe reads the HLS URL and ffmpeg decodes live HLS without a single message', async () => {
  const url = `${gw.httpUrl}/live/hls/index.m3u8`;
  const probe = await ffprobeJson(url, [], 30_000);
  assert.equal(probe.stderr.trim(), '', probe.stderr);
  const video = probe.streams.find((s) => s.codec_type === 'video');
  const audio = probe.streams.find((s) => s.codec_type === 'audio');
  assert.equal(video?.codec_name, 'h264');
  assert.equal(video?.width, 640);
  assert.equal(video?.height, 360);
  assert.equal(audio?.codec_name, 'aac');
  assert.equal(audio?.sample_rate, '44100');
  assert.equal(audio?.channels, 2);
  // Decode 6 s of the live HLS; framecrc prints one line per decoded frame ("stream, dts, ...").
  const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', url, '-t', '6', '-f', 'framecrc', '-'], 40_000);
  assert.equal(decode.code, 0, decode.stderr);
  assert.equal(decode.stderr.trim(), '', `ffmpeg printed: ${decode.stderr}`);
  const lines = decode.stdout.split('\n').filter((l) => /^\d+,/.test(l));
  const decoded = lines.filter((l) => l.startsWith('0,')).length;
  assert.ok(
    lines.some((l) => l.startsWith('1,')),
    'audio decoded too',
  );
  assert.ok(decoded >= 125, `decoded ${decoded} frames of 6 s`);
});

test('playlists and segments: version 3, target duration, sliding media sequence, keyframe starts, live caching, CORS', async () => {
  const followed = await followHls(`${gw.httpUrl}/live/hls/index.m3u8`, 9000);
  assert.ok(followed.firstPlaylistMs < gw.config.hls.playlistWait * 1000, `first playlist after ${Math.round(followed.firstPlaylistMs)} ms`);
  const first = followed.playlists[0]!;
  assert.equal(first.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  assert.equal(first.headers.get('cache-control'), 'no-cache');
  assert.equal(first.headers.get('access-control-allow-origin'), null, 'CORS only for http.cors.origins (test/e2e/access.e2e.test.ts)');
  assert.ok(first.playlist!.segments.length >= 2, 'the first playlist already lists two segments');
  for (const { playlist } of followed.playlists) {
    assert.equal(playlist!.version, 3);
    assert.equal(playlist!.targetDuration, 2);
    assert.equal(playlist!.endList, false);
    assert.ok(playlist!.segments.length <= gw.config.hls.windowSegments);
    for (const s of playlist!.segments) assert.ok(Math.round(s.duration) <= playlist!.targetDuration!);
  }
  const sequences = followed.playlists.map((p) => p.playlist!.mediaSequence);
  assert.ok(sequences.at(-1)! > sequences[0]!, `the window slides (${sequences.join(',')})`);
  assert.ok(followed.segments.length >= 4, `${followed.segments.length} segments downloaded`);
  for (const s of followed.segments) {
    assert.equal(s.status, 200);
    assert.equal(s.headers.get('content-type'), 'video/mp2t');
    assert.match(s.headers.get('cache-control') ?? '', /^max-age=\d+$/);
    assert.ok(Math.abs(s.duration - 2) < 0.05, `segment of ${s.duration} s (GOP 1 s, segmentSeconds 2)`);
    const integrity = tsIntegrity(s.data);
    assert.ok(integrity.firstVideoRandomAccess, `segment ${s.sequence} starts with a keyframe`);
    assert.equal(((s.data[1]! & 0x1f) << 8) | s.data[2]!, 0, 'and with the PAT');
  }
  const sequenceList = followed.segments.map((s) => s.sequence);
  assert.deepEqual(
    sequenceList,
    sequenceList.map((_, i) => sequenceList[0]! + i),
    'no segment missed',
  );
  const joined = Buffer.concat(followed.segments.map((s) => s.data));
  const integrity = tsIntegrity(joined);
  assert.equal(integrity.continuityErrors, 0, 'continuity counters run on across segments');
  assert.equal(integrity.dtsBackwards, 0);
  const file = join(dir, 'joined.ts');
  writeFileSync(file, joined);
  const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.equal(decode.stderr.trim(), '', decode.stderr);
});

test('an HLS viewer is a reader of the stream (readers.byProtocol.hls) while it asks', async () => {
  const watching = followHls(`${gw.httpUrl}/live/hls/index.m3u8`, 4000);
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const stream = (await (await fetch(`${gw.httpUrl}/api/streams/live/hls`, { headers: gw.authHeaders })).json()) as { readers: { byProtocol: Record<string, number> } };
  assert.ok(stream.readers.byProtocol.hls! >= 1, JSON.stringify(stream.readers));
  await watching;
});

test('an unknown stream answers 404 STREAM_NOT_FOUND; a bad segment name 400', async () => {
  const master = await fetchPlaylist(`${gw.httpUrl}/live/none/index.m3u8`);
  assert.equal(master.status, 404);
  assert.equal((JSON.parse(master.text) as { code: string }).code, 'STREAM_NOT_FOUND');
  const bad = await fetch(`${gw.httpUrl}/live/hls/abc.ts?session=abcdefgh`);
  assert.equal(bad.status, 400);
  const gone = await fetch(`${gw.httpUrl}/live/hls/999999.ts?session=abcdefgh`);
  assert.equal(gone.status, 404);
});

test('one request for a playlist is one viewer (its session), not two: the shared TS feed is no reader', async () => {
  const fresh = await startTestGateway();
  const pub = await publishTestPattern(fresh, 'live/once', { size: '320x180', audio: false });
  try {
    const response = await fetch(`${fresh.httpUrl}/live/once/index.m3u8`);
    assert.equal(response.status, 200);
    await response.text();
    const stream = (await (await fetch(`${fresh.httpUrl}/api/streams/live/once`, { headers: fresh.authHeaders })).json()) as {
      readers: { total: number; byProtocol: Record<string, number> };
    };
    assert.deepEqual(stream.readers, { total: 1, byProtocol: { hls: 1 } });
    const sessions = (await (await fetch(`${fresh.httpUrl}/api/sessions`, { headers: fresh.authHeaders })).json()) as {
      sessions: { role: string; path: string; protocol: string }[];
    };
    assert.deepEqual(
      sessions.sessions.filter((s) => s.role === 'subscriber' && s.path === 'live/once').map((s) => s.protocol),
      ['hls'],
    );
  } finally {
    await pub.stop();
    await fresh.stop();
  }
});
