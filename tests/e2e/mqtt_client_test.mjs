// The console's MQTT 3.1.1 client (www/console/js/mqtt.js) under node --test: the codec
// byte for byte (remaining length both ways at every size boundary, partial frames, several
// packets per frame, malformed and oversized input), and the client against a scripted
// WebSocket (CONNECT without credentials, CONNACK refusals, SUBACK 0x80, QoS 1 both ways,
// keep-alive, closes). With RELAY_URL (a ws:// URL with a fresh ticket) and RELAY_PREFIX it
// also talks through the real relay to the stack's mosquitto (run by
// tests/e2e/test_console_remote_lab.py).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { encode, encodeLength, decodeLength, decodePacket, Decoder, MqttClient, MqttError, checkTopic, MAX_REMAINING }
  from '../../www/console/js/mqtt.js';

const hex = (u8) => Buffer.from(u8).toString('hex');
const u8 = (h) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

test('remaining length: every boundary both ways', () => {
  const cases = [[0, '00'], [127, '7f'], [128, '8001'], [16383, 'ff7f'], [16384, '808001'],
    [2097151, 'ffff7f'], [2097152, '80808001'], [MAX_REMAINING, 'ffffff7f']];
  for (const [n, h] of cases) {
    assert.equal(hex(encodeLength(n)), h, `encode ${n}`);
    assert.deepEqual(decodeLength(u8(h), 0), { value: n, size: h.length / 2 }, `decode ${n}`);
    // Every proper prefix of the length is "need more bytes", never a wrong value.
    for (let i = 0; i < h.length / 2; i++) assert.equal(decodeLength(u8(h).subarray(0, i), 0), null);
  }
  assert.throws(() => encodeLength(MAX_REMAINING + 1), MqttError);
  assert.throws(() => encodeLength(-1), MqttError);
  assert.throws(() => encodeLength(1.5), MqttError);
  assert.throws(() => decodeLength(u8('ffffffff01'), 0), /malformed remaining length/);
});

test('CONNECT: protocol level 4, clean session, no will, no user name, no password', () => {
  assert.equal(hex(encode.connect({ clientId: '', keepalive: 30 })), '100c00044d5154540402001e0000');
  const p = encode.connect({ clientId: 'web-1', keepalive: 60, clean: false });
  assert.equal(hex(p), '101100044d51545404' + '00' + '003c' + '0005' + hex(Buffer.from('web-1')));
  assert.throws(() => encode.connect({ keepalive: 70000 }), MqttError);
});

test('SUBSCRIBE, UNSUBSCRIBE, PUBLISH, PUBACK, PINGREQ, DISCONNECT bytes', () => {
  assert.equal(hex(encode.subscribe(10, [{ topic: 'a/#', qos: 1 }])), '8208000a0003612f2301');
  assert.equal(hex(encode.unsubscribe(11, ['a/#'])), 'a207000b0003612f23');
  assert.equal(hex(encode.publish({ topic: 'a/b', payload: 'hi' })), '30070003612f626869');
  assert.equal(hex(encode.publish({ topic: 'a/b', payload: 'hi', qos: 1, retain: true, id: 258 })), '33090003612f6201026869');
  assert.equal(hex(encode.puback(258)), '40020102');
  assert.equal(hex(encode.pingreq()), 'c000');
  assert.equal(hex(encode.disconnect()), 'e000');
  // A payload of 200 bytes takes a two-byte remaining length.
  const big = encode.publish({ topic: 't', payload: new Uint8Array(200) });
  assert.equal(hex(big.subarray(0, 3)), '30cb01');
  assert.equal(big.length, 3 + 203);
  // UTF-8 lengths are bytes, not characters.
  assert.equal(hex(encode.publish({ topic: 'é', payload: '' })), '30040002c3a9');
});

test('topics and filters are checked before anything is sent', () => {
  for (const t of ['', 'a/+', 'a/#', 'x\u0000y']) assert.throws(() => checkTopic(t), MqttError, t);
  for (const f of ['a/#/b', 'a#', 'a/b+', '']) assert.throws(() => checkTopic(f, true), MqttError, f);
  for (const f of ['#', 'a/+/c', 'a/#', '+']) checkTopic(f, true);
  assert.throws(() => encode.publish({ topic: 'a', qos: 2 }), /QoS/);
  assert.throws(() => encode.publish({ topic: 'a', qos: 1, id: 0 }), /identifier/);
  assert.throws(() => encode.subscribe(1, []), MqttError);
  assert.throws(() => encode.publish({ topic: 'x'.repeat(65536) }), /65535/);
});

test('decoder: byte by byte, several per chunk, split anywhere', () => {
  const pub = encode.publish({ topic: 'lab/t', payload: new Uint8Array(300).fill(7), qos: 1, id: 5 });
  const ack = u8('9003 0001 80');
  const stream = new Uint8Array([...pub, ...ack, ...u8('d000')]);
  for (const step of [1, 2, 3, 7, stream.length]) {
    const d = new Decoder();
    const got = [];
    for (let i = 0; i < stream.length; i += step) got.push(...d.push(stream.subarray(i, i + step)));
    assert.equal(got.length, 3, `step ${step}`);
    assert.equal(got[0].type, 'publish');
    assert.equal(got[0].topic, 'lab/t');
    assert.equal(got[0].qos, 1);
    assert.equal(got[0].id, 5);
    assert.equal(got[0].payload.length, 300);
    assert.deepEqual(got[1], { type: 'suback', id: 1, codes: [0x80] });
    assert.deepEqual(got[2], { type: 'pingresp' });
  }
});

test('decoder: oversized, malformed and client-only packets are errors', () => {
  assert.throws(() => new Decoder(100).push(u8('30 ff 01')), /above the limit/);
  assert.throws(() => new Decoder().push(u8('20 03 000000')), /CONNACK/);
  assert.throws(() => new Decoder().push(u8('20 02 0200')), /CONNACK/);
  assert.throws(() => new Decoder().push(u8('90 03 0001 05')), /SUBACK return code/);
  assert.throws(() => new Decoder().push(u8('10 00')), /does not send/);
  assert.throws(() => new Decoder().push(u8('36 03 0001 61')), /PUBLISH/);
  assert.throws(() => new Decoder().push(u8('30 03 0002 ff')), /PUBLISH/);
  assert.throws(() => decodePacket(0x30, u8('0001ff')), /UTF-8/);
  assert.throws(() => decodePacket(0x32, u8('0001610000')), /identifier/);
  assert.deepEqual(decodePacket(0x20, u8('0100')), { type: 'connack', sessionPresent: true, returnCode: 0 });
});

// A WebSocket whose server side the test scripts: sent frames are recorded.
class FakeSocket {
  static last = null;
  constructor(url, protocol) {
    Object.assign(this, { url, protocol, readyState: 0, sent: [], closedWith: null });
    FakeSocket.last = this;
    setTimeout(() => { this.readyState = 1; this.onopen(); }, 0);
  }
  send(b) { this.sent.push(hex(b)); }
  close(code, reason) { this.readyState = 3; this.closedWith = { code, reason }; }
  server(h) { this.onmessage({ data: u8(h).buffer }); }
  serverClose(code, reason) { this.readyState = 3; this.onclose({ code, reason }); }
}

const tick = () => new Promise((r) => setTimeout(r, 5));

async function connected(opts = {}) {
  const c = new MqttClient({ url: 'ws://x/ws', WebSocket: FakeSocket, ...opts });
  const p = c.connect();
  await tick();
  const ws = FakeSocket.last;
  ws.server('20020000');
  await p;
  return { c, ws };
}

test('client: CONNECT without credentials, subprotocol mqtt, CONNACK refusal rejects', async () => {
  const { c: first, ws } = await connected();
  first.end();
  assert.equal(ws.protocol, 'mqtt');
  assert.equal(ws.binaryType, 'arraybuffer');
  assert.equal(ws.sent[0], '100c00044d5154540402001e0000');
  const c = new MqttClient({ url: 'ws://x/ws', WebSocket: FakeSocket });
  const closes = [];
  c.on('close', (i) => closes.push(i));
  const p = c.connect();
  await tick();
  FakeSocket.last.server('20020005');
  await assert.rejects(p, /not authorized/);
  assert.equal(FakeSocket.last.closedWith.code, 4000);
  assert.match(closes[0].error, /not authorized/);
});

test('client: SUBACK 0x80 comes back as a refusal, QoS 1 both ways', async () => {
  const { c, ws } = await connected();
  const s = c.subscribe('#', 1);
  assert.equal(ws.sent[1], '820600010001' + '2301');
  ws.server('9003000180');
  assert.deepEqual(await s, [0x80]);
  const pub = c.publish('lab/a', 'x', { qos: 1 });
  assert.equal(ws.sent[2], '320a' + '0005' + '6c61622f61' + '0002' + '78');
  let done = false;
  pub.then(() => { done = true; });
  await tick();
  assert.equal(done, false, 'a QoS 1 publish waits for its PUBACK');
  ws.server('40020002');
  await pub;
  const got = [];
  c.on('message', (m) => got.push(m));
  ws.server('3209' + '0003' + '612f62' + '0007' + '6869');
  assert.equal(ws.sent.at(-1), '40020007', 'PUBACK for the incoming QoS 1 PUBLISH');
  assert.equal(got[0].topic, 'a/b');
  assert.equal(Buffer.from(got[0].payload).toString(), 'hi');
  // An answer to nothing is a protocol error that ends the session.
  const closes = [];
  c.on('close', (i) => closes.push(i));
  ws.server('40020063');
  assert.match(closes[0].error, /unexpected PUBACK/);
});

test('client: a server close rejects what is pending and reports code and reason', async () => {
  const { c, ws } = await connected();
  const closes = [];
  c.on('close', (i) => closes.push(i));
  const s = c.subscribe('lab/#');
  ws.serverClose(1012, 'relay restart: reconnect');
  await assert.rejects(s, /1012: relay restart/);
  assert.deepEqual(closes, [{ code: 1012, reason: 'relay restart: reconnect', error: null }]);
  await assert.rejects(c.publish('lab/a', 'x'), /not connected/);
});

test('client: in-flight requests are bounded', async () => {
  const { c, ws } = await connected({ maxInflight: 2 });
  await assert.rejects(c.subscribe('a/#/b'), /whole last level/);
  const held = [c.subscribe('a'), c.subscribe('b')].map((p) => p.catch((e) => e.message));
  await assert.rejects(c.subscribe('c'), /too many/);
  assert.equal(ws.sent.length, 3, 'the refused ones sent nothing');
  c.end();
  assert.deepEqual(await Promise.all(held), ['session closed (1000: client disconnect)', 'session closed (1000: client disconnect)']);
});

test('client: PINGREQ within the keep-alive, no PINGRESP ends the session', async () => {
  const { c, ws } = await connected({ keepalive: 1 });
  const closes = [];
  c.on('close', (i) => closes.push(i));
  await new Promise((r) => setTimeout(r, 900));
  assert.equal(ws.sent.filter((s) => s === 'c000').length, 1, ws.sent.join(' '));
  ws.server('d000');
  await new Promise((r) => setTimeout(r, 900));
  assert.equal(ws.sent.filter((s) => s === 'c000').length, 2, 'a second PINGREQ after the PINGRESP');
  assert.equal(closes.length, 0);
  await new Promise((r) => setTimeout(r, 1400));
  assert.match(closes[0] && closes[0].error, /no PINGRESP/);
});

test('client: end() sends DISCONNECT and closes 1000', async () => {
  const { c, ws } = await connected();
  c.end();
  assert.equal(ws.sent.at(-1), 'e000');
  assert.equal(ws.closedWith.code, 1000);
  assert.equal(c.state, 'closed');
});

test('through the real relay to mosquitto', { skip: !process.env.RELAY_URL }, async () => {
  const require = createRequire(import.meta.url);
  const WebSocket = require('../../node_modules/ws');
  const prefix = process.env.RELAY_PREFIX;
  const c = new MqttClient({ url: process.env.RELAY_URL, WebSocket, keepalive: 2 });
  const got = [];
  c.on('message', (m) => got.push(m));
  const ack = await c.connect();
  assert.equal(ack.returnCode, 0);
  assert.deepEqual(await c.subscribe(prefix + '/#', 1), [1]);
  assert.deepEqual(await c.subscribe('#', 0), [0x80]);
  const payload = 'x'.repeat(20000); // a three-byte remaining length through the relay
  await c.publish(prefix + '/node/big', payload, { qos: 1 });
  await c.publish(prefix + '/node/small', 'q0');
  // Longer than the keep-alive: the PINGREQs keep the session open.
  const t0 = Date.now();
  while (got.length < 2 && Date.now() - t0 < 8000) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 3500));
  assert.equal(c.state, 'connected');
  assert.deepEqual(got.map((m) => [m.topic, m.payload.length]), [[prefix + '/node/big', 20000], [prefix + '/node/small', 2]]);
  assert.equal(Buffer.from(got[0].payload).toString(), payload);
  const closed = new Promise((r) => c.on('close', r));
  c.end();
  assert.equal((await closed).code, 1000);
});
