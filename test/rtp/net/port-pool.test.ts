import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PortPool } from '../../../rtp/net/port-pool';

test('allocates even ports with room for RTCP, round-robin, until exhausted', () => {
  const pool = new PortPool(30001, 30008);
  assert.equal(pool.size, 3); // 30002, 30004, 30006 (30008 has no 30009)
  assert.deepEqual([pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate()], [30002, 30004, 30006, undefined]);
  pool.release(30002);
  pool.release(30004);
  // 30002 was released first but the cursor moves on: 30002 comes next only after a full turn
  assert.equal(pool.allocate(), 30002);
  assert.equal(pool.allocate(), 30004);
  assert.equal(pool.inUse, 3);
});

test('a just released port is reused last', () => {
  const pool = new PortPool(40000, 40009);
  const a = pool.allocate()!;
  pool.release(a);
  const seen = [pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate()];
  assert.deepEqual(seen, [40002, 40004, 40006, 40008, 40000]);
});

test('reserve takes a specific even port once', () => {
  const pool = new PortPool(50000, 50010);
  assert.equal(pool.reserve(50004), true);
  assert.equal(pool.reserve(50004), false);
  assert.equal(pool.reserve(50005), false);
  assert.equal(pool.reserve(60000), false);
  assert.ok(!([pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate()] as (number | undefined)[]).includes(50004));
});

test('bad ranges are refused', () => {
  assert.throws(() => new PortPool(10, 5), RangeError);
  assert.throws(() => new PortPool(30000, 30000), RangeError);
  assert.throws(() => new PortPool(0, 100), RangeError);
});

test('property: never hands out a port twice while it is in use', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1024, max: 60000 }), fc.integer({ min: 1, max: 40 }), fc.array(fc.boolean(), { maxLength: 200 }), (min, span, ops) => {
      let pool: PortPool;
      try {
        pool = new PortPool(min, min + span);
      } catch {
        return;
      }
      const held: number[] = [];
      for (const alloc of ops) {
        if (alloc || held.length === 0) {
          const p = pool.allocate();
          if (p === undefined) {
            assert.equal(held.length, pool.size);
            continue;
          }
          assert.equal(p % 2, 0);
          assert.ok(p >= min && p + 1 <= min + span);
          assert.ok(!held.includes(p));
          held.push(p);
        } else {
          pool.release(held.shift()!);
        }
      }
    }),
  );
});
