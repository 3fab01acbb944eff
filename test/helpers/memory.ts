import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after a full collection: what is retained, not garbage waiting to be swept. */
export function retainedHeap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Bytes of Buffers and ArrayBuffers alive after a full collection (what the floods try to pile up). */
export function retainedBuffers(): number {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
}
