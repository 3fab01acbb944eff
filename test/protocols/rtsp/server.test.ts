import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RtspReader } from '../../../src/protocols/rtsp/message';
import { parseServerUri } from '../../../src/protocols/rtsp/server-session';
import { ParseError } from '../../../src/core/errors';

test('server URIs: app/stream, track control and query; anything else is refused', () => {
  assert.deepEqual(parseServerUri('rtsp://h:8554/live/cam/trackID=1?token=a'), { path: 'live/cam', control: 'trackID=1', query: { token: 'a' } });
  assert.deepEqual(parseServerUri('rtsp://h:8554/live/cam?token=a/trackID=1'), { path: 'live/cam', control: 'trackID=1', query: { token: 'a' } });
  assert.deepEqual(parseServerUri('rtsp://h/live/cam'), { path: 'live/cam', query: {} });
  for (const bad of ['rtsp://h/../etc', 'rtsp://h/live', 'http://h/live/cam', 'rtsp://h/a/b/c/d']) assert.equal(parseServerUri(bad), undefined);
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (uri) => {
      const parsed = parseServerUri(uri);
      if (parsed) assert.match(parsed.path, /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/);
    }),
  );
});

test('fuzz: requests and interleaved frames split anywhere parse the same, garbage is a ParseError only', () => {
  const request = fc.record({
    method: fc.constantFrom('OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN'),
    cseq: fc.nat(1000),
    frame: fc.uint8Array({ maxLength: 300 }),
  });
  fc.assert(
    fc.property(fc.array(request, { maxLength: 5 }), fc.nat(50), (items, cut) => {
      const wire = Buffer.concat(
        items.flatMap((r) => [
          Buffer.from(`${r.method} rtsp://h/a/b RTSP/1.0\r\nCSeq: ${r.cseq}\r\n\r\n`),
          Buffer.from([0x24, 1, r.frame.length >> 8, r.frame.length & 0xff]),
          Buffer.from(r.frame),
        ]),
      );
      const reader = new RtspReader();
      const at = Math.min(cut, wire.length);
      const out = [...reader.feed(wire.subarray(0, at)), ...reader.feed(wire.subarray(at))];
      assert.equal(out.length, items.length * 2);
      items.forEach((r, i) => {
        const req = out[i * 2]!;
        const frame = out[i * 2 + 1]!;
        assert.ok(req.kind === 'request' && req.method === r.method);
        assert.ok(frame.kind === 'interleaved' && frame.channel === 1 && frame.data.equals(Buffer.from(r.frame)));
      });
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (junk) => {
      try {
        new RtspReader().feed(Buffer.from(junk));
      } catch (err) {
        assert.ok(err instanceof ParseError, String(err));
      }
    }),
  );
});
