import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PsDemuxer } from '../../../rtp/ps/ps-demuxer';
import { buildPsm } from '../../../rtp/ps/psm';
import type { EsSink, EsStreamDecl, PesStart } from '../../../src/formats/mpegts/es-sink';
import { mpeg1PackHeader, packHeader, pes, systemHeader } from '../helpers';

type Event = { start: PesStart } | { data: number; bytes: string } | { end: number } | { streams: EsStreamDecl[] } | 'disc';

/** Records the sink calls; consecutive data of one PES is merged (chunking does not matter). */
class RecordingSink implements EsSink {
  events: Event[] = [];
  private open = new Set<number>();
  onStreams(streams: readonly EsStreamDecl[]): void {
    this.events.push({ streams: [...streams] });
  }
  onPesStart(p: PesStart): void {
    this.open.add(p.id);
    this.events.push({ start: p });
  }
  onPesData(id: number, data: Buffer): void {
    assert.ok(this.open.has(id), 'data only inside a PES');
    const last = this.events[this.events.length - 1];
    if (last && typeof last === 'object' && 'data' in last && last.data === id) last.bytes += data.toString('hex');
    else this.events.push({ data: id, bytes: data.toString('hex') });
  }
  onPesEnd(id: number): void {
    this.open.delete(id);
    this.events.push({ end: id });
  }
  onDiscontinuity(): void {
    this.open.clear();
    this.events.push('disc');
  }
}

const VIDEO = Buffer.from('000000010910000000016742e01e', 'hex');
const AUDIO = Buffer.from('d5d5d5d5d5d5', 'hex');

function sampleStream(): Buffer {
  return Buffer.concat([
    packHeader(3),
    systemHeader(),
    buildPsm([
      { streamType: 0x1b, id: 0xe0 },
      { streamType: 0x90, id: 0xc0 },
    ]),
    pes(0xe0, VIDEO, 3600),
    pes(0xbd, Buffer.alloc(30, 0x11)), // Hikvision private data
    pes(0xbe, Buffer.alloc(10, 0xff)), // padding
    pes(0xc0, AUDIO, 3000),
    Buffer.from([0, 0, 1, 0xb9]),
  ]);
}

function run(chunks: Buffer[]): { sink: RecordingSink; demuxer: PsDemuxer } {
  const sink = new RecordingSink();
  const demuxer = new PsDemuxer(sink);
  for (const c of chunks) demuxer.feed(c);
  return { sink, demuxer };
}

const EXPECTED: Event[] = [
  {
    streams: [
      { id: 0xe0, kind: 'video', streamType: 0x1b },
      { id: 0xc0, kind: 'audio', streamType: 0x90 },
    ],
  },
  { start: { id: 0xe0, kind: 'video', streamType: 0x1b, pts: 3600 } },
  { data: 0xe0, bytes: VIDEO.toString('hex') },
  { end: 0xe0 },
  { start: { id: 0xc0, kind: 'audio', streamType: 0x90, pts: 3000 } },
  { data: 0xc0, bytes: AUDIO.toString('hex') },
  { end: 0xc0 },
];

test('demuxes pack, system header, PSM, video and audio PES; skips private and padding streams', () => {
  const { sink, demuxer } = run([sampleStream()]);
  assert.deepEqual(sink.events, EXPECTED);
  assert.equal(demuxer.stats.packs, 1);
  assert.equal(demuxer.stats.systemHeaders, 1);
  assert.equal(demuxer.stats.psms, 1);
  assert.equal(demuxer.stats.pes, 2);
  assert.equal(demuxer.stats.skippedPes, 2);
  assert.equal(demuxer.stats.errors, 0);
});

test('the result does not depend on how the stream is chunked (every split point, byte by byte)', () => {
  const stream = sampleStream();
  for (let cut = 1; cut < stream.length; cut++) {
    assert.deepEqual(run([stream.subarray(0, cut), stream.subarray(cut)]).sink.events, EXPECTED, `cut at ${cut}`);
  }
  const bytes = [...stream].map((b) => Buffer.from([b]));
  assert.deepEqual(run(bytes).sink.events, EXPECTED);
});

test('MPEG-1 pack headers are accepted', () => {
  const { sink, demuxer } = run([Buffer.concat([mpeg1PackHeader(), pes(0xe0, VIDEO, 90)])]);
  assert.equal(demuxer.stats.mpeg1Packs, 1);
  assert.deepEqual(sink.events.slice(0, 2), [{ start: { id: 0xe0, kind: 'video', streamType: undefined, pts: 90 } }, { data: 0xe0, bytes: VIDEO.toString('hex') }]);
});

test('a zero-length video PES runs to the next system start code, even one split across chunks', () => {
  const body = Buffer.concat([VIDEO, Buffer.from('000000016588840000', 'hex')]);
  const stream = Buffer.concat([pes(0xe0, body, 0, undefined, true), packHeader(0), pes(0xe0, VIDEO, 3600)]);
  const packAt = stream.indexOf(Buffer.from([0, 0, 1, 0xba]));
  for (const cut of [packAt + 1, packAt + 2, packAt + 3, packAt + 4]) {
    const { sink } = run([stream.subarray(0, cut), stream.subarray(cut)]);
    assert.deepEqual(sink.events.slice(0, 4), [
      { start: { id: 0xe0, kind: 'video', streamType: undefined, pts: 0, unbounded: true } },
      { data: 0xe0, bytes: body.toString('hex') },
      { end: 0xe0 },
      { start: { id: 0xe0, kind: 'video', streamType: undefined, pts: 3600 } },
    ]);
  }
});

test('an empty video PES (length covering only its header) starts and ends', () => {
  const empty = pes(0xe0, Buffer.alloc(0), 3600);
  empty.writeUInt16BE(8, 4); // flags, header length and PTS: no payload
  const { sink } = run([Buffer.concat([empty, pes(0xe0, VIDEO, 7200)])]);
  assert.deepEqual(sink.events.slice(0, 2), [{ start: { id: 0xe0, kind: 'video', streamType: undefined, pts: 3600 } }, { end: 0xe0 }]);
});

test('Hikvision H.265: a pack start code with no pack body, straight followed by a PES', () => {
  const { sink, demuxer } = run([Buffer.concat([Buffer.from([0, 0, 1, 0xba]), pes(0xe0, VIDEO, 3600)])]);
  assert.equal(demuxer.stats.hikTruncatedPacks, 1);
  assert.equal(demuxer.stats.errors, 0);
  assert.deepEqual(sink.events[0], { start: { id: 0xe0, kind: 'video', streamType: undefined, pts: 3600 } });
});

test('garbage: counted, the sink told, and demuxing resumes at the next pack or PES', () => {
  const garbage = Buffer.from('0102030405060708090a0b0c0d0e0f10111213', 'hex');
  const stream = Buffer.concat([pes(0xe0, VIDEO, 3600), garbage, packHeader(), pes(0xc0, AUDIO, 3000)]);
  const { sink, demuxer } = run([stream]);
  assert.equal(demuxer.stats.errors, 1);
  assert.equal(demuxer.stats.garbageBytes, garbage.length);
  assert.deepEqual(sink.events.slice(3), [
    'disc',
    { start: { id: 0xc0, kind: 'audio', streamType: undefined, pts: 3000 } },
    { data: 0xc0, bytes: AUDIO.toString('hex') },
    { end: 0xc0 },
  ]);
});

test('a stream joined in the middle starts at the first pack', () => {
  const stream = Buffer.concat([Buffer.alloc(50, 0x42), packHeader(), pes(0xe0, VIDEO, 3600)]);
  const { sink, demuxer } = run([stream.subarray(20)]);
  assert.equal(demuxer.stats.errors, 0);
  assert.equal(demuxer.stats.garbageBytes, 30);
  assert.equal(sink.events.length, 3);
});

test('streams of unsupported types are skipped with a counted warning', () => {
  const psm = buildPsm([
    { streamType: 0x1b, id: 0xe0 },
    { streamType: 0x03, id: 0xc0 },
  ]);
  const { sink, demuxer } = run([Buffer.concat([psm, pes(0xc0, Buffer.alloc(100, 0xff), 3000), pes(0xe0, VIDEO, 3600)])]);
  assert.equal(demuxer.stats.unsupportedPes, 1);
  assert.deepEqual(demuxer.stats.unsupportedStreamTypes, { 3: 1 });
  assert.deepEqual(sink.events[0], { streams: [{ id: 0xe0, kind: 'video', streamType: 0x1b }] });
  assert.deepEqual(sink.events[1], { start: { id: 0xe0, kind: 'video', streamType: 0x1b, pts: 3600 } });
});

test('discontinuity drops the PES in progress and resumes at the next unit', () => {
  const sink = new RecordingSink();
  const demuxer = new PsDemuxer(sink);
  const first = pes(0xe0, Buffer.alloc(100, 0x33), 3600);
  demuxer.feed(first.subarray(0, 50));
  demuxer.discontinuity();
  demuxer.feed(Buffer.concat([first.subarray(80), pes(0xc0, AUDIO, 1)]));
  const kinds = sink.events.map((e) => (typeof e === 'string' ? e : Object.keys(e)[0]));
  assert.deepEqual(kinds, ['start', 'data', 'disc', 'start', 'data', 'end']);
});

test('fuzz: random and mutated program streams never throw and never hang', () => {
  const valid = Buffer.concat([sampleStream(), Buffer.from([0, 0, 1, 0xba]), pes(0xe0, VIDEO, 1, undefined, true), packHeader(2), pes(0xc0, AUDIO)]);
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }), (chunks) => {
      run(chunks.map((c) => Buffer.from(c)));
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.array(fc.nat(valid.length), { maxLength: 4 }),
      (edits, cuts) => {
        const b = Buffer.from(valid);
        for (const [i, v] of edits) b[i] = v;
        const points = [0, ...cuts.sort((x, y) => x - y), b.length];
        const chunks = points.slice(1).map((p, i) => b.subarray(points[i], p));
        // A damaged length may swallow up to 64 KB; after that a clean stream is always demuxed again.
        const { demuxer } = run([...chunks, Buffer.alloc(70_000), sampleStream()]);
        assert.ok(demuxer.stats.pes >= 2);
      },
    ),
    { numRuns: 1500 },
  );
});
