import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import fc from 'fast-check';
import { REGISTER } from './cases';
import { DEVICE_ID, startServer } from './gb28181/gb-fixture';

function sendUdp(port: number, data: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.send(data, port, '127.0.0.1', () => {
      socket.close();
      resolve();
    });
  });
}

function sendTcp(port: number, data: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.end(data);
    });
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    setTimeout(() => socket.destroy(), 300);
  });
}

test('malformed SIP over UDP and TCP never crashes the server: it still registers devices after', async () => {
  const f = await startServer();
  try {
    const garbage = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 1500 }), { numRuns: 200, seed: 42 }).map((b) => Buffer.from(b));
    const mutated = fc.sample(fc.tuple(fc.nat(), fc.nat(255)), { numRuns: 200, seed: 7 }).map(([at, byte]) => {
      const b = Buffer.from(REGISTER, 'latin1');
      b[at % b.length] = byte;
      return b;
    });
    const special = [
      '\r\n\r\n',
      'SIP/2.0 200 OK\r\n\r\n',
      `${REGISTER.replace('Content-Length: 0', 'Content-Length: 99999999')}`,
      'INVITE sip:x SIP/2.0\r\nContent-Length: -1\r\n\r\n',
    ].map((s) => Buffer.from(s, 'latin1'));
    for (const data of [...garbage, ...mutated, ...special]) await sendUdp(f.port, data);
    for (const data of [...garbage.slice(0, 30), ...special, Buffer.alloc(70_000, 0x41)]) await sendTcp(f.port, data);
    assert.ok(f.server.stats().malformed > 100, `malformed counted: ${f.server.stats().malformed}`);
    const sim = await f.simulator();
    assert.equal((await sim.register())?.status, 200);
    assert.equal(f.devices.get(DEVICE_ID)?.online, true);
  } finally {
    await f.close();
  }
});
