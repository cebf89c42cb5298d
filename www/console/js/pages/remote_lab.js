// The Remote Lab: the browser speaks MQTT 3.1.1 (js/mqtt.js) over a WebSocket to the relay
// on this origin, which opens the user's own saved broker with the sealed credentials and
// keeps every topic under the saved prefix (docs/relay.md). The page asks for a ticket per
// connection, never holds the broker password, and reconnects with a new ticket when the
// relay restarts (close 1012) or the connection is lost.
import * as api from '../api.js';
import { h, field, formError, clearErrors, showErrors, busy } from '../ui.js';
import { MqttClient, MqttError, checkTopic } from '../mqtt.js';

const LOG_MAX = 200;          // entries kept in the message log
const SHOW_MAX = 2000;        // characters of a payload shown
// Reconnect delays; each gets up to half again at random, so that the sessions a relay
// restart closed do not all come back in the same instant.
const RETRIES = [1500, 3000, 6000, 12000, 20000];
const utf8 = new TextDecoder('utf-8', { fatal: true });

// under(topic, prefix): the relay's rule, level by level (lab/e2e admits lab/e2e/x, not lab/e2e2).
export function under(topic, prefix) {
  return !!prefix && (topic === prefix || topic.startsWith(prefix + '/'));
}

// closeText(code, reason) -> what a close means to the person at the page.
export function closeText(code, reason) {
  const r = reason ? `: ${reason}` : '';
  if (code === 1012) return 'The relay restarted' + r;
  if (code === 1011) return 'The broker cannot be reached or went away' + r;
  if (code === 1008) return 'The server ended the session' + r;
  if (code === 1006) return 'The connection was lost';
  if (code === 1000) return 'The session ended' + r;
  if (code === 4000) return 'The session ended on an error' + r;
  return `The server closed the session (${code})` + r;
}

export function showPayload(bytes) {
  let text;
  try { text = utf8.decode(bytes); } catch {
    text = [...bytes.subarray(0, SHOW_MAX / 3)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    return { text: `(${bytes.length} bytes, hex) ` + text, binary: true };
  }
  return { text: text.length > SHOW_MAX ? text.slice(0, SHOW_MAX) + '…' : text, binary: false };
}

const clock = () => new Date().toLocaleTimeString(undefined, { hour12: false });

function stateBadge(state) {
  const cls = { connected: 'ok', error: 'bad', disconnected: '', connecting: 'warn', reconnecting: 'warn' }[state];
  return h('span', { class: 'badge ' + (cls || '') }, state);
}

export async function render(main, ctx) {
  let cfg;
  try { cfg = await api.get('/users/me/integrations/mqtt'); } catch (e) {
    if (!(e instanceof api.ApiError) || e.status !== 404) throw e;
    main.replaceChildren(h('h1', null, 'Remote Lab'),
      h('div', { class: 'card' }, h('p', null, 'The Remote Lab talks to your own MQTT broker. Set up the broker first.'),
        h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/integrations/mqtt' }, 'Set up MQTT'))));
    return;
  }
  const lab = new Lab(cfg, ctx);
  main.replaceChildren(...lab.view());
  const stop = () => {
    if (ctx.isCurrent()) return;
    window.removeEventListener('hashchange', stop);
    lab.stop();
    delete main.dataset.labState; // <main> is shared by every page
  };
  window.addEventListener('hashchange', stop);
  if (cfg.enabled) lab.connect();
  else lab.say('disconnected', 'The MQTT integration is disabled: enable it on the MQTT page to open the Remote Lab.', true);
}

class Lab {
  constructor(cfg, ctx) {
    this.cfg = cfg;
    this.ctx = ctx;
    this.prefix = cfg.topic_prefix || '';
    this.subs = new Map(); // filter -> qos, re-subscribed after a reconnect
    this.client = null;
    this.attempt = 0;
    this.stopped = false;
  }

  view() {
    this.state = h('span', { class: 'lab-state' });
    this.brokerEl = h('code', { class: 'lab-broker' }, this.cfg.broker_url || '—');
    this.prefixEl = h('code', { class: 'lab-prefix' }, this.prefix || '—');
    this.stateText = h('span', { class: 'lab-state-text' });
    this.error = h('div', { class: 'form-error lab-error', role: 'alert' });
    this.connectBtn = h('button', { type: 'button', class: 'secondary', onclick: () => this.toggle() }, 'Disconnect');
    this.subList = h('ul', { class: 'lab-subs' });
    this.log = h('ol', { class: 'lab-log' });
    return [
      h('p', null, h('a', { href: '#/integrations/mqtt' }, '← MQTT settings')),
      h('h1', null, 'Remote Lab'),
      h('p', { class: 'muted' }, 'Your browser speaks MQTT to your own broker through Switchboard. ' +
        'The broker password stays on the server; only topics under your prefix are reachable.'),
      h('section', { class: 'card', 'aria-labelledby': 'lab-conn' },
        h('h2', { id: 'lab-conn' }, 'Connection'),
        h('dl', { class: 'kv' },
          h('dt', null, 'State'), h('dd', null, h('span', { role: 'status', class: 'lab-status' }, this.state, ' ', this.stateText)),
          h('dt', null, 'Broker'), h('dd', null, this.brokerEl),
          h('dt', null, 'Topic prefix'), h('dd', null, this.prefixEl),
          h('dt', null, 'Protocol'), h('dd', null, 'MQTT 3.1.1 over WebSocket')),
        this.error,
        h('div', { class: 'actions' }, this.connectBtn)),
      h('div', { class: 'lab-forms' }, this.subscribeForm(), this.publishForm()),
      h('section', { class: 'card', 'aria-labelledby': 'lab-log-h' },
        h('h2', { id: 'lab-log-h' }, 'Messages'),
        h('p', { class: 'hint' }, `The newest first; the last ${LOG_MAX} are kept.`),
        // A live region around the list (role=log on the list itself would unmake it a list).
        h('div', { class: 'lab-log-wrap', role: 'log', 'aria-label': 'Messages', tabindex: '0' }, this.log),
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => this.log.replaceChildren() }, 'Clear log'))),
    ];
  }

  subscribeForm() {
    const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'lab-sub-h' },
      h('h2', { id: 'lab-sub-h' }, 'Subscribe'), formError(),
      field('Topic filter', 'filter', { value: this.prefix ? this.prefix + '/#' : '', required: true,
        hint: 'Under the prefix; + and # allowed below it.', attrs: { spellcheck: 'false', autocomplete: 'off' } }),
      field('QoS', 'qos', { type: 'select', options: [['0', '0 (at most once)'], ['1', '1 (at least once)']] }),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Subscribe')),
      h('h3', null, 'Subscriptions'), this.subList);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(form.querySelector('button[type=submit]'), 'Subscribing…', () => this.subscribe(form));
    });
    this.subForm = form;
    this.renderSubs();
    return form;
  }

  publishForm() {
    const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'lab-pub-h' },
      h('h2', { id: 'lab-pub-h' }, 'Publish'), formError(),
      field('Topic', 'topic', { value: this.prefix ? this.prefix + '/' : '', required: true,
        hint: 'Under the prefix, no wildcards.', attrs: { spellcheck: 'false', autocomplete: 'off' } }),
      field('Payload', 'payload', { type: 'textarea', attrs: { spellcheck: 'false' } }),
      field('QoS', 'qos', { type: 'select', options: [['0', '0 (at most once)'], ['1', '1 (at least once)']] }),
      field('Retain', 'retain', { type: 'checkbox', hint: 'The broker keeps the last retained message for new subscribers.' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Publish'), h('span', { class: 'muted pub-result', role: 'status' })));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(form.querySelector('button[type=submit]'), 'Publishing…', () => this.publish(form));
    });
    this.pubForm = form;
    return form;
  }

  renderSubs() {
    if (!this.subs.size) { this.subList.replaceChildren(h('li', { class: 'muted' }, 'None yet.')); return; }
    this.subList.replaceChildren(...[...this.subs].map(([filter, qos]) => h('li', null,
      h('code', null, filter), ` QoS ${qos} `,
      h('button', { type: 'button', class: 'secondary', 'aria-label': 'Unsubscribe from ' + filter,
        onclick: (e) => busy(e.currentTarget, 'Unsubscribing…', () => this.unsubscribe(filter)) }, 'Unsubscribe'))));
  }

  say(state, text, isError = false) {
    this.state.replaceChildren(stateBadge(state));
    // An error is told once, in the alert under the list; the state line keeps the badge.
    this.stateText.textContent = isError ? '' : text || '';
    this.error.textContent = isError ? text : '';
    this.connectBtn.textContent = state === 'disconnected' || state === 'error' ? 'Connect' : 'Disconnect';
    this.connectBtn.dataset.state = state;
    document.querySelector('main').dataset.labState = state;
  }

  entry(kind, topic, text, meta = '') {
    const li = h('li', { class: 'lab-entry ' + kind, 'data-kind': kind },
      h('span', { class: 'lab-when' }, clock()),
      h('span', { class: 'lab-kind' }, { in: 'received', out: 'sent', info: 'info', error: 'error' }[kind]),
      topic && h('code', { class: 'lab-topic' }, topic),
      meta && h('span', { class: 'lab-meta muted' }, meta),
      // Payloads as sent or received; the page's own notes as plain text.
      text !== null && (kind === 'in' || kind === 'out' ? h('pre', { class: 'lab-payload' }, text) : h('span', { class: 'lab-note' }, text)));
    this.log.prepend(li);
    while (this.log.childElementCount > LOG_MAX) this.log.lastElementChild.remove();
  }

  toggle() {
    const s = this.connectBtn.dataset.state;
    if (s === 'disconnected' || s === 'error') { this.attempt = 0; this.connect(); return; }
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.client) this.client.end(); else this.say('disconnected', 'Disconnected.');
  }

  stop() { this.stopped = true; clearTimeout(this.retryTimer); if (this.client) this.client.end(); }
}

// --- connecting: a ticket, the WebSocket, CONNECT; closes and reconnects -------------------------

Lab.prototype.connect = async function connect() {
  this.stopped = false;
  this.say(this.attempt ? 'reconnecting' : 'connecting', 'Asking for a ticket…');
  let ticket;
  try {
    // The saved settings as the relay will use them (they may have changed since the page opened).
    this.adopt(await api.get('/users/me/integrations/mqtt'));
    ticket = await api.post('/users/me/integrations/mqtt/ws-ticket');
  } catch (e) {
    this.say('error', 'No ticket: ' + e.message, true);
    this.entry('error', null, 'No ticket: ' + e.message);
    return;
  }
  if (this.stopped) return;
  const url = /^wss?:\/\//.test(ticket.url) ? ticket.url : location.origin.replace(/^http/, 'ws') + ticket.url;
  const client = new MqttClient({ url, keepalive: 30 });
  this.client = client;
  client.on('message', (m) => this.received(m));
  client.on('close', (info) => this.closed(client, info));
  this.say(this.attempt ? 'reconnecting' : 'connecting', 'Opening the session…');
  try { await client.connect(); } catch { return; /* closed() tells why */ }
  if (this.client !== client) return;
  this.attempt = 0;
  this.say('connected', 'Connected through the relay.');
  this.entry('info', null, 'Connected.');
  for (const [filter, qos] of this.subs) this.resubscribe(client, filter, qos);
};

Lab.prototype.adopt = function adopt(cfg) {
  this.cfg = cfg;
  this.brokerEl.textContent = cfg.broker_url || '—';
  if ((cfg.topic_prefix || '') !== this.prefix) {
    // Another prefix: the old subscriptions are outside it.
    this.prefix = cfg.topic_prefix || '';
    this.prefixEl.textContent = this.prefix || '—';
    this.subs.clear();
    this.renderSubs();
  }
};

Lab.prototype.resubscribe = async function resubscribe(client, filter, qos) {
  try {
    const [code] = await client.subscribe(filter, qos);
    if (code === 0x80) { this.subs.delete(filter); this.renderSubs(); this.entry('error', filter, null, 'refused again after the reconnect'); }
  } catch { /* the session ended again: closed() reports it */ }
};

Lab.prototype.closed = function closed(client, info) {
  if (this.client !== client) return;
  this.client = null;
  const text = closeText(info.code, info.reason);
  const again = !this.stopped && (info.code === 1012 || info.code === 1006) && this.attempt < RETRIES.length;
  if (this.stopped && !info.error) {
    this.say('disconnected', 'Disconnected.');
    this.entry('info', null, 'Disconnected.');
    return;
  }
  this.entry('error', null, text + (info.code ? ` (close ${info.code})` : ''));
  if (!again) { this.say('error', text + '.', true); return; }
  const wait = Math.round(RETRIES[this.attempt++] * (1 + Math.random() / 2));
  this.say('reconnecting', `${text}. Reconnecting with a new ticket in ${Math.round(wait / 1000)} s…`);
  this.retryTimer = setTimeout(() => { if (!this.stopped) this.connect(); }, wait);
};

Lab.prototype.received = function received(m) {
  const p = showPayload(m.payload);
  this.entry('in', m.topic, p.text, `QoS ${m.qos}${m.retain ? ', retained' : ''}${p.binary ? ', binary' : ''}`);
};

// --- subscribe, unsubscribe, publish -------------------------------------------------------------

function fieldError(form, name, message) {
  showErrors(form, { message: 'Check the field below.', fields: { [name]: message } });
}

function topicProblem(topic, filter) {
  try { checkTopic(topic, filter); return null; } catch (e) { return e.message; }
}

Lab.prototype.ready = function ready(form) {
  if (this.client && this.client.state === 'connected') return true;
  showErrors(form, { message: 'Not connected: connect first.' });
  return false;
};

Lab.prototype.subscribe = async function subscribe(form) {
  clearErrors(form);
  const filter = form.filter.value.trim();
  const qos = Number(form.qos.value);
  const bad = topicProblem(filter, true);
  if (bad) { fieldError(form, 'filter', bad); return; }
  if (!this.ready(form)) return;
  try {
    const [code] = await this.client.subscribe(filter, qos);
    if (code === 0x80) {
      const why = under(filter, this.prefix) ? 'refused by the broker' : `outside your topic prefix ${this.prefix}`;
      showErrors(form, { message: 'The relay refused the subscription.',
        fields: { filter: `Refused (SUBACK 0x80): ${filter} is ${why}.` } });
      this.entry('error', filter, null, 'subscription refused (SUBACK 0x80)');
      return;
    }
    this.subs.set(filter, code);
    this.renderSubs();
    this.entry('info', filter, null, `subscribed, QoS ${code} granted`);
  } catch (e) { showErrors(form, e instanceof MqttError ? { message: e.message } : e); }
};

Lab.prototype.unsubscribe = async function unsubscribe(filter) {
  clearErrors(this.subForm);
  if (this.client && this.client.state === 'connected') {
    try { await this.client.unsubscribe(filter); } catch (e) { showErrors(this.subForm, { message: e.message }); return; }
  }
  this.subs.delete(filter);
  this.renderSubs();
  this.entry('info', filter, null, 'unsubscribed');
};

Lab.prototype.publish = async function publish(form) {
  clearErrors(form);
  const out = form.querySelector('.pub-result');
  out.textContent = '';
  const topic = form.topic.value.trim();
  const qos = Number(form.qos.value);
  const retain = form.retain.checked;
  const bad = topicProblem(topic, false);
  if (bad) { fieldError(form, 'topic', bad); return; }
  // MQTT 3.1.1 has no refusal for a PUBLISH: the relay would end the session, so the page
  // does not send one outside the prefix.
  if (!under(topic, this.prefix)) {
    showErrors(form, { message: 'Not sent.',
      fields: { topic: `Outside your topic prefix ${this.prefix}: the relay would refuse it and end the session.` } });
    return;
  }
  if (!this.ready(form)) return;
  try {
    await this.client.publish(topic, form.payload.value, { qos, retain });
    const p = showPayload(new TextEncoder().encode(form.payload.value));
    this.entry('out', topic, p.text, `QoS ${qos}${retain ? ', retained' : ''}${qos ? ', acknowledged (PUBACK)' : ''}`);
    out.textContent = qos ? 'Published; the broker acknowledged it.' : 'Published.';
  } catch (e) { showErrors(form, { message: e.message }); }
};
