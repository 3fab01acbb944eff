import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { cutAfterLastComplete, scanFlv, scanTs } from '../../../storage/recording/recovery';
import { ffmpegPath, runTool } from '../../helpers/media-tools';

const dir = mkdtempSync(join(tmpdir(), 'gw-recovery-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function ffmpegFile(name: string, format: 'flv' | 'mpegts'): Promise<Buffer> {
  const out = join(dir, name);
  const r = await runTool(ffmpegPath, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=160x120:rate=25',
    '-f',
    'lavfi',
    '-i',
    'sine=sample_rate=8000',
    '-t',
    '3',
    '-c:v',
    'libx264',
    '-g',
    '25',
    '-c:a',
    'aac',
    '-f',
    format,
    '-y',
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const { readFileSync } = await import('node:fs');
  return readFileSync(out);
}

function scanBytes(bytes: Buffer, format: 'flv' | 'ts') {
  const file = join(dir, `scan.${format}`);
  writeFileSync(file, bytes);
  const fd = openSync(file, 'r');
  try {
    return format === 'flv' ? scanFlv(fd, bytes.length) : scanTs(fd, bytes.length);
  } finally {
    closeSync(fd);
  }
}

test('recovery cuts an ffmpeg FLV and TS after the last complete tag/packet, and reads their duration', async () => {
  for (const [format, ext] of [
    ['flv', 'flv'],
    ['mpegts', 'ts'],
  ] as const) {
    const whole = await ffmpegFile(`whole.${ext}`, format);
    const full = scanBytes(whole, ext);
    // TS: an unbounded video PES at the end cannot be known complete, so its frame goes.
    if (ext === 'flv') assert.equal(full.validBytes, whole.length, 'a whole FLV is valid to its end');
    else assert.ok(full.validBytes > whole.length - 64 * 1024 && full.validBytes % 188 === 0, `ts: ${full.validBytes} of ${whole.length}`);
    assert.ok(full.durationMs >= 2800 && full.durationMs <= 3100, `${ext}: ${full.durationMs} ms`);
    assert.ok(full.keyframes >= 3, `${ext}: ${full.keyframes} keyframes`);
    const cut = join(dir, `cut.${ext}`);
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6) + 7));
    const result = cutAfterLastComplete(cut, ext);
    assert.ok(result.validBytes < whole.length * 0.6 + 7 && result.validBytes > whole.length * 0.5);
    if (ext === 'ts') assert.equal(result.validBytes % 188, 0);
    if (ext === 'flv') assert.equal(cutAfterLastComplete(cut, ext).validBytes, result.validBytes, 'the cut FLV scans whole');
    const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', cut, '-f', 'null', '-']);
    assert.equal(decode.stderr.trim(), '', `${ext}: the cut file decodes silently`);
  }
});

test('property: any truncation or corruption of a recording scans without throwing, within the file', async () => {
  const flv = await ffmpegFile('prop.flv', 'flv');
  const ts = await ffmpegFile('prop.ts', 'mpegts');
  fc.assert(
    fc.property(fc.boolean(), fc.nat(), fc.uint8Array({ maxLength: 64 }), fc.nat(), (useFlv, cutAt, garbage, at) => {
      const source = useFlv ? flv : ts;
      const bytes = Buffer.from(source.subarray(0, cutAt % (source.length + 1)));
      const pos = bytes.length ? at % bytes.length : 0;
      Buffer.from(garbage).copy(bytes, pos);
      const result = scanBytes(bytes, useFlv ? 'flv' : 'ts');
      assert.ok(result.validBytes >= 0 && result.validBytes <= bytes.length);
      assert.ok(result.durationMs >= 0);
    }),
    { numRuns: 150 },
  );
});
