import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appFromConnect, isValidName, splitQuery, streamAddress } from '../../../src/protocols/rtmp/address';

describe('RTMP addresses', () => {
  it('splits a query off a name', () => {
    assert.deepEqual(splitQuery('cam1?token=abc&x=1'), { name: 'cam1', query: 'token=abc&x=1' });
    assert.deepEqual(splitQuery('cam1'), { name: 'cam1', query: '' });
  });

  it('takes the app from connect, or from tcUrl', () => {
    assert.deepEqual(appFromConnect('live', 'rtmp://h/live'), { name: 'live', query: '' });
    assert.deepEqual(appFromConnect('live/', undefined), { name: 'live', query: '' });
    assert.deepEqual(appFromConnect('live?k=v', undefined), { name: 'live', query: 'k=v' });
    assert.deepEqual(appFromConnect(undefined, 'rtmp://h:1935/live?k=v'), { name: 'live', query: 'k=v' });
    assert.deepEqual(appFromConnect(3, 7), { name: '', query: '' });
  });

  it('builds the hub path and keeps both queries', () => {
    assert.deepEqual(streamAddress({ name: 'live', query: 'a=1' }, 'test?token=x'), {
      app: 'live',
      stream: 'test',
      path: 'live/test',
      query: 'a=1&token=x',
    });
    assert.equal(streamAddress({ name: 'live', query: '' }, 'test')!.query, '');
  });

  it('refuses names that are not safe path segments', () => {
    for (const bad of ['', '.', '..', 'a/b', '../x', 'a b', 'x'.repeat(129), 'é']) {
      assert.equal(isValidName(bad), false, bad);
    }
    for (const good of ['live', 'cam-1_2.x', '34020000001320000001_34020000001310000001']) {
      assert.equal(isValidName(good), true, good);
    }
    assert.equal(streamAddress({ name: 'live', query: '' }, '../etc'), undefined);
    assert.equal(streamAddress({ name: '', query: '' }, 'x'), undefined);
  });
});
