// Lists the live streams (GET /api/streams) and plays the chosen one over WebSocket-FLV with
// mpegts.js. Talks to the gateway over HTTP/WS only. The API needs a console login (HttpOnly
// session cookie; the CSRF token it answers goes with every POST); play URLs are signed by
// POST /api/auth/sign, so they play under auth.play: token.
'use strict';

const state = { player: null, path: null, csrfToken: null };

function showLogin(show) {
  document.getElementById('login').hidden = !show;
  document.getElementById('streams').hidden = show;
  if (show) setStatus('log in to see the streams', false);
}

async function api(method, url, body) {
  const headers = { 'x-csrf-token': state.csrfToken ?? '' };
  if (body) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined, credentials: 'same-origin' });
  if (res.status === 401) {
    showLogin(true);
    throw new Error('not logged in');
  }
  const json = await res.json();
  if (!res.ok) throw new Error(json.message ?? `HTTP ${res.status}`);
  return json;
}

async function restoreSession() {
  try {
    const session = await api('GET', '/api/auth/session');
    state.csrfToken = session.csrfToken ?? null;
    showLogin(false);
    return true;
  } catch {
    return false;
  }
}

document.getElementById('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (document.getElementById('secret'));
  const res = await fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret: input.value }) });
  input.value = '';
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    setStatus(res.status === 429 ? 'too many attempts: wait a minute' : (body.message ?? `login failed (${res.status})`), true);
    return;
  }
  state.csrfToken = (await res.json()).csrfToken;
  showLogin(false);
  await refresh();
  if (initial) void play(initial);
});

function describeTracks(tracks) {
  return tracks.map((t) => (t.width ? `${t.codec} ${t.width}x${t.height}` : `${t.codec} ${t.sampleRate ?? ''}Hz`)).join(', ');
}

function setStatus(text, isError) {
  const el = document.getElementById('status');
  el.textContent = text;
  el.className = isError ? 'error' : '';
}

async function refresh() {
  try {
    const { streams } = await api('GET', '/api/streams');
    const list = document.getElementById('streams');
    list.replaceChildren();
    if (streams.length === 0) {
      const p = document.createElement('p');
      p.className = 'empty';
      p.textContent = 'No live stream. Publish one: ffmpeg … -f flv "rtmp://HOST:1935/live/cam1?key=<auth.publishKey>"';
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
    if (err.message !== 'not logged in') setStatus(`API unreachable: ${err.message}`, true);
  }
}

async function play(path) {
  let query;
  try {
    query = (await api('POST', '/api/auth/sign', { path })).query;
  } catch (err) {
    setStatus(`${path}: ${err.message}`, true);
    return;
  }
  if (state.player) {
    state.player.destroy();
    state.player = null;
  }
  state.path = path;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.host}/${path}.flv?${query}`;
  const video = /** @type {HTMLVideoElement} */ (document.getElementById('video'));
  const player = mpegts.createPlayer({ type: 'flv', isLive: true, url }, { enableWorker: false, liveBufferLatencyChasing: true });
  player.on(mpegts.Events.ERROR, (type, detail) => setStatus(`${path}: ${type} ${detail}`, true));
  player.attachMediaElement(video);
  player.load();
  void video.play().catch(() => undefined);
  state.player = player;
  document.getElementById('player').hidden = false;
  document.getElementById('player-title').textContent = path;
  document.getElementById('player-info').textContent = url.replace(/token=[^&]+/, 'token=…');
  void refresh();
}

const initial = new URLSearchParams(location.search).get('play');
void restoreSession().then((loggedIn) => {
  if (!loggedIn) return;
  void refresh();
  if (initial) void play(initial);
});
setInterval(() => {
  if (document.getElementById('login').hidden) void refresh();
}, 5000);
