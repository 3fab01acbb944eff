import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { IpcPeer, type IpcChannel } from '../../../src/app/cluster/ipc';
import { GbMediaPlacement } from '../../../src/app/cluster/gb-media';
import type { GbBridge } from '../../../src/app/gb-bridge/bridge';
import type { GbMediaOpenOptions, GbMediaReceiver } from '../../../src/app/gb-bridge/media';
import { silentLogger } from '../../../src/core/log';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../../src/hub/registry';
import { waitFor } from '../../helpers/gateway';

function pair(): [IpcChannel, IpcChannel] {
  const a = new EventEmitter();
  const b = new EventEmitter();
  const end = (self: EventEmitter, other: EventEmitter): IpcChannel => ({
    send: (m) => (setImmediate(() => other.emit('message', structuredClone(m))), true),
    on: (e, l) => self.on(e, l),
    off: (e, l) => self.off(e, l),
  });
  return [end(a, b), end(b, a)];
}

/** Two workers and a primary that relays between them, as primary.ts does. */
function cluster() {
  const peers = new Map<number, { worker: IpcPeer; primary: IpcPeer }>();
  for (const slot of [1, 2]) {
    const [w, p] = pair();
    peers.set(slot, { worker: new IpcPeer(w, 1000), primary: new IpcPeer(p, 1000) });
  }
  for (const [slot, { primary }] of peers) {
    primary.handle('relay', (body) => {
      const { slot: target, op, body: inner } = body as { slot: number; op: string; body: object };
      return peers.get(target)!.primary.request(op, { ...inner, from: slot });
    });
    primary.onEvent('relayEvent', (body) => {
      const { slot: target, op, body: inner } = body as { slot: number; op: string; body: object };
      peers.get(target)!.primary.emit(op, { ...inner, from: slot });
    });
  }
  const gone = (slot: number) => {
    for (const [other, { primary }] of peers) if (other !== slot) primary.emit('worker.gone', { slot });
  };
  return { peers, gone };
}

test('GB28181 media on another worker: slot 1 opens and drives the receiver there, hears its first packet, and ends the INVITE when that worker dies; a dead slot 1 closes the receivers it asked for', async () => {
  const { peers, gone } = cluster();
  const held: { open: GbMediaOpenOptions; closed?: string; ssrc?: number }[] = [];
  const media = async (open: GbMediaOpenOptions): Promise<GbMediaReceiver> => {
    const entry: (typeof held)[number] = { open };
    held.push(entry);
    return {
      localPort: 30_000 + held.length,
      connect: async () => undefined,
      expectSsrc: (ssrc) => (entry.ssrc = ssrc),
      setSpeed: () => undefined,
      holdSilence: () => undefined,
      stats: () => ({ packets: 7, bytes: 700 }),
      close: (reason) => (entry.closed = reason),
    };
  };
  const registries = [1, 2].map(() => new Registry(DEFAULT_REGISTRY_OPTIONS, silentLogger()));
  const common = { media, startTimeoutMs: 5000, log: silentLogger() };
  const one = new GbMediaPlacement({ ...common, peer: peers.get(1)!.worker, slot: 1, registry: registries[0]!, bridge: {} as GbBridge });
  const two = new GbMediaPlacement({ ...common, peer: peers.get(2)!.worker, slot: 2, registry: registries[1]! });
  try {
    const events: string[] = [];
    const options = (path: string): GbMediaOpenOptions => ({
      path,
      mode: 'udp',
      ssrc: 200000001,
      silenceMs: 3000,
      onFirstPacket: () => events.push(`${path} first`),
      onSilent: () => events.push(`${path} silent`),
      onClosed: (reason) => events.push(`${path} closed: ${reason}`),
    });
    const receiver = await one.mediaOn(2)(options('rtp/a'));
    assert.equal(receiver.localPort, 30_001, 'the SDP names the port of worker 2');
    assert.equal(held[0]!.open.path, 'rtp/a');
    receiver.expectSsrc(123);
    await waitFor(() => held[0]!.ssrc === 123, 1000, 'the SSRC set on worker 2');
    held[0]!.open.onFirstPacket();
    await waitFor(() => events.includes('rtp/a first'), 1000, 'the first packet heard on slot 1');
    await waitFor(() => receiver.stats().packets === 7, 3000, 'the counters of worker 2');
    gone(2);
    await waitFor(() => events.some((e) => e.startsWith('rtp/a closed')), 1000, 'the INVITE ended');
    assert.match(
      events.find((e) => e.startsWith('rtp/a closed'))!,
      /worker 2, which received this stream's RTP, died/,
    );

    await one.mediaOn(2)(options('rtp/b'));
    gone(1);
    await waitFor(() => held[1]!.closed !== undefined, 1000, 'the receiver closed on worker 2');
    assert.match(held[1]!.closed!, /worker 1, which had this stream's SIP dialog, died/);
  } finally {
    one.close();
    two.close();
    for (const { worker, primary } of peers.values()) {
      worker.close();
      primary.close();
    }
    await Promise.all(registries.map((r) => r.close()));
  }
});
