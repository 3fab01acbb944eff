import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GbDevicePatch } from '../../../src/core/gb28181';
import { handleManscdpRequest, type ManscdpContext } from '../../../sip/gb28181/incoming/index';
import type { DeviceSession } from '../../../sip/gb28181/sessions';
import type { IncomingRequest } from '../../../sip/stack';
import type { SipRequest } from '../../../sip/message';

const DEVICE = '34020000001320000001';
const REMOTE = { address: '127.0.0.1', port: 5062, protocol: 'udp' as const };

function harness(overrides: Partial<ManscdpContext> = {}) {
  const session = { id: DEVICE, remote: REMOTE, lastKeepaliveAt: 0, persistedKeepaliveAt: 0 } as unknown as DeviceSession;
  const calls = { devices: [] as GbDevicePatch[], mediaEnded: [] as string[], responses: 0, events: [] as string[], errors: 0 };
  const noop = (): void => undefined;
  const log = { trace: noop, debug: noop, info: noop, warn: noop, fatal: noop, error: () => void calls.errors++, child: () => log } as unknown as ManscdpContext['log'];
  const ctx: ManscdpContext = {
    sessions: { get: (id: string) => (id === DEVICE ? session : undefined) } as ManscdpContext['sessions'],
    devices: { set: (_id: string, patch: GbDevicePatch) => void calls.devices.push(patch) } as unknown as ManscdpContext['devices'],
    channels: {
      applyEvent: (_id: string, event: string) => {
        calls.events.push(event);
        return { added: 0, updated: 0, removed: 0, total: 0, removedIds: [] };
      },
    } as unknown as ManscdpContext['channels'],
    queries: { handleResponse: () => (calls.responses++, true) } as unknown as ManscdpContext['queries'],
    log,
    addressChanged: () => undefined,
    catalogChanged: () => undefined,
    mediaEnded: (_deviceId, callId) => void calls.mediaEnded.push(callId),
    alarm: () => undefined,
    ...overrides,
  };
  const send = (body: string, from = DEVICE): number[] => {
    const replies: number[] = [];
    const request = { headers: { from: { uri: `sip:${from}@3402000000`, params: {} }, 'call-id': 'call-1' }, content: Buffer.from(body) } as unknown as SipRequest;
    const incoming: IncomingRequest = { request, remote: REMOTE, reply: (status) => void replies.push(status) };
    handleManscdpRequest(incoming, ctx, 100_000);
    return replies;
  };
  return { session, calls, send };
}

const xml = (root: string, cmdType: string, inner = ''): string =>
  `<?xml version="1.0"?>\r\n<${root}>\r\n<CmdType>${cmdType}</CmdType>\r\n<SN>7</SN>\r\n<DeviceID>${DEVICE}</DeviceID>\r\n${inner}</${root}>\r\n`;

test('each Root/CmdType reaches its own handler, answered 200 first', () => {
  const h = harness();
  assert.deepEqual(h.send(xml('Notify', 'Keepalive', '<Status>OK</Status>\r\n')), [200]);
  assert.equal(h.session.lastKeepaliveAt, 100_000);
  assert.deepEqual(h.calls.devices, [{ keepaliveAt: 100_000 }]);
  assert.deepEqual(h.send(xml('Notify', 'MediaStatus', '<NotifyType>121</NotifyType>\r\n')), [200]);
  assert.deepEqual(h.calls.mediaEnded, ['call-1']);
  h.send(xml('Notify', 'MediaStatus', '<NotifyType>999</NotifyType>\r\n'));
  assert.deepEqual(h.calls.mediaEnded, ['call-1'], 'only NotifyType 121 ends the media');
  h.send(
    xml(
      'Notify',
      'Catalog',
      '<SumNum>1</SumNum>\r\n<DeviceList Num="1">\r\n<Item>\r\n<DeviceID>34020000001310000001</DeviceID>\r\n<Event>OFF</Event>\r\n</Item>\r\n</DeviceList>\r\n',
    ),
  );
  assert.deepEqual(h.calls.events, ['OFF']);
  h.send(xml('Response', 'DeviceInfo'));
  h.send(xml('Response', 'SomethingNew'));
  assert.equal(h.calls.responses, 2, 'every Response goes to the query matcher');
});

test('an unknown CmdType is answered 200 and ignored; a throwing handler is logged, not thrown', () => {
  const h = harness({
    channels: {
      applyEvent: () => {
        throw new Error('disk full');
      },
    } as unknown as ManscdpContext['channels'],
  });
  assert.deepEqual(h.send(xml('Notify', 'Unheard')), [200]);
  assert.deepEqual(h.send(xml('Notify', 'Catalog', '<DeviceList Num="1">\r\n<Item>\r\n<DeviceID>34020000001310000001</DeviceID>\r\n</Item>\r\n</DeviceList>\r\n')), [200]);
  assert.equal(h.calls.errors, 1);
});

test('refusals: a From that is not a GB id (400), an unregistered device (403), an unreadable body (400)', () => {
  const h = harness();
  assert.deepEqual(h.send(xml('Notify', 'Keepalive'), 'alice'), [400]);
  assert.deepEqual(h.send(xml('Notify', 'Keepalive'), '34020000001320000099'), [403]);
  assert.deepEqual(h.send('<Notify><CmdType>'), [400]);
});
