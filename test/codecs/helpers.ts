import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { ParseError } from '../../src/core/errors';

/** The repository root (the folder holding package.json), found from the compiled test's folder. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + __dirname);
    dir = parent;
  }
  return dir;
}

export function readFixture(area: string, name: string): Buffer {
  return readFileSync(join(repoRoot(), 'test', 'fixtures', area, name));
}

export function fixturePath(area: string, name: string): string {
  return join(repoRoot(), 'test', 'fixtures', area, name);
}

/** Runs `fn`; a ParseError is fine (bad input), anything else fails the property. */
export function onlyParseError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
}

/** Copies of `base` with some bytes overwritten, then maybe cut short or extended with junk. */
export function mutated(base: Buffer): fc.Arbitrary<Buffer> {
  return fc
    .tuple(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.option(fc.nat(), { nil: undefined }),
      fc.uint8Array({ maxLength: 16 }),
    )
    .map(([edits, cut, tail]) => {
      const copy = Buffer.from(base);
      if (copy.length > 0) for (const [pos, value] of edits) copy[pos % copy.length] = value;
      const cutAt = cut === undefined ? copy.length : cut % (copy.length + 1);
      return Buffer.concat([copy.subarray(0, cutAt), cut === undefined ? Buffer.from(tail) : Buffer.alloc(0)]);
    });
}

/** Random bytes, and mutated copies of each real sample. */
export function bytesLike(samples: readonly Buffer[], maxLength = 256): fc.Arbitrary<Buffer> {
  const random = fc.uint8Array({ maxLength }).map((bytes) => Buffer.from(bytes));
  return fc.oneof(random, ...samples.map((sample) => mutated(sample)));
}
