import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ffmpegPath, runTool } from '../../../helpers/media-tools';
import { alawToLinear, decodeG711, G711_TABLES, MAX_FRAME_SAMPLES, parseAudioMessage, ulawToLinear, type G711Law } from '../../../../web/src/player/g711-law';
import { audioMessage } from '../../../../src/protocols/ws-audio/message';

const LAWS: { law: G711Law; format: 'alaw' | 'mulaw'; codec: 'pcm_alaw' | 'pcm_mulaw'; toLinear: (code: number) => number }[] = [
  { law: 'alaw', format: 'alaw', codec: 'pcm_alaw', toLinear: alawToLinear },
  { law: 'ulaw', format: 'mulaw', codec: 'pcm_mulaw', toLinear: ulawToLinear },
];

async function ffmpeg(args: string[]): Promise<void> {
  const result = await runTool(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  assert.equal(result.code, 0, result.stderr);
}

/** ffmpeg's own decode of a raw G.711 file, as 16-bit samples. */
async function ffmpegDecode(dir: string, file: string, format: string): Promise<Int16Array> {
  const out = join(dir, `${file}.s16`);
  await ffmpeg(['-f', format, '-ar', '8000', '-ac', '1', '-i', join(dir, file), '-f', 's16le', out]);
  const bytes = readFileSync(out);
  return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
}

for (const { law, format, codec, toLinear } of LAWS) {
  test(`${law}: every one of the 256 codes decodes to what ffmpeg decodes it to`, { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'g711-'));
    try {
      writeFileSync(join(dir, 'codes'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
      const theirs = await ffmpegDecode(dir, 'codes', format);
      assert.equal(theirs.length, 256);
      for (let code = 0; code < 256; code++) {
        assert.equal(toLinear(code), theirs[code], `code 0x${code.toString(16)}`);
        assert.equal(G711_TABLES[law][code], theirs[code]! / 32768);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${law}: a 440 Hz tone ffmpeg encoded decodes sample for sample as ffmpeg does, and close to the tone`, { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'g711-'));
    try {
      await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:duration=1', '-f', 's16le', join(dir, 'tone.s16')]);
      await ffmpeg(['-f', 's16le', '-ar', '8000', '-ac', '1', '-i', join(dir, 'tone.s16'), '-c:a', codec, '-f', format, join(dir, 'tone.g711')]);
      const codes = new Uint8Array(readFileSync(join(dir, 'tone.g711')));
      const theirs = await ffmpegDecode(dir, 'tone.g711', format);
      const ours = decodeG711(codes, law);
      assert.equal(ours.length, 8000);
      for (let i = 0; i < ours.length; i++) assert.equal(Math.round(ours[i]! * 32768), theirs[i], `sample ${i}`);
      const tone = readFileSync(join(dir, 'tone.s16'));
      let signal = 0;
      let noise = 0;
      for (let i = 0; i < ours.length; i++) {
        const original = tone.readInt16LE(i * 2) / 32768;
        signal += original * original;
        noise += (original - ours[i]!) ** 2;
      }
      const snrDb = 10 * Math.log10(signal / noise);
      assert.ok(snrDb > 30, `G.711 keeps about 38 dB of a loud tone: got ${snrDb.toFixed(1)} dB`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('decodeG711 writes into a caller buffer and stops at its end', () => {
  const out = new Float32Array(2);
  const got = decodeG711(new Uint8Array([0xd5, 0x55, 0x2a]), 'alaw', out);
  assert.equal(got.length, 2);
  assert.equal(got[0], alawToLinear(0xd5) / 32768);
});

test('the page reads the messages the gateway writes (law, dts, samples)', () => {
  for (const [codec, law] of [
    ['g711a', 'alaw'],
    ['g711u', 'ulaw'],
  ] as const) {
    const message = audioMessage({ dts: 2 ** 40 + 7, units: [Buffer.from([1, 2]), Buffer.from([3])] }, codec);
    const copy = new Uint8Array(message).buffer;
    const parsed = parseAudioMessage(copy);
    assert.deepEqual(parsed && { law: parsed.law, dts: parsed.dts, codes: [...parsed.codes] }, { law, dts: 2 ** 40 + 7, codes: [1, 2, 3] });
  }
});

test('property: any bytes are either a well-formed frame or null, never an exception', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: MAX_FRAME_SAMPLES + 40 }), fc.boolean(), (bytes, headed) => {
      if (headed && bytes.length > 0) bytes[0] = 1;
      const parsed = parseAudioMessage(new Uint8Array(bytes).buffer);
      if (parsed) {
        assert.ok(parsed.law === 'alaw' || parsed.law === 'ulaw');
        assert.ok(Number.isFinite(parsed.dts) && parsed.dts >= 0);
        assert.equal(parsed.codes.length, bytes.length - 10);
      }
    }),
    { numRuns: 2000 },
  );
});
