import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { FlvDemuxer } from '../../../src/formats/flv';
import { parseTime } from '../../../src/protocols/playback/deps';
import { parseByteRange } from '../../../src/protocols/playback/file-route';
import { planRange } from '../../../src/protocols/playback/range-plan';
import { readRange } from '../../../src/protocols/playback/range-reader';
import { findFlvTagStart } from '../../../src/protocols/playback/segment-decoder';

const FLV = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'flv', 'ffmpeg-h264-aac.flv');

test('property: a byte range is inside the file, or unsatisfiable, or ignored; never a throw', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.tuple(fc.option(fc.nat(), { nil: undefined }), fc.option(fc.nat(), { nil: undefined })).map(([a, b]) => `bytes=${a ?? ''}-${b ?? ''}`),
      ),
      fc.nat({ max: 1e9 }),
      (header, size) => {
        const range = parseByteRange(header, size);
        if (range === undefined || range === 'unsatisfiable') return;
        assert.ok(range.start >= 0 && range.start <= range.end && range.end < size, `${header} of ${size}: ${JSON.stringify(range)}`);
      },
    ),
    { numRuns: 2000 },
  );
});

test('property: times parse to the instant they name or to BAD_REQUEST', () => {
  fc.assert(
    fc.property(fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }), fc.constantFrom('Z', '+08:00', '-05:30'), (date, zone) => {
      assert.equal(parseTime(String(date.getTime()), 't'), date.getTime());
      const offset = zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4))) * 60_000;
      const local = new Date(date.getTime() + offset).toISOString().slice(0, 23);
      assert.equal(parseTime(`${local}${zone}`, 't'), date.getTime());
    }),
  );
  fc.assert(
    fc.property(fc.string(), (text) => {
      try {
        const ms = parseTime(text, 't');
        assert.ok(Number.isFinite(ms));
      } catch (err) {
        assert.equal((err as { code?: string }).code, 'BAD_REQUEST');
      }
    }),
  );
});

test('FLV resync finds the real tag boundary from any offset of an ffmpeg FLV, and never throws on noise', () => {
  const file = readFileSync(FLV);
  const starts = new Set<number>();
  let offset = 13;
  for (const tag of new FlvDemuxer().feed(file)) {
    starts.add(offset);
    offset += 11 + tag.body.length + 4;
  }
  fc.assert(
    fc.property(fc.integer({ min: 13, max: file.length - 1 }), (from) => {
      const at = findFlvTagStart(file, from);
      if (typeof at === 'number' && at >= 0) assert.ok(starts.has(at), `resync from ${from} landed at ${at}, not a tag start`);
    }),
    { numRuns: 300 },
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => void findFlvTagStart(Buffer.from(bytes))));
});

test('a damaged segment costs the rest of its part as a reported gap; the range goes on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-pb-bad-'));
  try {
    const good = readFileSync(FLV);
    const bad = Buffer.from(good);
    bad.fill(0x5a, Math.floor(bad.length / 2));
    writeFileSync(join(dir, 'a.flv'), bad);
    writeFileSync(join(dir, 'b.flv'), good);
    const row = (id: number, file: string, startMs: number) => ({
      id,
      format: 'flv' as const,
      file,
      startMs,
      endMs: startMs + 10_000,
      bytes: good.length,
      keyframes: 0,
      videoCodec: 'h264',
      width: 320,
      height: 240,
      audioCodec: 'aac',
    });
    const plan = planRange([row(1, 'a.flv', 0), row(2, 'b.flv', 10_000)], 0, 20_000);
    const events = [];
    for await (const event of readRange(plan, dir)) events.push(event);
    const gaps = events.filter((e) => e.type === 'gap');
    assert.equal(gaps.length, 1);
    const frames = events.filter((e) => e.type === 'frame');
    assert.ok(
      frames.some((e) => e.type === 'frame' && e.wallMs >= 10_000),
      'the second segment is played',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
