import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import pino from 'pino';
import { silentLogger } from '../../src/core/log';
import { TypedEmitter, type ManagerEvents } from '../../src/core/events';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../src/hub/registry';
import { ConsoleEvents } from '../../src/app/console-events';
import type { ProxyDto } from '../../src/api/proxies';
import type { ConsoleEvent } from '../../src/api/events';
import type { ActiveRecording } from '../../src/app/recording/recorder';

function proxy(state: string, lastError?: string): ProxyDto {
  return {
    id: 'px1',
    path: 'live/cam',
    url: 'rtsp://cam/x',
    transport: 'auto',
    onDemand: true,
    origin: 'api',
    createdAt: 0,
    updatedAt: 0,
    status: { state, reconnects: 0, bitrateKbps: 0, bytesIn: 0, tracks: [], ...(lastError ? { lastError: { kind: 'network', message: lastError, at: 0 } } : {}) },
  } as ProxyDto;
}

test('proxy and recorder states reach the console when their managers say they changed: once per turn, only changes, nothing looked at without a listener', async () => {
  const registry = new Registry(DEFAULT_REGISTRY_OPTIONS, silentLogger());
  const proxyEvents = new TypedEmitter<ManagerEvents>();
  const recorderEvents = new TypedEmitter<{ recorders: [] }>();
  let proxies = [proxy('idle')];
  let recorders: ActiveRecording[] = [];
  let looks = 0;
  const events = new ConsoleEvents({
    registry,
    proxies: { list: () => (looks++, proxies), events: proxyEvents },
    recorders: { active: () => recorders, events: recorderEvents },
    log: pino({ level: 'silent' }),
  });
  events.start();
  try {
    proxies = [proxy('connecting')];
    proxyEvents.emit('changed');
    await nextTurn();
    assert.equal(looks, 0, 'no console: no look');

    const seen: ConsoleEvent[] = [];
    const off = events.subscribe((e) => seen.push(e));
    proxies = [proxy('retrying', 'connection refused')];
    proxyEvents.emit('changed');
    proxies = [proxy('playing')];
    proxyEvents.emit('changed');
    await nextTurn();
    assert.deepEqual(
      seen.map((e) => e.type === 'proxy.state' && [e.state, e.lastError]),
      [['playing', undefined]],
      'two changes in one turn: one look, the state it ended in',
    );
    proxyEvents.emit('changed');
    await nextTurn();
    assert.equal(seen.length, 1, 'no change, no event');

    recorders = [{ path: 'live/cam', reason: 'manual', state: 'recording', lastError: null } as ActiveRecording];
    recorderEvents.emit('recorders');
    await nextTurn();
    recorders = [];
    recorderEvents.emit('recorders');
    await nextTurn();
    assert.deepEqual(
      seen.slice(1).map((e) => e.type === 'recorder.state' && e.state),
      ['recording', 'stopped'],
    );
    off();
    const before = looks;
    proxyEvents.emit('changed');
    await nextTurn();
    assert.equal(looks, before, 'the last console left: no look');
  } finally {
    events.close();
    await registry.close();
  }
});
