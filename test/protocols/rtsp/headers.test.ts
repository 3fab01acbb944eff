import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors';
import { DEFAULT_SESSION_TIMEOUT_S, formatTransport, parsePublic, parseSession, parseTransport, parseTransports, type TransportSpec } from '../../../src/protocols/rtsp/headers';

test('Session: id and timeout; a missing, zero or absurd timeout is the 60 s default', () => {
  assert.deepEqual(parseSession('12345678;timeout=30'), { id: '12345678', timeout: 30 });
  assert.deepEqual(parseSession(' 6B8B4567 ; timeout = 5 '), { id: '6B8B4567', timeout: 5 });
  assert.deepEqual(parseSession('abc'), { id: 'abc', timeout: DEFAULT_SESSION_TIMEOUT_S });
  assert.deepEqual(parseSession('abc;timeout=0'), { id: 'abc', timeout: DEFAULT_SESSION_TIMEOUT_S });
  assert.throws(() => parseSession(''), ParseError);
  assert.throws(() => parseSession('a b'), ParseError);
});

test('Transport: TCP interleaved, UDP ports, source and ssrc', () => {
  assert.deepEqual(parseTransport('RTP/AVP/TCP;unicast;interleaved=0-1'), { protocol: 'tcp', unicast: true, interleaved: [0, 1] });
  assert.deepEqual(parseTransport('RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;source=10.0.0.9;ssrc=1A2B3C4D;mode="PLAY"'), {
    protocol: 'udp',
    unicast: true,
    clientPort: [5000, 5001],
    serverPort: [6970, 6971],
    source: '10.0.0.9',
    ssrc: 0x1a2b3c4d,
    mode: 'play',
  });
  assert.deepEqual(parseTransport('RTP/AVP/UDP;multicast;server_port=7000'), { protocol: 'udp', unicast: false, serverPort: [7000, 7001] });
  // A list: the first is the server's choice.
  assert.equal(parseTransport('RTP/AVP/TCP;interleaved=2-3, RTP/AVP;client_port=1-2').protocol, 'tcp');
  assert.throws(() => parseTransport('RAW/RAW/UDP;unicast'), ParseError);
  assert.throws(() => parseTransport('RTP/AVP;client_port=70000-70001'), ParseError);
  assert.throws(() => parseTransport('RTP/AVP/TCP;interleaved=300-301'), ParseError);
});

test('Transport round trip for what we ask', () => {
  const tcp = formatTransport({ protocol: 'tcp', interleaved: [2, 3] });
  assert.equal(tcp, 'RTP/AVP/TCP;unicast;interleaved=2-3');
  assert.deepEqual(parseTransport(tcp).interleaved, [2, 3]);
  const udp = formatTransport({ protocol: 'udp', clientPort: [40000, 40001] });
  assert.deepEqual(parseTransport(udp).clientPort, [40000, 40001]);
});

test('Public lists methods', () => {
  assert.deepEqual([...parsePublic('OPTIONS, DESCRIBE,SETUP , get_parameter')], ['OPTIONS', 'DESCRIBE', 'SETUP', 'GET_PARAMETER']);
  assert.equal(parsePublic(undefined).size, 0);
});

test('property: header parsers only throw ParseError', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (text) => {
      for (const parse of [parseTransport, parseSession]) {
        try {
          parse(text);
        } catch (err) {
          if (!(err instanceof ParseError)) throw err;
        }
      }
      parsePublic(text);
    }),
    { numRuns: 1000 },
  );
});

test('server side: a SETUP offer list in preference order, unusable items left out, mode=record', () => {
  const offers = parseTransports(
    'RTP/SAVP;unicast;client_port=1-2, RTP/AVP/UDP;unicast;client_port=5000-5001;mode=record, RTP/AVP/TCP;interleaved=300-301, RTP/AVP/TCP;unicast;interleaved=0-1;mode="RECORD"',
  );
  assert.deepEqual(offers, [
    { protocol: 'udp', unicast: true, clientPort: [5000, 5001], mode: 'record' },
    { protocol: 'tcp', unicast: true, interleaved: [0, 1], mode: 'record' },
  ]);
  assert.deepEqual(parseTransports('RTP/AVP;multicast'), [{ protocol: 'udp', unicast: false }]);
  assert.deepEqual(parseTransports(''), []);
  assert.throws(() => parseTransports('x'.repeat(5000)), ParseError);
});

test('fuzz: the Transport parsers return specs within range or throw ParseError only', () => {
  const piece = fc.oneof(
    fc.constantFrom('RTP/AVP', 'RTP/AVP/TCP', 'RTP/AVP/UDP', 'RAW/RAW/UDP', 'unicast', 'multicast', 'mode=record', 'mode="PLAY"', ',', ';', '='),
    fc.tuple(fc.constantFrom('client_port', 'server_port', 'interleaved', 'ssrc', 'source', 'ttl', 'destination'), fc.string({ maxLength: 12 })).map(([k, v]) => `${k}=${v}`),
    fc.string({ maxLength: 8 }),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 16 }), fc.constantFrom(';', ',', ''), (pieces, sep) => {
      const value = pieces.join(sep);
      let specs: TransportSpec[] = [];
      try {
        specs = parseTransports(value);
        specs.push(parseTransport(value));
      } catch (err) {
        assert.ok(err instanceof ParseError, String(err));
      }
      for (const spec of specs) {
        assert.ok(spec.protocol === 'udp' || spec.protocol === 'tcp');
        for (const range of [spec.interleaved, spec.clientPort, spec.serverPort]) {
          if (range) for (const n of range) assert.ok(Number.isInteger(n) && n >= 0 && n <= 65535);
        }
        if (spec.interleaved) assert.ok(spec.interleaved[0] <= 255 && spec.interleaved[1] <= 255);
      }
    }),
    { numRuns: 2000 },
  );
});
