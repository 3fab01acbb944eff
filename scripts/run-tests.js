#!/usr/bin/env node
// Runs every compiled test under dist/test with Node's own runner. Unit and property tests run
// first (fast, parallel), then the e2e tests that drive ffmpeg/ffprobe/Chromium (one at a time:
// the machine has 2 cores and they measure real-time behaviour).
'use strict';
const { spawnSync } = require('node:child_process');
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

function collect(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) collect(full, out);
    else if (name.endsWith('.test.js')) out.push(full);
  }
  return out;
}

// Debian packages of the third-party peers (nginx-rtmp, stunnel, GStreamer ...): installed here
// when missing, so the README's one test command works on a fresh machine.
const deps = spawnSync(process.execPath, [join(__dirname, 'system-deps.js')], { stdio: 'inherit' });
if (deps.status !== 0) process.exit(deps.status ?? 1);

const filter = process.argv.slice(2);
const all = collect(join(__dirname, '..', 'dist', 'test')).sort();
const chosen = filter.length ? all.filter((f) => filter.some((pattern) => f.includes(pattern))) : all;
const e2e = chosen.filter((f) => f.includes(`${join('test', 'e2e')}`));
const unit = chosen.filter((f) => !e2e.includes(f));

let failed = false;
for (const [files, concurrency] of [
  [unit, 2],
  [e2e, 1],
]) {
  if (files.length === 0) continue;
  const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit' });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
