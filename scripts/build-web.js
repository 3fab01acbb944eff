// Bundles the console (web/src/main.ts and what it imports: mpegts.js, the pages) into
// dist/web/main.js with esbuild: `npm run build` runs it after tsc. The gateway serves it at
// /assets/main.js; nothing is fetched from a CDN. Type-checking is `npm run typecheck:web`.
'use strict';
const { join } = require('node:path');
const esbuild = require('esbuild');

const root = join(__dirname, '..');

esbuild
  .build({
    entryPoints: [join(root, 'web', 'src', 'main.ts')],
    outfile: join(root, 'dist', 'web', 'main.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
  })
  .catch(() => process.exit(1));
