// Webhooks: list, create and edit (event picker from /webhooks/event-types), a webhook's
// page with its delivery history, test send, redeliver, rotate secret and delete.
import * as api from '../api.js';
import { h, field, checks, checked, formError, showErrors, busy, notice, badge, time, table, pager, secretOnce, confirmAction } from '../ui.js';

export async function render(main, ctx) {
  const [id, sub] = ctx.rest;
  if (id === 'new') return edit(main, ctx, null);
  if (id && sub === 'edit') return edit(main, ctx, await api.get('/webhooks/' + id));
  if (id) return detail(main, ctx, id);
  return list(main, ctx);
}

async function list(main, ctx) {
  const box = h('div');
  const show = async (page) => {
    const data = await api.get('/webhooks', { page, limit: 20 });
    box.replaceChildren(data.items.length ? table([
      { label: 'Name', cell: (w) => h('a', { href: '#/webhooks/' + w.id }, w.name) },
      { label: 'URL', cell: (w) => h('code', null, w.url) },
      { label: 'Events', cell: (w) => w.events.join(', ') },
      { label: 'State', cell: (w) => (w.is_active ? badge('active') : [badge('inactive'), w.disabled_reason ? h('div', { class: 'muted' }, w.disabled_reason) : '']) },
      { label: 'Created', cell: (w) => time(w.created_at) },
    ], data.items) : h('p', { class: 'muted' }, 'No webhooks yet.'), pager(data, show, 'Webhook pages'));
  };
  await show(Number(ctx.query.get('page')) || 1);
  main.replaceChildren(h('h1', null, 'Webhooks'),
    h('p', { class: 'muted' }, 'Switchboard sends signed HTTP POSTs (Standard Webhooks) to your receivers when events happen.'),
    h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/webhooks/new' }, 'New webhook')), box);
}

async function edit(main, ctx, w) {
  const catalog = await api.get('/webhooks/event-types');
  const names = catalog.event_types.map((t) => t.name);
  const current = new Set(w ? w.events : ['*']);
  const prefixes = [...new Set(names.filter((n) => n.includes('.')).map((n) => n.split('.')[0] + '.*'))];
  const items = [{ value: '*', label: '* — every event', checked: current.has('*') }]
    .concat(prefixes.map((p) => ({ value: p, label: `${p} — every ${p.slice(0, -2)} event`, checked: current.has(p) })))
    .concat(catalog.event_types.map((t) => ({ value: t.name, label: t.description ? `${t.name} — ${t.description}` : t.name, checked: current.has(t.name) })));
  const known = new Set(items.map((i) => i.value));
  const custom = (w ? w.events : []).filter((e) => !known.has(e));
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': w ? 'Edit webhook' : 'New webhook' },
    formError(),
    field('Name', 'name', { value: w && w.name, required: true, attrs: { maxlength: 100 } }),
    field('Receiver URL', 'url', { type: 'url', value: w && w.url, required: true, attrs: { placeholder: 'https://hooks.example.com/switchboard', spellcheck: 'false' } }),
    checks('Events', 'events', items, 'Pick event types or wildcards.'),
    field('Other subscriptions', 'events_custom', { value: custom.join(', '), hint: 'Comma-separated types or prefixes such as ticket.created or ticket.*' }),
    field('Retries', 'retry_count', { type: 'number', value: w ? w.retry_count : 3, attrs: { min: 0, max: 10 } }),
    field('Timeout (seconds)', 'timeout_seconds', { type: 'number', value: w ? w.timeout_seconds : 30, attrs: { min: 1, max: 60 } }),
    field('Active', 'is_active', { type: 'checkbox', value: w ? w.is_active : true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, w ? 'Save' : 'Create webhook'),
      h('a', { class: 'button secondary', href: w ? '#/webhooks/' + w.id : '#/webhooks' }, 'Cancel')));
  const shown = h('div', { 'aria-live': 'polite' });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const events = checked(form, 'events').concat(form.events_custom.value.split(',').map((s) => s.trim()).filter(Boolean));
    const body = { name: form.name.value.trim(), url: form.url.value.trim(), events,
      retry_count: Number(form.retry_count.value), timeout_seconds: Number(form.timeout_seconds.value), is_active: form.is_active.checked };
    await busy(form.querySelector('button[type=submit]'), 'Saving…', async () => {
      try {
        if (w) { await api.put('/webhooks/' + w.id, body); notice('Webhook saved.'); ctx.go('#/webhooks/' + w.id); return; }
        const created = await api.post('/webhooks', body);
        form.replaceChildren(h('p', null, `Webhook "${created.name}" created.`),
          h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/webhooks/' + created.id }, 'Open the webhook')));
        shown.replaceChildren(secretOnce('Signing secret', created.secret, 'Your receiver verifies signatures with it. It is shown only this once (rotate it to get a new one).'));
        shown.querySelector('button.copy').focus();
      } catch (ex) { showErrors(form, ex); }
    });
  });
  main.replaceChildren(h('p', null, h('a', { href: '#/webhooks' }, '← Webhooks')),
    h('h1', null, w ? `Edit ${w.name}` : 'New webhook'), shown, form);
  form.name.focus();
}

function headersBlock(obj) {
  if (!obj || !Object.keys(obj).length) return h('p', { class: 'muted' }, 'none');
  return h('pre', null, Object.entries(obj).map(([k, v]) => `${k}: ${v}`).join('\n'));
}

function attemptView(a) {
  return h('details', null,
    h('summary', null, `Attempt ${a.attempt_number}: `, a.response_status != null ? `HTTP ${a.response_status}` : a.error || 'no answer',
      a.response_time_ms != null ? `, ${a.response_time_ms} ms` : '', ' · ', time(a.created_at)),
    h('h4', null, 'Request headers'), headersBlock(a.request_headers),
    a.request_body !== undefined && [h('h4', null, 'Request body'), h('pre', null, typeof a.request_body === 'string' ? a.request_body : JSON.stringify(a.request_body, null, 2))],
    a.response_headers !== undefined && [h('h4', null, 'Response headers'), headersBlock(a.response_headers)],
    h('h4', null, 'Response body'), a.response_body ? h('pre', null, a.response_body) : h('p', { class: 'muted' }, 'empty'),
    a.error && h('p', { class: 'field-error' }, a.error));
}

async function detail(main, ctx, id) {
  const w = await api.get('/webhooks/' + id);
  const out = h('div', { 'aria-live': 'polite' });
  const deliveries = h('section', { 'aria-labelledby': 'deliv-h' });
  const filter = h('form', { class: 'actions', 'aria-label': 'Filter deliveries' },
    field('Status', 'status', { type: 'select', options: [['', 'any'], 'pending', 'delivered', 'failed'] }),
    h('button', { type: 'submit', class: 'secondary' }, 'Filter'),
    h('button', { type: 'button', class: 'secondary', name: 'reload' }, 'Refresh'));
  let page = 1;
  const show = async (p) => {
    page = p;
    const data = await api.get(`/webhooks/${id}/deliveries`, { page: p, limit: 10, status: filter.status.value });
    deliveries.replaceChildren(h('h2', { id: 'deliv-h' }, 'Delivery history'), filter,
      data.items.length ? table([
        { label: 'Event', cell: (d) => [h('strong', null, d.event_type), h('div', { class: 'muted mono' }, d.message_id)] },
        { label: 'Status', cell: (d) => [badge(d.status), d.last_error ? h('div', { class: 'muted' }, d.last_error) : ''] },
        { label: 'Attempts', cell: (d) => String(d.attempt_count) },
        { label: 'Response', cell: (d) => (d.last_status_code != null ? `HTTP ${d.last_status_code}` : '—') },
        { label: 'Created', cell: (d) => time(d.created_at) },
        { label: 'Details', cell: (d) => [d.attempts.map(attemptView),
          h('button', { type: 'button', class: 'secondary', 'aria-label': `Redeliver ${d.event_type} ${d.message_id}`, onclick: async (e) => {
            await busy(e.currentTarget, 'Queuing…', async () => {
              try { await api.post(`/webhooks/${id}/redeliver/${d.id}`); notice('Redelivery queued.'); await show(1); }
              catch (ex) { notice(ex.message, 'error'); }
            });
          } }, 'Redeliver')] },
      ], data.items) : h('p', { class: 'muted' }, 'No deliveries yet.'),
      pager(data, show, 'Delivery pages'));
    if (data.items.some((d) => d.status === 'pending') && ctx.isCurrent()) {
      clearTimeout(show.timer);
      show.timer = setTimeout(() => { if (ctx.isCurrent() && page === p) show(p).catch(() => {}); }, 2000);
    }
  };
  filter.addEventListener('submit', (e) => { e.preventDefault(); show(1); });
  filter.reload.addEventListener('click', () => show(page));
  const actions = h('div', { class: 'actions' },
    h('button', { type: 'button', name: 'test', onclick: async (e) => {
      await busy(e.currentTarget, 'Sending…', async () => {
        try {
          const r = await api.post(`/webhooks/${id}/test`);
          const a = r.attempt || {};
          out.replaceChildren(h('div', { class: 'card test-send', role: 'status' },
            h('strong', null, r.success ? 'Test delivered' : 'Test not delivered'), ' ', badge(r.status),
            h('p', null, a.response_status != null ? `The receiver answered HTTP ${a.response_status}` : `No answer: ${a.error || 'unknown error'}`,
              a.response_time_ms != null ? ` in ${a.response_time_ms} ms.` : '.')));
          await show(1);
        } catch (ex) { notice(ex.message, 'error'); }
      });
    } }, 'Send test event'),
    h('a', { class: 'button secondary', href: `#/webhooks/${id}/edit` }, 'Edit'),
    h('button', { type: 'button', class: 'secondary', onclick: async (e) => {
      if (!confirmAction('Rotate the signing secret? The old one keeps signing for 24 hours.')) return;
      await busy(e.currentTarget, 'Rotating…', async () => {
        try {
          const r = await api.post(`/webhooks/${id}/rotate-secret`);
          out.replaceChildren(secretOnce('New signing secret', r.secret, 'The previous secret also signs until ' + new Date(r.previous_secret_expires_at).toLocaleString() + '. Shown only this once.'));
        } catch (ex) { notice(ex.message, 'error'); }
      });
    } }, 'Rotate secret'),
    h('button', { type: 'button', class: 'danger', onclick: async (e) => {
      if (!confirmAction(`Delete the webhook "${w.name}" and its delivery history?`)) return;
      await busy(e.currentTarget, 'Deleting…', async () => {
        try { await api.del('/webhooks/' + id); notice('Webhook deleted.'); ctx.go('#/webhooks'); }
        catch (ex) { notice(ex.message, 'error'); }
      });
    } }, 'Delete'));
  await show(1);
  main.replaceChildren(h('p', null, h('a', { href: '#/webhooks' }, '← Webhooks')),
    h('h1', null, w.name),
    h('div', { class: 'card' }, h('dl', { class: 'kv' },
      h('dt', null, 'URL'), h('dd', { class: 'mono' }, w.url),
      h('dt', null, 'Events'), h('dd', null, w.events.join(', ')),
      h('dt', null, 'State'), h('dd', null, w.is_active ? badge('active') : badge('inactive'), w.disabled_reason ? ' ' + w.disabled_reason : ''),
      h('dt', null, 'Retries'), h('dd', null, `${w.retry_count}, ${w.timeout_seconds} s per attempt`),
      h('dt', null, 'Secret rotated'), h('dd', null, w.previous_secret_expires_at ? ['old secret signs until ', time(w.previous_secret_expires_at)] : 'never'),
      h('dt', null, 'Created'), h('dd', null, time(w.created_at)))),
    actions, out, deliveries);
}
