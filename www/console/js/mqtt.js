// A small MQTT 3.1.1 client over a WebSocket (subprotocol "mqtt") for the Remote Lab page:
// CONNECT (never a username or password: the relay puts the saved ones there), CONNACK,
// SUBSCRIBE / SUBACK (0x80 is a refusal), UNSUBSCRIBE, PUBLISH QoS 0 and 1 both ways,
// PUBACK, PINGREQ keep-alive, DISCONNECT. Bounded: packets above maxPacket, more than
// maxInflight unanswered requests, or malformed input end the session. The codec is
// exported for the tests (tests/e2e/mqtt_client_test.mjs).

export const MAX_REMAINING = 268435455; // 4 bytes of remaining length (3.1.1, 2.2.3)
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

export class MqttError extends Error {}

export const CONNACK_REASONS = {
  1: 'unacceptable protocol version', 2: 'client identifier rejected', 3: 'server unavailable',
  4: 'bad user name or password', 5: 'not authorized',
};

// encodeLength(n) -> the remaining-length bytes (7 bits each, high bit: more follow).
export function encodeLength(n) {
  if (!Number.isInteger(n) || n < 0 || n > MAX_REMAINING) throw new MqttError('remaining length out of range: ' + n);
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

// decodeLength(bytes, at) -> {value, size} or null when more bytes are needed.
export function decodeLength(bytes, at) {
  let value = 0;
  let mult = 1;
  for (let i = 0; i < 4; i++) {
    if (at + i >= bytes.length) return null;
    const b = bytes[at + i];
    value += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) return { value, size: i + 1 };
    mult *= 128;
  }
  throw new MqttError('malformed remaining length');
}

function str(s) {
  const b = utf8.encode(s);
  if (b.length > 65535) throw new MqttError('string longer than 65535 bytes');
  return [b.length >> 8, b.length & 0xff, ...b];
}

function bytes(payload) {
  if (payload instanceof Uint8Array) return payload;
  return utf8.encode(payload == null ? '' : String(payload));
}

function packet(first, body) {
  const head = [first, ...encodeLength(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

function u16(n) { return [n >> 8, n & 0xff]; }

function checkId(id) {
  if (!Number.isInteger(id) || id < 1 || id > 65535) throw new MqttError('packet identifier out of range');
}

// checkTopic(topic, filter): a PUBLISH topic has no wildcards; a filter's # is last and whole.
export function checkTopic(topic, filter = false) {
  if (typeof topic !== 'string' || topic === '') throw new MqttError('a topic cannot be empty');
  if (topic.includes('\u0000')) throw new MqttError('a topic cannot hold U+0000');
  if (utf8.encode(topic).length > 65535) throw new MqttError('topic longer than 65535 bytes');
  const levels = topic.split('/');
  levels.forEach((l, i) => {
    if (!filter && (l.includes('+') || l.includes('#'))) throw new MqttError('a topic to publish to cannot hold + or #');
    if (filter && l.includes('#') && (l !== '#' || i !== levels.length - 1)) throw new MqttError('# must be a whole last level');
    if (filter && l.includes('+') && l !== '+') throw new MqttError('+ must be a whole level');
  });
}

export const encode = {
  connect({ clientId = '', keepalive = 30, clean = true } = {}) {
    if (!Number.isInteger(keepalive) || keepalive < 0 || keepalive > 65535) throw new MqttError('keep-alive out of range');
    // Protocol name "MQTT", level 4 (3.1.1), flags: clean session only, no will, no credentials.
    const body = [...str('MQTT'), 4, clean ? 0x02 : 0, ...u16(keepalive), ...str(clientId)];
    return packet(0x10, body);
  },
  subscribe(id, filters) {
    checkId(id);
    if (!filters.length) throw new MqttError('SUBSCRIBE needs a filter');
    const body = [...u16(id)];
    for (const f of filters) {
      checkTopic(f.topic, true);
      if (![0, 1].includes(f.qos)) throw new MqttError('QoS must be 0 or 1');
      body.push(...str(f.topic), f.qos);
    }
    return packet(0x82, body);
  },
  unsubscribe(id, topics) {
    checkId(id);
    const body = [...u16(id)];
    for (const t of topics) { checkTopic(t, true); body.push(...str(t)); }
    return packet(0xa2, body);
  },
  publish({ topic, payload, qos = 0, retain = false, id = 0, dup = false }) {
    checkTopic(topic);
    if (![0, 1].includes(qos)) throw new MqttError('QoS must be 0 or 1');
    if (qos > 0) checkId(id);
    const data = bytes(payload);
    const head = [...str(topic), ...(qos > 0 ? u16(id) : [])];
    const body = new Uint8Array(head.length + data.length);
    body.set(head, 0);
    body.set(data, head.length);
    return packet(0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0), body);
  },
  puback(id) { checkId(id); return packet(0x40, u16(id)); },
  pingreq() { return packet(0xc0, []); },
  disconnect() { return packet(0xe0, []); },
};

function need(cond, what) { if (!cond) throw new MqttError('malformed ' + what); }

function decodePublish(flags, b) {
  const qos = (flags >> 1) & 3;
  need(qos < 3 && b.length >= 2, 'PUBLISH');
  const tlen = (b[0] << 8) | b[1];
  let at = 2 + tlen;
  need(b.length >= at + (qos ? 2 : 0), 'PUBLISH');
  let topic;
  try { topic = fromUtf8.decode(b.subarray(2, at)); } catch { throw new MqttError('PUBLISH topic is not UTF-8'); }
  let id = 0;
  if (qos) { id = (b[at] << 8) | b[at + 1]; at += 2; need(id > 0, 'PUBLISH packet identifier'); }
  return { type: 'publish', topic, qos, id, retain: !!(flags & 1), dup: !!(flags & 8), payload: b.slice(at) };
}

// decodePacket(first, body) -> one server-to-client packet as an object.
export function decodePacket(first, body) {
  const type = first >> 4;
  const flags = first & 0x0f;
  const id = () => (body[0] << 8) | body[1];
  switch (type) {
    case 2: need(flags === 0 && body.length === 2 && body[0] <= 1, 'CONNACK');
      return { type: 'connack', sessionPresent: !!(body[0] & 1), returnCode: body[1] };
    case 3: return decodePublish(flags, body);
    case 4: need(flags === 0 && body.length === 2, 'PUBACK'); return { type: 'puback', id: id() };
    case 9: need(flags === 0 && body.length >= 3, 'SUBACK');
      for (const c of body.subarray(2)) need([0, 1, 2, 0x80].includes(c), 'SUBACK return code');
      return { type: 'suback', id: id(), codes: [...body.subarray(2)] };
    case 11: need(flags === 0 && body.length === 2, 'UNSUBACK'); return { type: 'unsuback', id: id() };
    case 13: need(flags === 0 && body.length === 0, 'PINGRESP'); return { type: 'pingresp' };
    default: throw new MqttError(`a packet a server does not send (type ${type})`);
  }
}

// A stream decoder: bytes in as they arrive (any split, several packets per frame),
// whole packets out. A packet above maxPacket bytes is an error before it is buffered.
export class Decoder {
  constructor(maxPacket = 256 * 1024) {
    this.max = maxPacket;
    this.buf = new Uint8Array(0);
  }

  push(chunk) {
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf, 0);
    joined.set(chunk, this.buf.length);
    const out = [];
    let at = 0;
    for (;;) {
      if (joined.length - at < 2) break;
      const len = decodeLength(joined, at + 1);
      if (!len) break;
      const total = 1 + len.size + len.value;
      if (total > this.max) throw new MqttError(`packet of ${total} bytes above the limit of ${this.max}`);
      if (joined.length - at < total) break;
      out.push(decodePacket(joined[at], joined.subarray(at + 1 + len.size, at + total)));
      at += total;
    }
    this.buf = joined.slice(at);
    return out;
  }
}

// MqttClient: one session over one WebSocket. Events (on(name, fn)): 'message' ({topic,
// payload, qos, retain}), 'close' ({code, reason, error}: the server's close code and reason,
// or the client's own error). connect() resolves at CONNACK 0; subscribe() resolves with
// the SUBACK return codes (0x80: refused); publish() resolves when sent (QoS 0) or at
// PUBACK (QoS 1). Every pending promise rejects when the session ends.
export class MqttClient {
  constructor({ url, WebSocket: WS = globalThis.WebSocket, keepalive = 30, clientId = '',
    maxPacket = 256 * 1024, maxInflight = 64 } = {}) {
    Object.assign(this, { url, WS, keepalive, clientId, maxInflight });
    this.decoder = new Decoder(maxPacket);
    this.pending = new Map(); // packet id -> {kind, resolve, reject}
    this.handlers = { message: [], close: [] };
    this.nextId = 1;
    this.state = 'idle';
  }

  on(name, fn) { this.handlers[name].push(fn); return this; }

  emit(name, arg) { for (const fn of this.handlers[name]) fn(arg); }

  connect() {
    if (this.state !== 'idle') return Promise.reject(new MqttError('already used'));
    this.state = 'opening';
    return new Promise((resolve, reject) => {
      this.connectWaiter = { resolve, reject };
      const ws = new this.WS(this.url, 'mqtt');
      this.ws = ws;
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => {
        this.state = 'connecting';
        this.send(encode.connect({ clientId: this.clientId, keepalive: this.keepalive, clean: true }));
      };
      ws.onmessage = (e) => this.receive(e.data);
      ws.onerror = () => {}; // the close event that follows carries what is known
      ws.onclose = (e) => this.closed({ code: e.code, reason: e.reason || '', error: null });
    });
  }

  send(bytes) {
    if (!this.ws || this.ws.readyState !== 1) throw new MqttError('not connected');
    this.ws.send(bytes);
    this.lastSent = Date.now();
  }

  receive(data) {
    if (typeof data === 'string') { this.fail('the server sent a text frame'); return; }
    let packets;
    try { packets = this.decoder.push(new Uint8Array(data)); } catch (e) { this.fail(e.message); return; }
    for (const p of packets) {
      if (this.state === 'closed') return;
      try { this.dispatch(p); } catch (e) { this.fail(e.message); return; } // a PUBACK into a closing socket
    }
  }

  dispatch(p) {
    if (this.state === 'connecting') {
      if (p.type !== 'connack') { this.fail('the first packet from the server was not CONNACK'); return; }
      this.connack(p);
      return;
    }
    if (p.type === 'connack') { this.fail('a second CONNACK'); return; }
    if (p.type === 'publish') {
      if (p.qos === 2) { this.fail('a QoS 2 PUBLISH, never subscribed for'); return; }
      if (p.qos === 1) this.send(encode.puback(p.id));
      this.emit('message', { topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain });
    } else if (p.type === 'pingresp') {
      this.pingAt = 0;
    } else {
      this.answer(p);
    }
  }

  connack(p) {
    if (p.returnCode !== 0) {
      const why = CONNACK_REASONS[p.returnCode] || 'return code ' + p.returnCode;
      this.fail('connection refused: ' + why);
      return;
    }
    this.state = 'connected';
    if (this.keepalive > 0) {
      const ms = this.keepalive * 1000;
      this.timer = setInterval(() => this.tick(ms), Math.max(100, ms / 4));
    }
    this.connectWaiter.resolve(p);
    this.connectWaiter = null;
  }

  // PINGREQ after 3/4 of the keep-alive without sending; no PINGRESP within one period ends it.
  tick(ms) {
    const now = Date.now();
    if (this.pingAt && now - this.pingAt > ms) { this.fail('keep-alive: no PINGRESP from the server'); return; }
    if (!this.pingAt && now - this.lastSent >= ms * 0.75) {
      this.send(encode.pingreq());
      this.pingAt = now;
    }
  }

  answer(p) {
    const want = { suback: 'subscribe', unsuback: 'unsubscribe', puback: 'publish' }[p.type];
    const w = this.pending.get(p.id);
    if (!w || w.kind !== want) { this.fail(`an unexpected ${p.type.toUpperCase()} (id ${p.id})`); return; }
    this.pending.delete(p.id);
    if (p.type === 'suback' && p.codes.length !== w.count) { this.fail('SUBACK with the wrong number of codes'); return; }
    w.resolve(p.type === 'suback' ? p.codes : p);
  }

  request(kind, build, count = 0) {
    if (this.state !== 'connected') return Promise.reject(new MqttError('not connected'));
    if (this.pending.size >= this.maxInflight) return Promise.reject(new MqttError('too many requests in flight'));
    let id = this.nextId;
    while (this.pending.has(id)) id = id % 65535 + 1;
    this.nextId = id % 65535 + 1;
    let bytes;
    try { bytes = build(id); } catch (e) { return Promise.reject(e); }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { kind, resolve, reject, count });
      this.send(bytes);
    });
  }

  subscribe(topic, qos = 0) {
    return this.request('subscribe', (id) => encode.subscribe(id, [{ topic, qos }]), 1);
  }

  unsubscribe(topic) { return this.request('unsubscribe', (id) => encode.unsubscribe(id, [topic])); }

  publish(topic, payload, { qos = 0, retain = false } = {}) {
    if (qos === 1) return this.request('publish', (id) => encode.publish({ topic, payload, qos, retain, id }));
    if (this.state !== 'connected') return Promise.reject(new MqttError('not connected'));
    try { this.send(encode.publish({ topic, payload, qos: 0, retain })); } catch (e) { return Promise.reject(e); }
    return Promise.resolve(null);
  }

  // end(): DISCONNECT, then the close (1000) from the side that gets there first.
  end() {
    if (this.state === 'connected') { try { this.send(encode.disconnect()); } catch { /* closed already */ } }
    if (this.ws && this.ws.readyState <= 1) this.ws.close(1000, 'client disconnect');
    this.closed({ code: 1000, reason: 'client disconnect', error: null, local: true });
  }

  fail(message) {
    if (this.ws && this.ws.readyState <= 1) this.ws.close(4000, 'client error');
    this.closed({ code: 4000, reason: message, error: message });
  }

  closed(info) {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.timer);
    const err = new MqttError(info.error || `session closed (${info.code}${info.reason ? ': ' + info.reason : ''})`);
    if (this.connectWaiter) { this.connectWaiter.reject(err); this.connectWaiter = null; }
    for (const w of this.pending.values()) w.reject(err);
    this.pending.clear();
    if (this.ws) { this.ws.onmessage = null; this.ws.onclose = null; }
    this.emit('close', info);
  }
}
