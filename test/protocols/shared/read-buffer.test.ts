import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { readIntoBuffer } from '../../../src/protocols/shared/read-buffer';

async function listening(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

describe('readIntoBuffer', () => {
  it('reads an accepted socket into the one given Buffer, in order, without data events, and still sees the end', async () => {
    const shared = Buffer.alloc(16);
    const got: Buffer[] = [];
    const views = new Set<ArrayBufferLike>();
    let switched = false;
    let dataEvents = 0;
    const ended = new Promise<void>((resolve) => {
      const server = createServer((socket: Socket) => {
        switched = readIntoBuffer(socket, shared, (bytes) => {
          views.add(bytes.buffer);
          got.push(Buffer.from(bytes));
        });
        socket.on('data', () => dataEvents++);
        socket.on('close', () => {
          server.close();
          resolve();
        });
      });
      void listening(server).then(async (port) => {
        const client = connect(port, '127.0.0.1');
        await once(client, 'connect');
        // More than the buffer holds, in several writes: the reads come in pieces of at most 16 bytes.
        for (let i = 0; i < 5; i++) {
          client.write(Buffer.alloc(20, i));
          await new Promise((r) => setTimeout(r, 10));
        }
        client.end();
      });
    });
    await ended;
    assert.equal(switched, true, 'this Node lets an accepted socket read into a user buffer');
    assert.equal(dataEvents, 0);
    assert.deepEqual([...views], [shared.buffer]);
    const all = Buffer.concat(got);
    assert.equal(all.length, 100);
    for (let i = 0; i < 5; i++) assert.ok(all.subarray(i * 20, i * 20 + 20).every((b) => b === i));
  });

  it('leaves a socket that already delivered data as it is', async () => {
    const server = createServer();
    const port = await listening(server);
    const client = connect(port, '127.0.0.1');
    const [socket] = (await once(server, 'connection')) as [Socket];
    client.write('hello');
    await once(socket, 'data');
    assert.equal(
      readIntoBuffer(socket, Buffer.alloc(16), () => assert.fail('not switched')),
      false,
    );
    client.destroy();
    socket.destroy();
    server.close();
  });
});
