#!/usr/bin/env node
// Brings the Debian packages the tests drive (real third-party peers: nginx-rtmp, stunnel,
// GStreamer ...) onto a fresh machine. Run by `npm test` before any test: as root it installs
// what is missing with apt-get; as another user it names what is missing and how to install it.
// Add a peer here as { pkg, check }: `check` is a file that exists once the package is installed.
'use strict';
const { existsSync } = require('node:fs');
const { spawnSync } = require('node:child_process');

/** @type {{pkg: string, check: string, why: string}[]} */
const PACKAGES = [
  // relays: a real RTMP server to push to and pull from, and a TLS terminator for rtmps://
  { pkg: 'nginx', check: '/usr/sbin/nginx', why: 'RTMP push/pull e2e against nginx-rtmp' },
  { pkg: 'libnginx-mod-rtmp', check: '/usr/lib/nginx/modules/ngx_rtmp_module.so', why: 'RTMP push/pull e2e against nginx-rtmp' },
  { pkg: 'stunnel4', check: '/usr/bin/stunnel4', why: 'RTMPS push e2e (TLS in front of nginx-rtmp)' },
  // RTSP server e2e: GStreamer's rtspsrc as a second third-party RTSP player beside ffmpeg
  { pkg: 'gstreamer1.0-tools', check: '/usr/bin/gst-launch-1.0', why: 'RTSP server e2e (gst-launch-1.0 rtspsrc)' },
  { pkg: 'gstreamer1.0-plugins-good', check: '/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstrtsp.so', why: 'RTSP server e2e (rtspsrc, RTP depayloaders)' },
  { pkg: 'gstreamer1.0-plugins-base', check: '/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstplayback.so', why: 'RTSP server e2e (decodebin)' },
  { pkg: 'gstreamer1.0-plugins-bad', check: '/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvideoparsersbad.so', why: 'RTSP server e2e (h264parse)' },
  { pkg: 'gstreamer1.0-libav', check: '/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstlibav.so', why: 'RTSP server e2e (avdec_h264)' },
  // console: headless Chromium has no CJK font of its own; the zh-CN screenshots need one
  { pkg: 'fonts-wqy-microhei', check: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', why: 'zh-CN console screenshots (CJK glyphs)' },
];

function missing() {
  return PACKAGES.filter((p) => !existsSync(p.check));
}

function main() {
  const todo = missing();
  if (todo.length === 0) return 0;
  const names = [...new Set(todo.map((p) => p.pkg))];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(`system-deps: the tests need these Debian packages: ${names.join(' ')}`);
    console.error(`system-deps: install them as root: apt-get update && apt-get install -y --no-install-recommends ${names.join(' ')}`);
    return 1;
  }
  console.log(`system-deps: installing ${names.join(' ')} (${todo.map((p) => p.why).join('; ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  if (update.status !== 0) console.error('system-deps: apt-get update failed; trying the install with the lists there are');
  const install = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...names], { stdio: 'inherit', env });
  if (install.status !== 0) {
    console.error(`system-deps: apt-get install ${names.join(' ')} failed (exit ${install.status})`);
    return 1;
  }
  const still = missing();
  if (still.length > 0) {
    console.error(`system-deps: still missing after the install: ${still.map((p) => p.check).join(', ')}`);
    return 1;
  }
  return 0;
}

module.exports = { PACKAGES };
if (require.main === module) process.exit(main());
