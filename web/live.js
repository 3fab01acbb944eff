// Lists the live streams (GET /api/streams) and plays the chosen one over WebSocket-FLV with
// mpegts.js. Talks to the gateway over HTTP/WS only.
'use strict';

const state = { player: null, path: null };

function describeTracks(tracks) {
  return tracks
    .map((t) => (t.width ? `${t.codec} ${t.width}x${t.height}` : `${t.codec} ${t.sampleRate ?? ''}Hz`))
    .join(', ');
}

function setStatus(text, isError) {
  const el = document.getElementById('status');
  el.textContent = text;
  el.className = isError ? 'error' : '';
}

async function refresh() {
  try {
    const res = await fetch('/api/streams');
    const { streams } = await res.json();
    const list = document.getElementById('streams');
    list.replaceChildren();
    if (streams.length === 0) {
      const p = document.createElement('p');
      p.className = 'empty';
      p.textContent = 'No live stream. Publish one: ffmpeg … -f flv rtmp://HOST:1935/live/cam1';
      list.append(p);
    }
    for (const stream of streams) {
      const button = document.createElement('button');
      button.dataset.path = stream.path;
      button.setAttribute('aria-pressed', String(stream.path === state.path));
      button.textContent = `${stream.path} — ${describeTracks(stream.tracks)} — ${stream.readers.total} viewer(s)`;
      button.addEventListener('click', () => play(stream.path));
      list.append(button);
    }
    setStatus(`${streams.length} stream(s)`, false);
  } catch (err) {
    setStatus(`API unreachable: ${err.message}`, true);
  }
}

function play(path) {
  if (state.player) {
    state.player.destroy();
    state.player = null;
  }
  state.path = path;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.host}/${path}.flv`;
  const video = document.getElementById('video');
  const player = mpegts.createPlayer({ type: 'flv', isLive: true, url }, { enableWorker: false, liveBufferLatencyChasing: true });
  player.on(mpegts.Events.ERROR, (type, detail) => setStatus(`${path}: ${type} ${detail}`, true));
  player.attachMediaElement(video);
  player.load();
  void video.play().catch(() => undefined);
  state.player = player;
  document.getElementById('player').hidden = false;
  document.getElementById('player-title').textContent = path;
  document.getElementById('player-info').textContent = url;
  void refresh();
}

const initial = new URLSearchParams(location.search).get('play');
if (initial) play(initial);
void refresh();
setInterval(refresh, 5000);
