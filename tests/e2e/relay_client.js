#!/usr/bin/env node
// The browser side of the relay tests (tests/e2e/test_relay.py): the npm mqtt client over
// WebSocket, as a Remote Lab page runs it. Usage:
//   node relay_client.js mqtt URL VERSION ACTIONS_JSON   mqtt.js (VERSION 4 = 3.1.1, 5)
//   node relay_client.js hold URLS_JSON                  opens each in turn, all held open
//   node relay_client.js raw URL VERSION [SECONDS]       a bare WebSocket that sends a
//                                                        CONNECT (with a will on RELAY_WILL)
//                                                        and reports what comes back and
//                                                        how the socket closes
//   node relay_client.js burst URLS_JSON VERSION         opens all at once; each sends
//                                                        PINGREQs at its CONNACK and drops
//                                                        its socket as the answers come
// Prints one JSON object per line: {"event": ...}. Actions: {"op": "subscribe", "topic",
// "qos"}, {"op": "publish", "topic", "payload", "qos", "retain"}, {"op": "expect", "topic",
// "ms"} (waits for a message), {"op": "wait_close", "ms"}, {"op": "end"}.
'use strict';
const path = require('path');
const root = path.resolve(__dirname, '..', '..');
const need = (m) => require(path.join(root, 'node_modules', m));
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const [mode, url, version, arg] = process.argv.slice(2);

function raw() {
  const WebSocket = need('ws');
  const mqttPacket = need('mqtt-packet');
  const ws = new WebSocket(url, ['mqtt']);
  const parser = mqttPacket.parser({ protocolVersion: Number(version) });
  parser.on('packet', (p) => out({ event: 'packet', cmd: p.cmd, returnCode: p.returnCode, reasonCode: p.reasonCode }));
  ws.on('unexpected-response', (req, res) => {
    let body = '';
    res.on('data', (d) => (body += d));
    res.on('end', () => { out({ event: 'http', status: res.statusCode, body }); process.exit(0); });
  });
  ws.on('open', () => {
    out({ event: 'open', protocol: ws.protocol });
    const will = process.env.RELAY_WILL ? { topic: process.env.RELAY_WILL, payload: Buffer.from('bye') } : undefined;
    ws.send(mqttPacket.generate({ cmd: 'connect', protocolVersion: Number(version), clientId: '', clean: true,
      keepalive: 30, username: 'browser-guess', password: Buffer.from('not-the-password'), will }));
  });
  ws.on('message', (d) => parser.parse(d));
  ws.on('close', (code, reason) => { out({ event: 'close', code, reason: reason.toString() }); process.exit(0); });
  ws.on('error', (e) => out({ event: 'error', message: e.message }));
  setTimeout(() => { out({ event: 'timeout' }); process.exit(0); }, Number(arg || 10) * 1000);
}

async function scripted() {
  const mqtt = need('mqtt');
  const actions = JSON.parse(arg || '[]');
  const client = mqtt.connect(url, { protocolVersion: Number(version), reconnectPeriod: 0, connectTimeout: 8000,
    clean: true, keepalive: 30 });
  const messages = [];
  let closed = false;
  client.on('message', (topic, payload) => messages.push({ topic, payload: payload.toString() }));
  client.on('close', () => { closed = true; });
  client.on('error', (e) => out({ event: 'error', message: e.message, code: e.code }));
  client.on('disconnect', (p) => out({ event: 'disconnect', reasonCode: p.reasonCode }));
  const connected = await new Promise((resolve) => {
    client.once('connect', (ack) => resolve(ack));
    client.once('close', () => resolve(null));
  });
  out({ event: 'connect', ok: !!connected, returnCode: connected ? connected.returnCode ?? connected.reasonCode : null });
  if (!connected) process.exit(0);
  const waitFor = (cond, ms) => new Promise((resolve) => {
    const t0 = Date.now();
    const poll = () => (cond() ? resolve(true) : Date.now() - t0 > ms ? resolve(false) : setTimeout(poll, 20));
    poll();
  });
  const keepAlive = setInterval(() => {}, 1000); // node stays up while a callback is pending
  for (const a of actions) {
    if (a.op === 'subscribe') {
      const granted = await new Promise((resolve) => client.subscribe(a.topic, { qos: a.qos || 0 },
        (err, g) => resolve(err ? { error: err.message, code: err.code } : { granted: g.map((x) => x.qos) })));
      out({ event: 'subscribe', topic: a.topic, ...granted });
    } else if (a.op === 'publish') {
      const r = await new Promise((resolve) => {
        client.publish(a.topic, a.payload || '', { qos: a.qos || 0, retain: !!a.retain },
          (err, pkt) => resolve({ error: err ? err.message : null, reasonCode: err ? err.code : pkt && pkt.reasonCode }));
        if (closed) resolve({ error: 'closed' });
        client.once('close', () => resolve({ error: 'closed' }));
      });
      out({ event: 'publish', topic: a.topic, ...r });
    } else if (a.op === 'expect') {
      const ok = await waitFor(() => messages.some((m) => m.topic === a.topic), a.ms || 5000);
      out({ event: 'expect', topic: a.topic, received: ok, messages: messages.filter((m) => m.topic === a.topic) });
    } else if (a.op === 'wait_close') {
      const ok = await waitFor(() => closed, a.ms || 5000);
      out({ event: 'wait_close', closed: ok });
    } else if (a.op === 'end') {
      await new Promise((resolve) => client.end(false, {}, resolve));
    }
  }
  clearInterval(keepAlive);
  out({ event: 'done', closed, messages });
  process.exit(0);
}

// hold: opens every URL of a JSON list in turn, each kept open, and reports the upgrade
// outcome of each ({"event": "held", "results": [101 | HTTP status, ...]}).
async function hold() {
  const WebSocket = need('ws');
  const results = [];
  for (const u of JSON.parse(url)) {
    results.push(await new Promise((resolve) => {
      const ws = new WebSocket(u, ['mqtt']);
      ws.on('open', () => resolve(101));
      ws.on('unexpected-response', (req, res) => resolve(res.statusCode));
      ws.on('error', () => resolve(0));
    }));
  }
  out({ event: 'held', results });
  process.exit(0);
}

// burst: each session's two sides end together: at its CONNACK the client sends PINGREQs and
// drops its TCP socket while the broker's answers are on their way, so the relay sees the
// browser's end and the broker's bytes in one batch of events ({"event": "burst", "connacks": N}).
async function burst() {
  const WebSocket = need('ws');
  const mqttPacket = need('mqtt-packet');
  const v = Number(version);
  const ping = mqttPacket.generate({ cmd: 'pingreq' });
  const one = (u, i) => new Promise((resolve) => {
    const ws = new WebSocket(u, ['mqtt']);
    const parser = mqttPacket.parser({ protocolVersion: v });
    parser.on('packet', (p) => {
      if (p.cmd !== 'connack') return;
      for (let k = 0; k < 4; k++) ws.send(ping);
      // Staggered by a fraction of a millisecond each, so some drops meet the answers.
      setTimeout(() => ws.terminate(), i % 3);
      resolve(1);
    });
    ws.on('open', () => ws.send(mqttPacket.generate({ cmd: 'connect', protocolVersion: v, clientId: '',
      clean: true, keepalive: 30 })));
    ws.on('message', (d) => parser.parse(d));
    ws.on('close', () => resolve(0));
    ws.on('error', () => resolve(0));
  });
  const got = await Promise.all(JSON.parse(url).map(one));
  out({ event: 'burst', connacks: got.reduce((a, b) => a + b, 0) });
  process.exit(0);
}

if (mode === 'raw') raw();
else if (mode === 'hold') hold();
else if (mode === 'burst') burst();
else scripted().catch((e) => { out({ event: 'fatal', message: String(e) }); process.exit(1); });
