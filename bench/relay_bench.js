#!/usr/bin/env node
// The relay's figures (scripts/bench-relay): message throughput and round-trip latency
// through nginx and the relay beside a direct WebSocket connection to the same mosquitto
// in the same run (the ratio is the figure), and SESSIONS concurrent relayed sessions held
// with the relay's resident memory per session. Environment: BASE (http://127.0.0.1:8080),
// MQTT_PORT (1883), MQTT_WS_PORT (9001), RELAY_PID, MESSAGES (20000), SAMPLES (1000),
// SESSIONS (200), TOKENS (a JSON list of access tokens: sessions are spread over them).
'use strict';
const path = require('path');
const fs = require('fs');
const root = path.resolve(__dirname, '..');
const mqtt = require(path.join(root, 'node_modules', 'mqtt'));
const WebSocket = require(path.join(root, 'node_modules', 'ws'));

const BASE = process.env.BASE || 'http://127.0.0.1:8080';
const WS_BASE = BASE.replace(/^http/, 'ws');
const MESSAGES = Number(process.env.MESSAGES || 20000);
const SAMPLES = Number(process.env.SAMPLES || 1000);
const SESSIONS = Number(process.env.SESSIONS || 200);
const TOKENS = JSON.parse(process.env.TOKENS || '[]');
const DIRECT = `ws://127.0.0.1:${process.env.MQTT_WS_PORT || 9001}/mqtt`;
const PREFIX = 'bench/relay';

async function ticketUrl(token) {
  const r = await fetch(BASE + '/api/v1/users/me/integrations/mqtt/ws-ticket',
    { method: 'POST', headers: { Authorization: 'Bearer ' + token } });
  const j = await r.json();
  if (!j.success) throw new Error('ticket: ' + JSON.stringify(j));
  return WS_BASE + j.data.url;
}

const connect = (url) => new Promise((resolve, reject) => {
  const c = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, clean: true });
  c.once('connect', () => resolve(c));
  c.once('error', reject);
});

async function throughput(makeUrl) {
  const sub = await connect(await makeUrl()), pub = await connect(await makeUrl());
  const topic = `${PREFIX}/tp/${Math.random().toString(16).slice(2)}`;
  await new Promise((r) => sub.subscribe(topic, { qos: 0 }, r));
  let got = 0;
  const done = new Promise((resolve) => sub.on('message', () => { if (++got === MESSAGES) resolve(); }));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < MESSAGES; i++) {
    pub.publish(topic, 'x'.repeat(64), { qos: 0 });
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 60000))]);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  sub.end(true); pub.end(true);
  return { messages: got, per_second: Math.round(got / secs) };
}

async function latency(makeUrl) {
  const c = await connect(await makeUrl());
  const topic = `${PREFIX}/lat/${Math.random().toString(16).slice(2)}`;
  await new Promise((r) => c.subscribe(topic, { qos: 0 }, r));
  const times = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise((resolve) => { c.once('message', resolve); c.publish(topic, String(i)); });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  c.end(true);
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  return { p50_ms: +q(0.5).toFixed(3), p99_ms: +q(0.99).toFixed(3) };
}

const rss = (pid) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
};

async function sessions() {
  const pid = Number(process.env.RELAY_PID);
  const before = rss(pid);
  const held = [];
  for (let i = 0; i < SESSIONS; i++) {
    const url = await ticketUrl(TOKENS[i % TOKENS.length]);
    held.push(await new Promise((resolve) => {
      const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, keepalive: 60 });
      c.once('connect', () => resolve(c));
      c.once('error', () => resolve(null));
    }));
  }
  const ok = held.filter(Boolean).length;
  const after = rss(pid);
  held.forEach((c) => c && c.end(true));
  return { requested: SESSIONS, held: ok, relay_rss_kb_before: before, relay_rss_kb_after: after,
    kb_per_session: ok ? +((after - before) / ok).toFixed(1) : null };
}

(async () => {
  const viaRelay = () => ticketUrl(TOKENS[0]);
  const direct = async () => DIRECT;
  const r = {};
  r.throughput = { relay: await throughput(viaRelay), direct: await throughput(direct) };
  r.throughput.ratio = +(r.throughput.relay.per_second / r.throughput.direct.per_second).toFixed(2);
  r.latency = { relay: await latency(viaRelay), direct: await latency(direct) };
  r.latency.added_p50_ms = +(r.latency.relay.p50_ms - r.latency.direct.p50_ms).toFixed(3);
  r.sessions = await sessions();
  console.log(JSON.stringify(r, null, 2));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
