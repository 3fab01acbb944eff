import { setFlagsFromString } from 'node:v8';

/**
 * The V8 flags `v8:` in the config asks for (none when everything is left to V8).
 *
 * `heapGrowingPercent`: after a full (mark-compact) GC, V8 sets the next one's trigger at the
 * live heap times a growing factor, and counts the ArrayBuffer bytes allocated since then
 * (every media body a publisher sends) against the room left. With the gateway's small heap
 * (about 25 MB live) V8 chose about 1.9 and left ~23 MB of room, which 50 publishers of
 * 2.1 Mbit/s filled in 1-2 s: a full GC (marking the whole heap, on two threads) every 1-2 s
 * was a third of the ingest CPU. 200 (a factor of 3) makes it one every 4-6 s.
 */
export function v8Flags(settings: { readonly heapGrowingPercent: number }): string[] {
  return settings.heapGrowingPercent > 0 ? [`--heap-growing-percent=${settings.heapGrowingPercent}`] : [];
}

/** Applies `v8Flags` to this process: V8 reads the growing factor at every full GC, so it takes effect from the next one. */
export function applyV8Settings(settings: { readonly heapGrowingPercent: number }): void {
  for (const flag of v8Flags(settings)) setFlagsFromString(flag);
}
