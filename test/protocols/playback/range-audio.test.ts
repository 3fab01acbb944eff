import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { GatewayError } from '../../../src/core/errors';
import { FLV_TAG_AUDIO, FlvDemuxer } from '../../../src/formats/flv';
import { WsAudioSink } from '../../../src/protocols/ws-audio/audio-sink';
import { AUDIO_HEADER_BYTES } from '../../../src/protocols/ws-audio/message';
import { makeRecordings, startPlaybackServer, T0 } from './fixtures';

/**
 * The G.711 of a recorded range (`/record/{app}/{stream}.g711`) against the FLV of the same range:
 * recordings cut by ffmpeg (H.264 + A-law FLV, a 10 s gap before the third segment), each audio
 * message must be the FLV's A-law tag of the same time, with the same samples.
 */
const dir = mkdtempSync(join(tmpdir(), 'gw-playback-audio-'));
let server: Awaited<ReturnType<typeof startPlaybackServer>>;
let g711: Awaited<ReturnType<typeof makeRecordings>>;
let refuse = false;

before(async () => {
  server = await startPlaybackServer(dir, {
    audioSink: (socket, raw, remote) => new WsAudioSink(socket, raw, remote),
    admission: async (request) => {
      if (refuse && request.protocol === 'record-ws-g711') throw new GatewayError('FORBIDDEN', 'not this one');
    },
  });
  g711 = await makeRecordings(dir, server.db, 'flv', 'live/g711', 'flv', 'g711a');
  await makeRecordings(dir, server.db, 'flv', 'live/g711u', 'flv', 'g711u');
  await makeRecordings(dir, server.db, 'flv', 'live/aac');
});
after(async () => {
  await server.app.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Heard {
  texts: string[];
  messages: Buffer[];
  code: number;
  reason: string;
}

function collect(url: string): Promise<Heard> {
  return new Promise((resolve, reject) => {
    const heard: Heard = { texts: [], messages: [], code: 0, reason: '' };
    const ws = new WebSocket(url);
    ws.on('message', (data: Buffer, binary) => (binary ? heard.messages.push(data) : heard.texts.push(data.toString())));
    ws.on('error', reject);
    ws.on('close', (code, reason) => resolve({ ...heard, code, reason: reason.toString() }));
  });
}

/** The G.711 tags (SoundFormat 7 A-law, 8 µ-law) of the FLV range over WebSocket: ms and samples. */
async function flvAudio(query: string, path = 'live/g711', soundFormat = 7): Promise<{ ms: number; samples: Buffer }[]> {
  const heard = await collect(`${server.base.replace('http', 'ws')}/record/${path}.flv?${query}`);
  assert.equal(heard.code, 1000, heard.reason);
  const tags = new FlvDemuxer().feed(Buffer.concat(heard.messages));
  return tags.filter((t) => t.type === FLV_TAG_AUDIO && t.body[0]! >> 4 === soundFormat).map((t) => ({ ms: t.timestampMs, samples: t.body.subarray(1) }));
}

function messagesOf(heard: Heard): { ms: number; samples: Buffer }[] {
  return heard.messages.map((m) => ({ ms: Math.round(m.readDoubleBE(2) / 90), samples: m.subarray(AUDIO_HEADER_BYTES) }));
}

const ws = (path: string): string => `${server.base.replace('http', 'ws')}${path}`;

test('the G.711 of a range is the FLV range’s A-law, frame for frame, with its timestamps, paced at 1x', { timeout: 20_000 }, async () => {
  const start = T0 + 7_300;
  const query = `start=${start}&end=${start + 2000}`;
  const began = performance.now();
  const heard = await collect(ws(`/record/live/g711.g711?${query}`));
  const tookMs = performance.now() - began;
  assert.equal(heard.code, 1000, heard.reason);
  assert.deepEqual(JSON.parse(heard.texts[0]!), { type: 'start', path: 'live/g711', codec: 'g711a', sampleRate: 8000 });
  assert.equal(heard.messages[0]![1], 8, 'A-law as RTP payload type 8');
  const expected = await flvAudio(query);
  assert.ok(expected.length > 12, `${expected.length} A-law tags in the FLV range`);
  assert.deepEqual(
    messagesOf(heard).map((m) => [m.ms, m.samples.toString('hex')]),
    expected.map((e) => [e.ms, e.samples.toString('hex')]),
  );
  // About 2.x s of sound (the range starts at the keyframe before `start`), sent 0.5 s ahead.
  const soundMs = expected.at(-1)!.ms - expected[0]!.ms;
  assert.ok(tookMs >= soundMs - 600 && tookMs < soundMs + 1500, `paced at 1x: ${Math.round(tookMs)} ms for ${soundMs} ms of sound`);
});

test('at= starts the sound that far into the range, on the range’s own timeline, also after a closed gap', { timeout: 20_000 }, async () => {
  // From 1 s before the second segment's end over the 10 s gap into the third.
  const start = g711.starts[1]! + 14_000;
  const query = `start=${start}&end=${g711.starts[2]! + 1500}`;
  const expected = await flvAudio(query);
  const after = expected.find((e, i) => i > 0 && e.ms - expected[i - 1]!.ms > 0 && e.ms > 1500);
  assert.ok(after, 'the FLV range has sound past 1.5 s');
  const at = after.ms;
  const heard = await collect(ws(`/record/live/g711.g711?${query}&at=${at}`));
  assert.equal(heard.code, 1000, heard.reason);
  const got = messagesOf(heard);
  assert.ok(got.length > 5, `${got.length} frames from at=${at}`);
  assert.ok(got[0]!.ms >= at - 1 && got[0]!.ms <= at + 60, `the first frame is at ${got[0]!.ms} ms, asked ${at}`);
  const tail = expected.filter((e) => e.ms >= got[0]!.ms);
  assert.deepEqual(
    got.map((m) => [m.ms, m.samples.toString('hex')]),
    tail.map((e) => [e.ms, e.samples.toString('hex')]),
  );
});

test('refusals close like the video range: speed other than 1, no G.711, admission, no recording, bad at; plain GET is 426', { timeout: 20_000 }, async () => {
  const start = T0 + 3000;
  const sped = await collect(ws(`/record/live/g711.g711?start=${start}&speed=2`));
  assert.equal(sped.code, 4400);
  assert.match(sped.reason, /speed 1 only/);
  const aac = await collect(ws(`/record/live/aac.g711?start=${start}`));
  assert.equal(aac.code, 4415, aac.reason);
  assert.equal(aac.messages.length, 0);
  const none = await collect(ws(`/record/live/g711.g711?start=${T0 - 3600_000}&end=${T0 - 60_000}`));
  assert.equal(none.code, 4404, none.reason);
  const badAt = await collect(ws(`/record/live/g711.g711?start=${start}&at=-5`));
  assert.equal(badAt.code, 4400, badAt.reason);
  refuse = true;
  try {
    const refused = await collect(ws(`/record/live/g711.g711?start=${start}`));
    assert.equal(refused.code, 4403, refused.reason);
  } finally {
    refuse = false;
  }
  const plain = await fetch(`${server.base}/record/live/g711.g711?start=${start}`);
  assert.equal(plain.status, 426);
});

test('a µ-law recording: its frames go out as µ-law (payload type 0), the FLV range’s tags one for one', { timeout: 20_000 }, async () => {
  const query = `start=${T0 + 20_000}&end=${T0 + 21_000}`;
  const heard = await collect(ws(`/record/live/g711u.g711?${query}`));
  assert.equal(heard.code, 1000, heard.reason);
  assert.equal(JSON.parse(heard.texts[0]!).codec, 'g711u');
  assert.ok(
    heard.messages.every((m) => m[1] === 0),
    'µ-law is RTP payload type 0',
  );
  const expected = await flvAudio(query, 'live/g711u', 8);
  assert.ok(expected.length > 5);
  assert.deepEqual(
    messagesOf(heard).map((m) => [m.ms, m.samples.toString('hex')]),
    expected.map((e) => [e.ms, e.samples.toString('hex')]),
  );
});
