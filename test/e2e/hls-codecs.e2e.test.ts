import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway } from '../helpers/gateway';
import { captureHttp } from '../helpers/capture';
import { readFlvFrames, startFlvFileSource } from '../helpers/flv-file-source';
import { ffmpegPath, ffprobeJson, runTool } from '../helpers/media-tools';
import { tsFileMedia, tsIntegrity } from '../formats/mpegts/helpers';
import { followHls } from '../protocols/hls/hls-client';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures');

test('H.265 (x265 with B-frames) + AAC comes out of HTTP-TS and HLS as hevc that ffmpeg decodes cleanly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-hevc-'));
  const gw = await startTestGateway();
  const media = tsFileMedia(readFileSync(join(FIXTURES, 'mpegts', 'ffmpeg-h265-aac.mpegts')));
  const source = startFlvFileSource(gw.gateway.registry, 'live/hevc', media); // replays the frames in real time, looped
  try {
    const file = join(dir, 'http.ts');
    const result = await captureHttp(`${gw.httpUrl}/live/hevc.ts`, file, 3000);
    assert.equal(result.status, 200);
    const followed = await followHls(`${gw.httpUrl}/live/hevc/index.m3u8`, 5000);
    const hlsFile = join(dir, 'hls.ts');
    writeFileSync(hlsFile, Buffer.concat(followed.segments.map((s) => s.data)));
    for (const f of [file, hlsFile]) {
      const probe = await ffprobeJson(f, ['-count_frames']);
      assert.equal(probe.stderr.trim(), '', probe.stderr);
      const video = probe.streams.find((s) => s.codec_type === 'video');
      assert.equal(video?.codec_name, 'hevc');
      assert.equal(video?.width, 320);
      assert.equal(video?.height, 240);
      assert.ok(Number(video?.nb_read_frames) >= 25, `${video?.nb_read_frames} frames`);
      assert.equal(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
      const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', f, '-f', 'null', '-']);
      assert.equal(decode.stderr.trim(), '', decode.stderr);
      const integrity = tsIntegrity(readFileSync(f));
      assert.equal(integrity.continuityErrors, 0);
      assert.ok(integrity.firstVideoRandomAccess);
    }
    const master = await (await fetch(`${gw.httpUrl}/live/hevc/index.m3u8`)).text();
    assert.match(master, /CODECS="hvc1\.1\.6\.L\d+\.B0,mp4a\.40\.2"/);
  } finally {
    source.stop('test done');
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('G.711 audio is left out of HTTP-TS and HLS; the video still plays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-g711-'));
  const gw = await startTestGateway();
  const media = readFlvFrames(join(FIXTURES, 'flv', 'ffmpeg-h264-g711a.flv'));
  assert.deepEqual(media.tracks.map((t) => t.codec).sort(), ['g711a', 'h264']);
  const source = startFlvFileSource(gw.gateway.registry, 'live/g711', media);
  try {
    const file = join(dir, 'http.ts');
    assert.equal((await captureHttp(`${gw.httpUrl}/live/g711.ts`, file, 2500)).status, 200);
    const probe = await ffprobeJson(file);
    assert.deepEqual(
      probe.streams.map((s) => s.codec_name),
      ['h264'],
    );
    const followed = await followHls(`${gw.httpUrl}/live/g711/index.m3u8`, 3000);
    const master = await (await fetch(`${gw.httpUrl}/live/g711/index.m3u8`)).text();
    assert.match(master, /CODECS="avc1\.[0-9a-f]{6}"\n/);
    const hlsFile = join(dir, 'hls.ts');
    writeFileSync(hlsFile, Buffer.concat(followed.segments.map((s) => s.data)));
    assert.deepEqual(
      (await ffprobeJson(hlsFile)).streams.map((s) => s.codec_name),
      ['h264'],
    );
  } finally {
    source.stop('test done');
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
