import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway } from '../helpers/gateway';
import { parseScrape, scrapeMetrics } from '../helpers/prometheus';

test('metrics.auth secret (the default): /metrics without or with a wrong Bearer is 401, with auth.secret it answers', async () => {
  const gw = await startTestGateway();
  try {
    assert.equal(gw.config.metrics.auth, 'secret');
    const bare = await fetch(`${gw.httpUrl}/metrics`);
    assert.equal(bare.status, 401);
    assert.match(bare.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.doesNotMatch(await bare.text(), /gateway_/);
    const wrong = await fetch(`${gw.httpUrl}/metrics`, { headers: { authorization: 'Bearer not-the-secret' } });
    assert.equal(wrong.status, 401);
    const scrape = await scrapeMetrics(gw.httpUrl, gw.authHeaders);
    assert.ok(scrape.has('gateway_limit_refusals_total'), 'the scrape has the gateway series');
  } finally {
    await gw.stop();
  }
});

test('metrics.auth open: a Prometheus without credentials scrapes /metrics; /api still needs the secret', async () => {
  const gw = await startTestGateway({ GW_METRICS_AUTH: 'open' });
  try {
    const bare = await fetch(`${gw.httpUrl}/metrics`);
    assert.equal(bare.status, 200);
    assert.ok(parseScrape(await bare.text()).has('gateway_limit_refusals_total'));
    assert.equal((await fetch(`${gw.httpUrl}/api/streams`)).status, 401);
  } finally {
    await gw.stop();
  }
});
