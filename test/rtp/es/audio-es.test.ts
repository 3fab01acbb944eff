import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { splitAdts } from '../../../src/codecs/aac/adts';
import { AudioEs, guessAudioCodec, type RawAudioAu } from '../../../rtp/es/audio-es';
import { STREAM_TYPE } from '../../../src/formats/mpegts/constants';
import { fixture } from '../helpers';

const ADTS = fixture('ps', 'es-aac-8k-0.4s.adts');
const ALAW = fixture('ps', 'es-g711a-8k-0.4s.alaw');

function collect(streamType: number | undefined): { es: AudioEs; aus: RawAudioAu[] } {
  const aus: RawAudioAu[] = [];
  return { es: new AudioEs(streamType, 'g711a', (au) => aus.push(au)), aus };
}

test('guesses the audio codec from label and payload', () => {
  const adts = ADTS.subarray(0, 16);
  assert.equal(guessAudioCodec(STREAM_TYPE.AAC_ADTS, adts, 'g711a'), 'aac');
  assert.equal(guessAudioCodec(STREAM_TYPE.G711A, ALAW, 'g711u'), 'g711a');
  assert.equal(guessAudioCodec(STREAM_TYPE.G711U, ALAW, 'g711a'), 'g711u');
  assert.equal(guessAudioCodec(STREAM_TYPE.G711A, adts, 'g711a'), 'aac', 'AAC mislabelled as G.711');
  assert.equal(guessAudioCodec(undefined, ALAW, 'g711u'), 'g711u');
  assert.equal(guessAudioCodec(undefined, Buffer.from([0xff, 0xfd, 0x90, 0x00]), 'g711a'), 'unsupported', 'MP2 without PSM');
  assert.equal(guessAudioCodec(0x03, ALAW, 'g711a'), 'unsupported');
});

test('AAC: ADTS frames split at arbitrary PES boundaries come out whole, with PES PTS and extrapolated times', () => {
  const expected = splitAdts(ADTS).frames;
  const { es, aus } = collect(STREAM_TYPE.AAC_ADTS);
  for (let o = 0, k = 0; o < ADTS.length; o += 100, k++) {
    es.pesStart(k % 3 === 0 ? 90_000 + o : undefined);
    es.data(ADTS.subarray(o, o + 100));
    es.pesEnd();
  }
  assert.equal(aus.length, expected.length);
  assert.deepEqual(
    aus.map((a) => a.data.toString('hex')),
    expected.map((f) => f.toString('hex')),
  );
  assert.equal(aus[0]!.pts, 90_000);
  assert.equal(aus[0]!.adts?.sampleRate, 8000);
  for (let i = 1; i < aus.length; i++) assert.ok(aus[i]!.pts! > aus[i - 1]!.pts!, 'times increase');
});

test('AAC mislabelled as G.711 (0x90) is decoded as AAC and flagged', () => {
  const { es, aus } = collect(STREAM_TYPE.G711A);
  es.pesStart(0);
  es.data(ADTS);
  es.pesEnd();
  assert.equal(es.codec, 'aac');
  assert.equal(es.stats.mislabelled, true);
  assert.equal(aus.length, splitAdts(ADTS).frames.length);
});

test('AAC: garbage inside the stream is skipped up to the next ADTS header', () => {
  const { es, aus } = collect(STREAM_TYPE.AAC_ADTS);
  const frames = splitAdts(ADTS);
  const first = frames.config!.frameLength;
  es.pesStart(0);
  es.data(Buffer.concat([ADTS.subarray(0, first), Buffer.from('0102030405', 'hex'), ADTS.subarray(first)]));
  assert.equal(aus.length, frames.frames.length);
  assert.equal(es.stats.errors, 1);
});

test('G.711: one access unit per PES, timed by the PES or by the byte count', () => {
  const { es, aus } = collect(STREAM_TYPE.G711A);
  for (let o = 0, k = 0; o < ALAW.length; o += 320, k++) {
    es.pesStart(k === 0 ? 9000 : undefined);
    es.data(ALAW.subarray(o, o + 160));
    es.data(ALAW.subarray(o + 160, o + 320));
    es.pesEnd();
  }
  assert.equal(aus.length, 10);
  assert.deepEqual(
    aus.map((a) => a.pts),
    Array.from({ length: 10 }, (_, i) => 9000 + i * 3600),
  );
  assert.ok(aus.every((a) => a.codec === 'g711a' && a.data.length === 320));
});

test('discontinuity drops the partial frame', () => {
  const { es, aus } = collect(STREAM_TYPE.G711U);
  es.pesStart(0);
  es.data(ALAW.subarray(0, 100));
  es.discontinuity();
  es.pesStart(3600);
  es.data(ALAW.subarray(0, 160));
  es.pesEnd();
  assert.deepEqual(
    aus.map((a) => [a.codec, a.pts, a.data.length]),
    [['g711u', 3600, 160]],
  );
});

test('fuzz: random audio payloads never throw', () => {
  fc.assert(
    fc.property(fc.constantFrom(undefined, 0x0f, 0x90, 0x91, 0x03), fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 8 }), (type, chunks) => {
      const { es } = collect(type);
      for (const c of chunks) {
        es.pesStart(1);
        es.data(Buffer.from(c));
        es.pesEnd();
      }
    }),
    { numRuns: 1000 },
  );
});
