import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { silentLogger } from '../../../src/core/log';
import type { Amf0Value } from '../../../src/formats/amf0/amf0';
import { chunkMessage } from '../../../src/protocols/rtmp/chunk-writer';
import { RtmpClient, RtmpClientError } from '../../../src/protocols/rtmp/client';
import { ClientHandshake } from '../../../src/protocols/rtmp/client-handshake';
import { commandMessage, connectResultMessage, onStatusMessage, resultMessage, statusInfo } from '../../../src/protocols/rtmp/command';
import { ServerHandshake, findDigestSchema, FP_KEY_SHORT } from '../../../src/protocols/rtmp/handshake';
import type { OutgoingMessage } from '../../../src/protocols/rtmp/message';

/**
 * The RTMP client against a scripted server on loopback: the server does the real server
 * handshake, then answers each command the client sends with whatever the script says
 * (correct replies, refusals, or fuzzed bytes and AMF0 values).
 */

type Script = (command: string, tx: number, socket: Socket) => void;

class ScriptedServer {
  readonly server: Server;
  script: Script = () => undefined;
  /** Raw bytes to send right after the handshake instead of following the script. */
  raw: Buffer | undefined;

  constructor() {
    this.server = createServer((socket) => this.accept(socket));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    const handshake = new ServerHandshake();
    let done = false;
    let pending = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      let rest: Buffer | undefined = data;
      if (!done) {
        const progress = handshake.feed(data);
        for (const b of progress.reply ?? []) socket.write(b);
        if (!progress.done) return;
        done = true;
        rest = progress.rest;
        if (this.raw) socket.write(this.raw);
      }
      if (!rest || this.raw) return;
      // The client writes commands at chunk size 4096 after its Set Chunk Size: good enough
      // to find command names and transaction ids in the byte stream.
      pending = Buffer.concat([pending, rest]);
      for (const name of ['connect', 'createStream', 'publish', 'play']) {
        const marker = Buffer.concat([Buffer.from([2, 0, name.length]), Buffer.from(name)]);
        const at = pending.indexOf(marker);
        if (at < 0) continue;
        const tx = pending.readDoubleBE(at + marker.length + 1);
        pending = pending.subarray(at + marker.length);
        this.script(name, tx, socket);
      }
    });
  }
}

function send(socket: Socket, ...messages: OutgoingMessage[]): void {
  for (const m of messages) for (const b of chunkMessage(m, 128)) socket.write(b);
}

const happy: Script = (name, tx, socket) => {
  if (name === 'connect') send(socket, connectResultMessage(tx, 0));
  else if (name === 'createStream') send(socket, resultMessage(tx, 1));
  else send(socket, onStatusMessage(1, statusInfo('status', name === 'publish' ? 'NetStream.Publish.Start' : 'NetStream.Play.Start', 'ok')));
};

function open(port: number, mode: 'publish' | 'play' = 'publish', connectTimeoutMs = 2000): Promise<RtmpClient> {
  return RtmpClient.open({ url: `rtmp://127.0.0.1:${port}/live/cam?key=k`, mode, log: silentLogger(), connectTimeoutMs, stallTimeoutMs: 5000 });
}

describe('RtmpClient', () => {
  const server = new ScriptedServer();
  before(() => new Promise<void>((resolve) => server.server.listen(0, '127.0.0.1', () => resolve())));
  after(() => new Promise<void>((resolve) => server.server.close(() => resolve())));

  test('publish and play follow connect, createStream and publish/play to their start', async () => {
    server.raw = undefined;
    server.script = happy;
    for (const mode of ['publish', 'play'] as const) {
      const client = await open(server.port, mode);
      assert.equal(client.streamId, 1);
      client.close('done');
      assert.equal(client.isClosed, true);
    }
  });

  test('a refused publish says why in plain words and with its kind', async () => {
    server.raw = undefined;
    server.script = (name, tx, socket) => {
      if (name === 'publish') send(socket, onStatusMessage(1, statusInfo('error', 'NetStream.Publish.BadName', 'stream cam already publishing')));
      else happy(name, tx, socket);
    };
    await assert.rejects(open(server.port), (err: unknown) => err instanceof RtmpClientError && err.failure === 'bad-name' && /already publishing/.test(err.message));
    server.script = (name, tx, socket) => {
      if (name === 'connect') send(socket, commandMessage(0, '_error', tx, null, statusInfo('error', 'NetConnection.Connect.Rejected', 'bad app')));
    };
    await assert.rejects(open(server.port), (err: unknown) => err instanceof RtmpClientError && err.failure === 'rejected' && /Connect\.Rejected: bad app/.test(err.message));
  });

  test('a refused connection and a silent server are told apart', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(open(port), (err: unknown) => err instanceof RtmpClientError && err.failure === 'refused');
    server.raw = undefined;
    server.script = () => undefined;
    await assert.rejects(open(server.port, 'publish', 500), (err: unknown) => err instanceof RtmpClientError && err.failure === 'timeout');
  });

  test('fuzz: any reply to any command settles the open with a result or an RtmpClientError', async () => {
    const amf: fc.Arbitrary<Amf0Value> = fc.letrec<{ v: Amf0Value }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.double(),
        fc.string({ maxLength: 20 }),
        fc.constantFrom('NetStream.Publish.Start', 'NetStream.Play.Start', 'error', 'status', 'NetStream.Publish.BadName'),
        fc.dictionary(fc.constantFrom('code', 'level', 'description', 'fourCcList', 'x'), tie('v'), { maxKeys: 4 }),
        fc.array(tie('v'), { maxLength: 3 }),
      ),
    })).v;
    const reply = fc.record({
      name: fc.constantFrom('_result', '_error', 'onStatus', 'onBWDone', '', 'x'),
      tx: fc.oneof(fc.constant('same' as const), fc.integer({ min: 0, max: 9 })),
      streamId: fc.integer({ min: 0, max: 3 }),
      object: amf,
      args: fc.array(amf, { maxLength: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(reply, { minLength: 1, maxLength: 6 }), fc.option(fc.uint8Array({ maxLength: 300 }), { nil: undefined }), async (replies, garbage) => {
        let i = 0;
        server.raw = garbage ? Buffer.from(garbage) : undefined;
        server.script = (_name, tx, socket) => {
          const r = replies[i++ % replies.length]!;
          send(socket, commandMessage(r.streamId, r.name, r.tx === 'same' ? tx : r.tx, r.object, ...r.args));
        };
        try {
          const client = await open(server.port, 'publish', 300);
          client.close('fuzz done');
        } catch (err) {
          assert.ok(err instanceof RtmpClientError, `not an RtmpClientError: ${String(err)}`);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('ClientHandshake', () => {
  test('C1 carries a Flash Player digest; a simple S1 is echoed, the rest is handed on', () => {
    const hs = new ClientHandshake();
    const [c0, c1] = hs.start();
    assert.equal(c0![0], 3);
    assert.notEqual(findDigestSchema(c1!, FP_KEY_SHORT), undefined);
    const s1 = Buffer.alloc(1536, 7);
    s1.writeUInt32BE(0, 4);
    const first = hs.feed(Buffer.concat([Buffer.from([3]), s1.subarray(0, 1000)]));
    assert.equal(first.done, false);
    const second = hs.feed(Buffer.concat([s1.subarray(1000), Buffer.alloc(1536), Buffer.from('rest')]));
    assert.equal(hs.mode, 'simple');
    assert.deepEqual(second.reply?.[0], s1);
    assert.equal(second.done, true);
    assert.equal(second.rest?.toString(), 'rest');
    assert.throws(() => new ClientHandshake().feed(Buffer.from('HTTP/1.1 400')), /version/);
  });
});
