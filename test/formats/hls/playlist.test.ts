import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors';
import type { Track } from '../../../src/core/track';
import { attributeList, codecString, parsePlaylist, renderMasterPlaylist, renderMediaPlaylist, type HlsSegment } from '../../../src/formats/hls';
import { AAC_TEST_TRACK, H264_TEST_TRACK } from '../../helpers/hub-fixtures';

function segment(sequence: number, duration: number, discontinuitySequence = 0, discontinuity = false): HlsSegment {
  return { sequence, duration, data: Buffer.alloc(0), discontinuity, discontinuitySequence, programDateTime: Date.UTC(2024, 0, 1, 0, 0, sequence * 2) };
}

test('a live media playlist of version 3: target duration, media sequence, EXTINF, PDT, segment URIs', () => {
  const text = renderMediaPlaylist([segment(7, 2), segment(8, 2.04), segment(9, 1.96)], { targetDuration: 2, uri: (s) => `${s.sequence}.ts?session=abc` });
  assert.equal(
    text,
    [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:7',
      '#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:14.000Z',
      '#EXTINF:2.000,',
      '7.ts?session=abc',
      '#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:16.000Z',
      '#EXTINF:2.040,',
      '8.ts?session=abc',
      '#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:18.000Z',
      '#EXTINF:1.960,',
      '9.ts?session=abc',
      '',
    ].join('\n'),
  );
  assert.ok(!text.includes('ENDLIST'), 'live: no end');
});

test('discontinuities: the tag before the segment and a discontinuity sequence once earlier ones slid out', () => {
  const text = renderMediaPlaylist([segment(3, 2, 1), segment(4, 2, 2, true), segment(5, 2, 2)], { targetDuration: 2, uri: (s) => `${s.sequence}.ts` });
  const parsed = parsePlaylist(text);
  assert.equal(parsed.discontinuitySequence, 1);
  assert.deepEqual(
    parsed.segments.map((s) => s.discontinuity),
    [false, true, false],
  );
  const first = parsePlaylist(renderMediaPlaylist([segment(4, 2, 2, true), segment(5, 2, 2)], { targetDuration: 2, uri: (s) => `${s.sequence}.ts` }));
  assert.equal(first.discontinuitySequence, 1, 'the tag on the first segment counts from one below');
});

test('master playlist: bandwidth, resolution and RFC 6381 codecs', () => {
  assert.equal(codecString(H264_TEST_TRACK), 'avc1.42c00d');
  assert.equal(codecString(AAC_TEST_TRACK), 'mp4a.40.2');
  const h265: Track = { id: 0, codec: 'h265', ready: true, width: 1280, height: 720, profile: 1, level: 93 };
  assert.equal(codecString(h265), 'hvc1.1.6.L93.B0');
  const text = renderMasterPlaylist({ uri: 'index.m3u8?session=s1', bandwidth: 1_234_567.8, codecs: ['avc1.42c00d', 'mp4a.40.2'], resolution: { width: 320, height: 240 } });
  assert.equal(text, '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=1234568,RESOLUTION=320x240,CODECS="avc1.42c00d,mp4a.40.2"\nindex.m3u8?session=s1\n');
  const parsed = parsePlaylist(text);
  assert.deepEqual(parsed.variants, [{ uri: 'index.m3u8?session=s1', attributes: { BANDWIDTH: '1234568', RESOLUTION: '320x240', CODECS: 'avc1.42c00d,mp4a.40.2' } }]);
});

test('parser: render then parse round-trips any window', () => {
  fc.assert(
    fc.property(fc.nat(1_000_000), fc.array(fc.record({ duration: fc.integer({ min: 0, max: 20_000 }), disc: fc.boolean() }), { maxLength: 20 }), (first, specs) => {
      let ds = 0;
      const window = specs.map((s, i) => {
        if (s.disc && i > 0) ds++;
        return segment(first + i, s.duration / 1000, ds, s.disc && i > 0);
      });
      const text = renderMediaPlaylist(window, { targetDuration: 20, uri: (s) => `${s.sequence}.ts` });
      const parsed = parsePlaylist(text);
      assert.equal(parsed.mediaSequence, window.length ? first : 0);
      assert.equal(parsed.version, 3);
      assert.deepEqual(
        parsed.segments.map((s) => [s.uri, s.duration, s.discontinuity, s.programDateTime]),
        window.map((s) => [`${s.sequence}.ts`, s.duration, s.discontinuity, s.programDateTime]),
      );
    }),
  );
});

test('parser errors: no header, URI without EXTINF, bad numbers, bad attribute lists', () => {
  for (const text of [
    '',
    'hello',
    '#EXTM3U\nseg.ts',
    '#EXTM3U\n#EXTINF:abc,\nx.ts',
    '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:-1',
    '#EXTM3U\n#EXT-X-STREAM-INF:CODECS="a\nx',
    '#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\nx',
  ]) {
    assert.throws(() => parsePlaylist(text), ParseError, JSON.stringify(text));
  }
  assert.throws(() => parsePlaylist(`#EXTM3U\n${'#EXTINF:1,\nx.ts\n'.repeat(10_001)}`), ParseError);
  assert.deepEqual(attributeList('A=1,B="x,y",C=z'), { A: '1', B: 'x,y', C: 'z' });
});

test('property: random and mutated playlists only ever throw a ParseError', () => {
  const valid =
    renderMediaPlaylist([segment(1, 2), segment(2, 2, 1, true)], { targetDuration: 2, uri: (s) => `${s.sequence}.ts?session=x` }) +
    renderMasterPlaylist({ uri: 'a.m3u8', bandwidth: 10, codecs: ['avc1.640028'] }).slice(8);
  const check = (text: string): void => {
    try {
      parsePlaylist(text);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
    }
  };
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), (s) => check(s)),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (s) => check(`#EXTM3U\n${s}`)),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.constantFrom('#', ':', ',', '"', '\n', '=', 'A', '9', '-', ' ', '')), { maxLength: 10 }), (edits) => {
      let text = valid;
      for (const [at, ch] of edits) text = text.slice(0, at) + ch + text.slice(at + 1);
      check(text);
    }),
    { numRuns: 2000 },
  );
});
