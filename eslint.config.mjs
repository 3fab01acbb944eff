// ESLint (flat config) with typescript-eslint's recommended rules, without the type-aware ones
// (they need a full type check per run; `tsc --noEmit` already does that in `npm test`).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/fixtures/', 'coverage/', 'data/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks a value left unused on purpose (destructuring a field away, an unused callback argument).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Control characters are what binary protocols are made of (regexes over SIP/RTSP/SDP text included).
      'no-control-regex': 'off',
      // `let x; const onClose = () => x?.close(); x = new Thing(onClose)`: closures that read a value assigned after them.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Code run inside the browser by playwright (page.evaluate) reaches the players' untyped globals.
    files: ['test/e2e/**/*.ts', 'test/bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The console runs in the browser (bundled by esbuild from web/src).
    files: ['web/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
