import fc from 'fast-check';

/**
 * Text for a parser's property test: random strings, or one of the valid samples with up to
 * six short splices (a character replaced by 0-3 random ones) at random places.
 */
export function randomOrMutatedText(valid: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength: 500 }),
    fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 3 })), { maxLength: 6 })).map(([text, edits]) => {
      let out = text;
      for (const [at, s] of edits) {
        const i = at % (out.length + 1);
        out = out.slice(0, i) + s + out.slice(i + 1);
      }
      return out;
    }),
  );
}
