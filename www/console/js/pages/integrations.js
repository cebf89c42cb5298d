// Integrations: a card per catalog entry with its health; a page per provider (the MQTT
// form with Test connection, Arduino Cloud, Blynk, GitHub and every OAuth2 provider).
import * as api from '../api.js';
import { h, field, formError, showErrors, clearErrors, busy, notice, badge, time, table, confirmAction } from '../ui.js';

const segment = (entry) => entry.url_segment || entry.provider;

async function load() {
  const [catalog, mine, health] = await Promise.all([
    api.get('/integrations'), api.get('/users/me/integrations'), api.get('/users/me/integrations/health')]);
  const status = Object.fromEntries(mine.map((s) => [s.provider, s]));
  const checks = Object.fromEntries(health.map((s) => [s.provider, s]));
  return { catalog, status, checks };
}

export async function render(main, ctx) {
  const { catalog, status, checks } = await load();
  if (ctx.rest[0]) {
    const entry = catalog.find((e) => segment(e) === ctx.rest[0] || e.provider === ctx.rest[0]);
    if (!entry) throw new Error('No such integration: ' + ctx.rest[0]);
    return detail(main, ctx, entry, status[entry.provider], checks[entry.provider]);
  }
  // Back from a provider's authorization page (the connect callback lands here).
  const connected = ctx.query.get('connected');
  if (connected) notice(`Connected ${connected}.`);
  const failed = ctx.query.get('error');
  if (failed) notice(`Could not connect ${ctx.query.get('provider') || 'the provider'}: ${failed.replace(/_/g, ' ')}.`, 'error');
  const cards = catalog.map((e) => {
    const st = status[e.provider];
    const hc = checks[e.provider];
    const id = 'card-' + e.provider;
    return h('article', { class: 'card', 'aria-labelledby': id, 'data-provider': e.provider },
      h('h2', { id }, e.name),
      h('p', { class: 'muted' }, e.description),
      h('p', null, st ? badge(hc ? hc.status : st.status) : h('span', { class: 'badge' }, e.available ? 'not set up' : 'unavailable'),
        st && st.last_checked_at ? [' checked ', time(st.last_checked_at)] : ''),
      st && st.last_error && h('p', { class: 'field-error' }, st.last_error),
      h('div', { class: 'actions' },
        e.available
          ? h('a', { class: 'button' + (st ? ' secondary' : ''), href: '#/integrations/' + segment(e),
            'aria-label': (st ? 'Manage ' : e.auth_type === 'oauth2' ? 'Connect ' : 'Set up ') + e.name },
          st ? 'Manage' : e.auth_type === 'oauth2' ? 'Connect' : 'Set up')
          : h('span', { class: 'muted' }, 'Not configured on this server')));
  });
  main.replaceChildren(h('h1', null, 'Integrations'),
    h('p', { class: 'muted' }, 'Connect your broker, devices and accounts. Secrets are stored encrypted and never shown again.'),
    h('div', { class: 'cards' }, cards));
}

function healthHistory(hc) {
  if (!hc) return null;
  const hist = hc.history || [];
  return h('section', { class: 'card', 'aria-labelledby': 'health-h' },
    h('h2', { id: 'health-h' }, 'Health'),
    h('p', null, badge(hc.status), ' ', hc.last_checked_at ? ['last checked ', time(hc.last_checked_at)] : 'not checked yet'),
    hc.last_error && h('p', { class: 'field-error' }, hc.last_error),
    hist.length ? table([
      { label: 'When', cell: (r) => time(r.checked_at || r.created_at) },
      { label: 'Status', cell: (r) => badge(r.status || (r.healthy ? 'active' : 'error')) },
      { label: 'Latency', cell: (r) => (r.latency_ms != null ? r.latency_ms + ' ms' : '—') },
      { label: 'Error', cell: (r) => r.error || r.last_error || '—' },
    ], hist, 'The last checks, newest first') : h('p', { class: 'muted' }, 'No checks recorded yet.'));
}

async function detail(main, ctx, entry, st, hc) {
  const back = h('p', null, h('a', { href: '#/integrations' }, '← All integrations'));
  const body = [];
  if (entry.provider === 'mqtt') body.push(await mqtt(entry, st, ctx));
  else if (entry.provider === 'arduino_cloud') body.push(await arduino(entry, st, ctx));
  else if (entry.provider === 'blynk') body.push(await blynk(entry, st, ctx));
  else if (entry.auth_type === 'oauth2') body.push(await oauth(entry, st, ctx));
  else body.push(await generic(entry, st, ctx));
  main.replaceChildren(back, h('h1', null, entry.name), h('p', { class: 'muted' }, entry.description), ...body, healthHistory(hc) || '');
}

function removeButton(entry, ctx, label = 'Delete') {
  return h('button', { type: 'button', class: 'danger', onclick: async (e) => {
    if (!confirmAction(`Remove the ${entry.name} integration? Its stored secrets are deleted.`)) return;
    await busy(e.currentTarget, 'Removing…', async () => {
      try { await api.del('/users/me/integrations/' + segment(entry)); notice(`${entry.name} removed.`); ctx.go('#/integrations'); }
      catch (ex) { notice(ex.message, 'error'); }
    });
  } }, label);
}

// --- MQTT -----------------------------------------------------------------------------

function mqttBody(form, withPassword) {
  const b = {
    enabled: form.enabled.checked,
    broker_url: form.broker_url.value.trim() || null,
    use_authentication: form.use_authentication.checked,
    username: form.username.value.trim() || null,
    device_id: form.device_id.value.trim() || null,
    topic_prefix: form.topic_prefix.value.trim() || null,
  };
  if (withPassword && form.password.value) b.password = form.password.value;
  return b;
}

function step(ok, title, detailText) {
  return h('li', { class: ok === true ? 'ok' : ok === false ? 'bad' : 'skip' }, h('strong', null, title), detailText ? ' — ' + detailText : '');
}

function ms(v) { return v === null || v === undefined ? null : `${v} ms`; }

export function testReport(r) {
  const d = r.diagnostics || {};
  const steps = [];
  const failedAt = r.connected ? null : r.error_code;
  steps.push(step(d.address ? true : d.dns_ms == null ? null : false, 'Resolve host',
    [d.address, ms(d.dns_ms)].filter(Boolean).join(', ')));
  if (d.address) steps.push(step(d.tcp_connect_ms != null ? true : false, 'TCP connect', ms(d.tcp_connect_ms) || r.error));
  if (d.tls_handshake_ms != null || d.tls) {
    const t = d.tls || {};
    steps.push(step(t.trusted === false || t.hostname_match === false ? false : d.tls_handshake_ms != null,
      'TLS handshake', [ms(d.tls_handshake_ms), t.protocol, t.subject, t.trusted === false ? 'certificate not trusted' : null].filter(Boolean).join(', ')));
  }
  if (d.connack) {
    steps.push(step(d.connack.reason_code === 0, 'MQTT CONNECT',
      [`${d.connack.reason} (${d.connack.reason_code})`, d.mqtt5_refused ? 'MQTT 5.0 refused, 3.1.1 used' : null,
        d.connack_ms != null ? 'CONNACK in ' + d.connack_ms + ' ms' : null].filter(Boolean).join(', ')));
  } else if (d.tcp_connect_ms != null && !r.connected) {
    steps.push(step(false, 'MQTT CONNECT', r.error));
  }
  if (r.connected) {
    steps.push(step(r.broker_info && r.broker_info.version ? true : null, 'Broker version ($SYS)',
      (r.broker_info && r.broker_info.version_raw) || 'not published by the broker'));
  }
  if (d.pubsub) {
    steps.push(step(d.pubsub.ok, 'Publish and receive',
      [d.pubsub.topic, d.pubsub.rtt_ms != null ? 'round trip ' + d.pubsub.rtt_ms + ' ms' : null, d.pubsub.error].filter(Boolean).join(', ')));
  }
  return h('div', { class: 'card test-result', role: 'region', 'aria-label': 'Connection test result', 'data-connected': String(!!r.connected) },
    h('h3', null, r.connected ? badge('connected') : badge('failed'), ' ', r.connected ? 'Connected' : 'Not connected'),
    !r.connected && h('p', { class: 'field-error' }, `${r.error || 'The test failed'}${failedAt ? ` (${failedAt})` : ''}`),
    h('dl', { class: 'kv' },
      h('dt', null, 'Latency'), h('dd', { class: 'latency' }, r.latency_ms != null ? `${r.latency_ms} ms` : '—'),
      h('dt', null, 'Protocol'), h('dd', { class: 'protocol' }, (r.broker_info && r.broker_info.protocol) || '—'),
      h('dt', null, 'Broker version'), h('dd', { class: 'broker-version' }, (r.broker_info && r.broker_info.version) || 'unknown')),
    h('h4', null, 'Step by step'),
    h('ol', { class: 'steps' }, steps),
    d.pubsub && d.pubsub.topic_note && h('p', { class: 'hint' }, d.pubsub.topic_note));
}

async function mqtt(entry, st, ctx) {
  const cfg = st ? await api.get('/users/me/integrations/mqtt') : null;
  const err = formError();
  const result = h('div', { 'aria-live': 'polite' });
  const schemes = (entry.url_schemes || []).map((s) => s + '://').join(', ');
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'MQTT settings' },
    err,
    field('Enabled', 'enabled', { type: 'checkbox', value: cfg ? cfg.enabled : true }),
    field('Broker URL', 'broker_url', { type: 'url', value: cfg ? cfg.broker_url : entry.default_broker_url || '',
      hint: `Schemes: ${schemes}` + (entry.default_broker_url ? `. The server's broker: ${entry.default_broker_url}` : ''),
      attrs: { placeholder: 'mqtts://broker.example.com:8883', spellcheck: 'false' } }),
    field('Use authentication', 'use_authentication', { type: 'checkbox', value: cfg ? cfg.use_authentication : false }),
    h('div', { class: 'auth-fields' },
      field('Username', 'username', { value: cfg && cfg.username, attrs: { autocomplete: 'off' } }),
      field('Password', 'password', { type: 'password',
        hint: cfg && cfg.has_password ? 'A password is saved. Leave empty to keep it.' : 'Write-only: stored encrypted, never shown.',
        attrs: { autocomplete: 'new-password', placeholder: cfg && cfg.has_password ? '•••••• (saved)' : '' } })),
    field('Device ID', 'device_id', { value: cfg && cfg.device_id, attrs: { placeholder: 'device-01' } }),
    field('Topic prefix', 'topic_prefix', { value: cfg && cfg.topic_prefix, attrs: { placeholder: 'lab/device-01' } }),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', name: 'test' }, 'Test connection'),
      h('button', { type: 'submit' }, 'Save'),
      cfg && removeButton(entry, ctx)),
    h('p', { class: 'progress', hidden: true, role: 'status' }, h('progress', { 'aria-label': 'Testing the connection' }), h('span', null, 'Connecting to the broker…')));
  const authFields = form.querySelector('.auth-fields');
  const sync = () => { authFields.hidden = !form.use_authentication.checked; };
  form.use_authentication.addEventListener('change', sync);
  sync();
  form.querySelector('button[name=test]').addEventListener('click', async (e) => {
    clearErrors(form);
    result.replaceChildren();
    const prog = form.querySelector('.progress');
    prog.hidden = false;
    await busy(e.currentTarget, 'Testing…', async () => {
      try {
        const body = mqttBody(form, true);
        delete body.enabled;
        for (const k of Object.keys(body)) if (body[k] === null) delete body[k];
        const r = await api.post('/users/me/integrations/mqtt/test', body);
        result.replaceChildren(testReport(r));
      } catch (ex) { showErrors(form, ex); }
      finally { prog.hidden = true; }
    });
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    await busy(form.querySelector('button[type=submit]'), 'Saving…', async () => {
      try {
        await api.put('/users/me/integrations/mqtt', mqttBody(form, true));
        notice('MQTT settings saved.');
        ctx.go('#/integrations/mqtt');
      } catch (ex) { showErrors(form, ex); }
    });
  });
  const state = cfg && h('p', null, 'Saved settings: ', badge(cfg.status),
    cfg.last_connected_at ? [' last connected ', time(cfg.last_connected_at)] : '',
    cfg.last_error ? h('span', { class: 'field-error' }, ' ' + cfg.last_error) : '');
  const lab = cfg && h('p', { class: 'actions' }, h('a', { class: 'button secondary', href: '#/remote-lab' }, 'Open the Remote Lab'),
    h('span', { class: 'hint' }, 'MQTT from this browser to the saved broker, under the topic prefix.'));
  return h('div', null, state, lab, form, result);
}

// --- Arduino Cloud --------------------------------------------------------------------

async function arduino(entry, st, ctx) {
  const cfg = st ? await api.get('/users/me/integrations/arduino-cloud') : null;
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'Arduino Cloud settings' },
    formError(),
    field('Enabled', 'enabled', { type: 'checkbox', value: cfg ? cfg.enabled : true }),
    field('Client ID', 'client_id', { value: cfg && cfg.client_id, required: true, attrs: { autocomplete: 'off' } }),
    field('Client secret', 'client_secret', { type: 'password',
      hint: cfg && cfg.has_client_secret ? 'A secret is saved. Leave empty to keep it.' : 'From Arduino Cloud → API keys. Stored encrypted.',
      attrs: { autocomplete: 'new-password', placeholder: cfg && cfg.has_client_secret ? '•••••• (saved)' : '' } }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, cfg ? 'Save' : 'Connect'), cfg && removeButton(entry, ctx, 'Disconnect')),
    h('p', { class: 'progress', hidden: true, role: 'status' }, h('progress', { 'aria-label': 'Connecting' }), h('span', null, 'Exchanging the credentials with Arduino Cloud…')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { enabled: form.enabled.checked, client_id: form.client_id.value.trim() };
    if (form.client_secret.value) body.client_secret = form.client_secret.value;
    const prog = form.querySelector('.progress');
    prog.hidden = false;
    await busy(form.querySelector('button[type=submit]'), 'Saving…', async () => {
      try { await api.put('/users/me/integrations/arduino-cloud', body); notice('Arduino Cloud saved.'); ctx.go('#/integrations/arduino-cloud'); }
      catch (ex) { showErrors(form, ex); } finally { prog.hidden = true; }
    });
  });
  const out = [form];
  if (cfg) {
    out.unshift(h('p', null, badge(cfg.status || (cfg.connected ? 'active' : 'pending')), cfg.last_error ? h('span', { class: 'field-error' }, ' ' + cfg.last_error) : ''));
    if (cfg.devices_error) out.push(h('p', { class: 'field-error' }, 'Devices: ' + cfg.devices_error));
    out.push(h('section', { class: 'card', 'aria-labelledby': 'ard-dev' }, h('h2', { id: 'ard-dev' }, 'Devices'),
      (cfg.devices || []).length ? table([
        { label: 'Name', cell: (d) => d.name },
        { label: 'Type', cell: (d) => d.type || '—' },
        { label: 'Status', cell: (d) => badge(d.status === 'ONLINE' || d.status === 'online' ? 'connected' : String(d.status || 'unknown').toLowerCase()) },
        { label: 'Last activity', cell: (d) => time(d.last_activity) },
      ], cfg.devices) : h('p', { class: 'muted' }, 'No devices.')));
    out.push(h('section', { class: 'card', 'aria-labelledby': 'ard-th' }, h('h2', { id: 'ard-th' }, 'Things'),
      (cfg.things || []).length ? table([
        { label: 'Name', cell: (t) => t.name },
        { label: 'Device', cell: (t) => h('code', null, t.device_id || '—') },
      ], cfg.things) : h('p', { class: 'muted' }, 'No things.')));
  }
  return h('div', null, out);
}

// --- Blynk ----------------------------------------------------------------------------

async function blynk(entry, st, ctx) {
  const cfg = st ? await api.get('/users/me/integrations/blynk') : null;
  const rows = h('div', { class: 'device-rows' });
  let n = 0;
  const addRow = (name = '', hasToken = false) => {
    n += 1;
    const i = n;
    const row = h('fieldset', { class: 'device-row' }, h('legend', null, `Device ${i}`),
      field('Name', `devices[${i}].name`, { value: name }),
      field('Auth token', `devices[${i}].auth_token`, { type: 'password',
        hint: hasToken ? 'A token is saved. Leave empty to keep it.' : 'The device\'s auth token (16 to 64 characters).',
        attrs: { autocomplete: 'off', placeholder: hasToken ? '•••••• (saved)' : '' } }),
      h('button', { type: 'button', class: 'secondary', onclick: () => row.remove() }, `Remove device ${i}`));
    rows.append(row);
  };
  (cfg ? cfg.devices : []).forEach((d) => addRow(d.name, d.has_token));
  if (!cfg || !cfg.devices.length) addRow();
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'Blynk settings' },
    formError(),
    field('Enabled', 'enabled', { type: 'checkbox', value: cfg ? cfg.enabled : true }),
    field('Server URL', 'server_url', { type: 'url', value: cfg ? cfg.server_url : entry.default_server_url }),
    rows,
    h('p', { class: 'field-error', 'data-error-for': 'devices' }),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: () => addRow() }, 'Add device'),
      h('button', { type: 'submit' }, 'Save'), cfg && removeButton(entry, ctx)));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const devices = [...rows.querySelectorAll('.device-row')].map((r) => {
      const [nm, tok] = r.querySelectorAll('input');
      const d = { name: nm.value.trim() };
      if (tok.value) d.auth_token = tok.value.trim();
      return d;
    });
    await busy(form.querySelector('button[type=submit]'), 'Saving…', async () => {
      try {
        await api.put('/users/me/integrations/blynk', { enabled: form.enabled.checked, server_url: form.server_url.value.trim(), devices });
        notice('Blynk saved.'); ctx.go('#/integrations/blynk');
      } catch (ex) {
        // The API names device fields devices[0].auth_token: our rows count from 1.
        const fields = {};
        for (const [k, v] of Object.entries(ex.fields || {})) {
          const m = k.match(/^devices\[(\d+)\]\.(\w+)$/);
          const row = m && rows.querySelectorAll('.device-row')[Number(m[1])];
          const name = row && row.querySelector(`input[name$=".${m[2]}"]`);
          fields[name ? name.name : k] = v;
        }
        ex.fields = fields;
        showErrors(form, ex);
      }
    });
  });
  const out = [form];
  if (cfg) {
    out.unshift(h('p', null, badge(cfg.status), cfg.devices_error ? h('span', { class: 'field-error' }, ' ' + cfg.devices_error) : ''));
    out.push(h('section', { class: 'card', 'aria-labelledby': 'bl-dev' }, h('h2', { id: 'bl-dev' }, 'Devices'),
      table([
        { label: 'Name', cell: (d) => d.name },
        { label: 'Online', cell: (d) => (d.online === null ? badge('unknown') : badge(d.online ? 'connected' : 'disconnected')) },
        { label: 'Token', cell: (d) => (d.has_token ? 'saved' : 'missing') },
        { label: 'Note', cell: (d) => d.error || '—' },
      ], cfg.devices)));
    const pin = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'bl-pin' },
      h('h2', { id: 'bl-pin' }, 'Write a virtual pin'), formError(),
      field('Device', 'device', { type: 'select', options: cfg.devices.map((d) => d.name) }),
      field('Pin', 'pin', { attrs: { placeholder: 'V0' }, hint: 'V0 to V255' }),
      field('Value', 'value'),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Send'), h('span', { role: 'status', class: 'pin-result' })));
    pin.addEventListener('submit', async (e) => {
      e.preventDefault();
      await busy(pin.querySelector('button[type=submit]'), 'Sending…', async () => {
        try {
          const r = await api.post('/users/me/integrations/blynk/virtual-pin', { device: pin.device.value, pin: pin.pin.value.trim(), value: pin.value.value });
          clearErrors(pin);
          pin.querySelector('.pin-result').textContent = r.written ? `Wrote ${r.value} to ${r.pin}.` : 'Not written.';
        } catch (ex) { showErrors(pin, ex); }
      });
    });
    out.push(pin);
  }
  return h('div', null, out);
}

// --- Every other configured provider (SMTP, S3, ThingsBoard, ...) -----------------------
// A form built from the catalog's config_fields: secrets write-only ("saved", left empty to
// keep), the provider's Test action when the catalog lists one, and Delete.

const labelOf = (name) => name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

function configField(f, cfg) {
  const label = labelOf(f.name);
  if (f.type === 'boolean') return field(label, f.name, { type: 'checkbox', value: cfg ? cfg[f.name] : f.name === 'enabled' });
  if (f.secret) {
    const saved = cfg && cfg['has_' + f.name];
    return field(label, f.name, { type: 'password', required: f.required && !saved,
      hint: saved ? 'Saved. Leave empty to keep it.' : 'Write-only: stored encrypted, never shown again.',
      attrs: { autocomplete: 'new-password', placeholder: saved ? '•••••• (saved)' : '' } });
  }
  const value = cfg && cfg[f.name] !== undefined && cfg[f.name] !== null ? cfg[f.name] : '';
  return field(label, f.name, { type: f.type === 'integer' ? 'number' : 'text', value, required: f.required,
    attrs: { autocomplete: 'off', maxlength: f.max_length || null } });
}

function configBody(form, fields) {
  const body = {};
  for (const f of fields) {
    const el = form.elements[f.name];
    if (!el) continue;
    if (f.type === 'boolean') body[f.name] = el.checked;
    else if (el.value === '') { if (!f.secret && !f.required) body[f.name] = null; }
    else body[f.name] = f.type === 'integer' ? Number(el.value) : el.value;
  }
  // Optional empty members are left out rather than sent as null (not every field is nullable).
  for (const k of Object.keys(body)) if (body[k] === null) delete body[k];
  return body;
}

async function generic(entry, st, ctx) {
  const seg = segment(entry);
  const cfg = st ? await api.get('/users/me/integrations/' + seg) : null;
  const fields = (entry.config_fields || []).filter((f) => f.name !== 'enabled');
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': `${entry.name} settings` },
    formError(),
    field('Enabled', 'enabled', { type: 'checkbox', value: cfg ? cfg.enabled : true }),
    fields.map((f) => configField(f, cfg)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, cfg ? 'Save' : 'Set up'), cfg && removeButton(entry, ctx)));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { enabled: form.elements.enabled.checked, ...configBody(form, fields) };
    await busy(form.querySelector('button[type=submit]'), 'Saving…', async () => {
      try { await api.put('/users/me/integrations/' + seg, body); notice(`${entry.name} saved.`); ctx.go('#/integrations/' + seg); }
      catch (ex) { showErrors(form, ex); }
    });
  });
  const out = [];
  if (cfg) out.push(h('p', null, badge(cfg.status || 'pending'), cfg.last_error ? h('span', { class: 'field-error' }, ' ' + cfg.last_error) : ''));
  out.push(form);
  if (cfg && (entry.actions || []).includes('test')) {
    const result = h('div', { 'aria-live': 'polite' });
    const btn = h('button', { type: 'button', class: 'secondary', onclick: async () => {
      await busy(btn, 'Testing…', async () => {
        try {
          const r = await api.post(`/users/me/integrations/${seg}/test`, {});
          result.replaceChildren(h('div', { class: 'card test-result', role: 'status', 'data-ok': 'true' },
            h('h3', null, badge('ok'), ' Test passed'), h('pre', null, JSON.stringify(r, null, 2))));
        } catch (ex) {
          result.replaceChildren(h('div', { class: 'card test-result', role: 'alert', 'data-ok': 'false' },
            h('h3', null, badge('failed'), ' Test failed'), h('p', { class: 'field-error' }, ex.message)));
        }
      });
    } }, 'Test');
    out.push(h('section', { class: 'card', 'aria-labelledby': 'gen-test' }, h('h2', { id: 'gen-test' }, 'Test'),
      h('p', { class: 'hint' }, 'Runs the provider\'s test with the saved settings.'), h('div', { class: 'actions' }, btn)), result);
  }
  return h('div', null, out);
}

// --- OAuth2 providers (GitHub, Google, the providers file) ------------------------------

async function connect(entry, button) {
  await busy(button, 'Redirecting…', async () => {
    try {
      // return_to=console: the callback brings the browser back here, not to the host frontend.
      const r = await api.get(`/auth/${entry.provider}/connect?return_to=console`);
      window.location.assign(r.authorization_url);
    } catch (ex) { notice(ex.message, 'error'); }
  });
}

async function oauth(entry, st, ctx) {
  const connectBtn = h('button', { type: 'button', onclick: (e) => connect(entry, e.currentTarget) }, st ? 'Reconnect' : `Connect ${entry.name}`);
  const scopes = (entry.scopes || []).length ? h('p', { class: 'hint' }, 'Asks for: ', entry.scopes.join(', ')) : null;
  if (!st) return h('div', { class: 'card' }, h('p', null, `Not connected. You will be sent to ${entry.name} to approve access.`), scopes, h('div', { class: 'actions' }, connectBtn));
  const info = await api.get('/users/me/integrations/' + segment(entry));
  const out = [h('div', { class: 'card' },
    h('div', { class: 'actions' },
      info.avatar_url && h('img', { class: 'avatar', src: info.avatar_url, alt: '', onerror: (e) => e.currentTarget.remove() }),
      h('div', null,
        h('strong', null, info.username || info.name || info.email || 'Connected account'),
        info.email && h('div', { class: 'muted' }, info.email))),
    h('p', null, badge(info.status), info.connected_at ? [' connected ', time(info.connected_at)] : ''),
    info.last_error && h('p', { class: 'field-error' }, info.last_error),
    (info.scopes || []).length ? h('p', { class: 'hint' }, 'Granted: ', info.scopes.join(', ')) : null,
    info.token_expires_at && h('p', { class: 'hint' }, 'Token renewed automatically; expires ', time(info.token_expires_at)),
    h('div', { class: 'actions' }, connectBtn, removeButton(entry, ctx, 'Disconnect')))];
  if (entry.provider === 'github') out.push(github(info, ctx), githubSync(info));
  if (entry.provider === 'google') out.push(driveExport());
  return h('div', null, out);
}

function github(info, ctx) {
  const repos = info.repositories || [];
  const selected = new Set(info.selected_repos || []);
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'gh-repos' },
    h('h2', { id: 'gh-repos' }, 'Repositories'), formError(),
    info.repositories_error && h('p', { class: 'field-error' }, info.repositories_error),
    field('Sync automatically', 'auto_sync', { type: 'checkbox', value: info.auto_sync }),
    repos.length ? h('fieldset', null, h('legend', null, 'Repositories to sync'),
      h('div', { class: 'checks' }, repos.map((r) => {
        const id = 'repo-' + r.id;
        return h('label', { for: id }, h('input', { id, type: 'checkbox', name: 'selected_repos', value: String(r.id), checked: selected.has(r.id) }),
          h('span', null, r.full_name || r.name, r.private ? ' (private)' : '', r.last_sync ? [' · synced ', time(r.last_sync)] : ''));
      })), h('p', { class: 'field-error', 'data-error-for': 'selected_repos' })) : h('p', { class: 'muted' }, 'No repositories.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const ids = [...form.querySelectorAll('input[name=selected_repos]:checked')].map((i) => Number(i.value));
    await busy(form.querySelector('button[type=submit]'), 'Saving…', async () => {
      try { await api.patch('/users/me/integrations/github', { auto_sync: form.auto_sync.checked, selected_repos: ids }); notice('GitHub settings saved.'); ctx.go('#/integrations/github'); }
      catch (ex) { showErrors(form, ex); }
    });
  });
  return form;
}

const projectIds = (text) => text.split(/[\s,]+/).filter(Boolean);

function progressLine(label) {
  return h('p', { class: 'progress', hidden: true, role: 'status' }, h('progress', { 'aria-label': label }), h('span', null, label + '…'));
}

// Sync now: the chosen projects of the platform pushed as files into a repository.
function githubSync(info) {
  const repos = info.repositories || [];
  const result = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'gh-sync' },
    h('h2', { id: 'gh-sync' }, 'Sync now'), formError(),
    field('Repository', 'repository_id', { type: 'select', options: repos.map((r) => [String(r.id), r.full_name || r.name]) }),
    field('Project IDs', 'project_ids', { type: 'textarea', hint: 'The platform projects to push, one ID per line.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', disabled: !repos.length }, 'Sync now')),
    progressLine('Pushing to GitHub'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const prog = form.querySelector('.progress');
    const say = (text) => { prog.querySelector('span').textContent = text; };
    prog.hidden = false;
    say('Queuing the sync…');
    await busy(form.querySelector('button[type=submit]'), 'Syncing…', async () => {
      try {
        // A tracked job: queued, then run by the worker; the page polls its status.
        let job = await api.post('/users/me/integrations/github/sync', { async: true, repository_id: Number(form.repository_id.value), project_ids: projectIds(form.project_ids.value) });
        clearErrors(form);
        const deadline = Date.now() + 120000;
        while (job.status === 'queued' || job.status === 'running') {
          say(job.status === 'queued' ? 'Queued: waiting for a worker…' : 'Pushing to GitHub…');
          if (Date.now() > deadline) throw new Error('The sync is still running; look again in a minute.');
          await new Promise((r) => setTimeout(r, 1000));
          job = await api.get('/users/me/integrations/github/sync/' + encodeURIComponent(job.id));
        }
        result.replaceChildren(syncResult(job));
      } catch (ex) { showErrors(form, ex); } finally { prog.hidden = true; }
    });
  });
  return h('div', null, form, result);
}

// The finished job: the commit and each project's file, or why it failed.
function syncResult(job) {
  if (job.status !== 'succeeded') {
    return h('div', { class: 'card sync-result', role: 'status', 'data-status': job.status },
      h('p', { class: 'field-error' }, `Sync failed: ${job.error || job.error_code || 'unknown error'}`));
  }
  const r = job.result || {};
  return h('div', { class: 'card sync-result', role: 'status', 'data-status': job.status },
    h('p', null, h('strong', null, r.full_name), ` (${r.branch}): `, r.committed ? `committed ${String(r.commit_sha || '').slice(0, 10)}` : 'nothing to commit'),
    table([{ label: 'Project', cell: (p) => p.name || p.project_id }, { label: 'Path', cell: (p) => h('code', null, p.path) },
      { label: 'Result', cell: (p) => p.result }], r.projects || []));
}

// Drive export: the chosen projects as files in the user's Google Drive.
function driveExport() {
  const result = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'gd-exp' },
    h('h2', { id: 'gd-exp' }, 'Export to Google Drive'), formError(),
    field('Project IDs', 'project_ids', { type: 'textarea', hint: 'The platform projects to export, one ID per line.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Export')),
    progressLine('Uploading to Drive'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const prog = form.querySelector('.progress');
    prog.hidden = false;
    await busy(form.querySelector('button[type=submit]'), 'Exporting…', async () => {
      try {
        const r = await api.post('/users/me/integrations/google/drive/export', { project_ids: projectIds(form.project_ids.value) });
        clearErrors(form);
        result.replaceChildren(h('div', { class: 'card', role: 'status' }, table([
          { label: 'Project', cell: (f) => f.name || f.project_id },
          { label: 'Drive file', cell: (f) => h('code', null, f.file_id || '—') },
          { label: 'Status', cell: (f) => f.status || '—' },
        ], r.files || [])));
      } catch (ex) { showErrors(form, ex); } finally { prog.hidden = true; }
    });
  });
  return h('div', null, form, result);
}
