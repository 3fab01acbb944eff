import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../src/app/backoff';

describe('reconnect backoff', () => {
  test('doubles from min up to max and stays there', () => {
    const backoff = new Backoff({ minMs: 1000, maxMs: 30_000 });
    const delays = Array.from({ length: 8 }, () => backoff.nextDelayMs());
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  test('many failures in a row never overflow past max', () => {
    const backoff = new Backoff({ minMs: 1, maxMs: 5000 });
    for (let i = 0; i < 200; i++) backoff.nextDelayMs();
    assert.equal(backoff.nextDelayMs(), 5000);
  });

  test('a connection that held max resets the doubling; a shorter one does not', () => {
    const backoff = new Backoff({ minMs: 100, maxMs: 1000 });
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    backoff.connectionEnded(999);
    assert.equal(backoff.nextDelayMs(), 400);
    backoff.connectionEnded(1000);
    assert.equal(backoff.nextDelayMs(), 100);
  });

  test('schedule runs the attempt once after the delay; a new schedule or cancel replaces it', async () => {
    const backoff = new Backoff({ minMs: 20, maxMs: 100 });
    const runs: string[] = [];
    backoff.schedule(() => runs.push('first'));
    const second = backoff.schedule(() => runs.push('second'));
    assert.equal(second, 40);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.deepEqual(runs, ['second']);
    backoff.schedule(() => runs.push('cancelled'));
    backoff.cancel();
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.deepEqual(runs, ['second']);
  });
});
