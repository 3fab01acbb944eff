import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { G711_SAMPLE_RATE, g711DurationTicks, g711Track } from '../../../src/codecs/g711/g711';

describe('G.711', () => {
  it('makes ready 8 kHz mono tracks', () => {
    assert.deepEqual(g711Track(1, 'g711a'), { id: 1, codec: 'g711a', ready: true, sampleRate: 8000, channels: 1 });
    assert.equal(g711Track(2, 'g711u').codec, 'g711u');
    assert.equal(G711_SAMPLE_RATE, 8000);
  });

  it('converts sample counts to 90 kHz ticks', () => {
    assert.equal(g711DurationTicks(160), 1800); // 20 ms
    assert.equal(g711DurationTicks(320), 3600);
  });
});
