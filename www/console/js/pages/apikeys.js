// API keys: create (name, scopes, limit, expiry) with the key shown once, list, revoke.
import * as api from '../api.js';
import { h, field, checks, checked, formError, showErrors, busy, notice, time, table, pager, paged, secretOnce, confirmAction } from '../ui.js';

export const SCOPES = ['read', 'write', 'admin', 'integrations:read', 'integrations:write', 'webhooks:read',
  'webhooks:write', 'events:read', 'events:write', 'transfer:read', 'transfer:write'];

export async function render(main, ctx) {
  const page = Number(ctx.query.get('page')) || 1;
  const shown = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'new-key' },
    h('h2', { id: 'new-key' }, 'Create a key'), formError(),
    field('Name', 'name', { required: true, attrs: { maxlength: 100 } }),
    field('Description', 'description', { attrs: { maxlength: 500 } }),
    checks('Scopes', 'scopes', SCOPES.map((s) => ({ value: s, label: s, checked: s === 'read' })),
      '"write" covers "read" and every area; "admin" covers everything.'),
    field('Requests per hour', 'rate_limit_per_hour', { type: 'number', value: 1000, attrs: { min: 1, max: 1000000 } }),
    field('Expires', 'expires_at', { type: 'datetime-local', hint: 'Leave empty for a key that does not expire (your local time).' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create key')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { name: form.name.value.trim(), scopes: checked(form, 'scopes') };
    if (form.description.value.trim()) body.description = form.description.value.trim();
    if (form.rate_limit_per_hour.value) body.rate_limit_per_hour = Number(form.rate_limit_per_hour.value);
    if (form.expires_at.value) body.expires_at = new Date(form.expires_at.value).toISOString().replace(/\.\d+Z$/, 'Z');
    await busy(form.querySelector('button[type=submit]'), 'Creating…', async () => {
      try {
        const k = await api.post('/api-keys', body);
        form.reset();
        form.querySelector('input[value=read]').checked = true;
        shown.replaceChildren(secretOnce(`Your new key "${k.name}"`, k.key,
          'Copy it now: it is shown only this once. Send it as X-API-Key or Authorization: Bearer.'));
        await refreshList(1);
        shown.querySelector('button.copy').focus();
      } catch (ex) { showErrors(form, ex); }
    });
  });
  const listBox = h('section', { 'aria-labelledby': 'keys-h' });
  const refreshList = async (p) => {
    const data = paged(await api.get('/api-keys', { page: p, limit: 20 }), p, 20);
    listBox.replaceChildren(h('h2', { id: 'keys-h' }, 'Your keys'),
      data.items.length ? table([
        { label: 'Name', cell: (k) => [h('strong', null, k.name), k.description ? h('div', { class: 'muted' }, k.description) : ''] },
        { label: 'Prefix', cell: (k) => h('code', null, k.key_prefix + '…') },
        { label: 'Scopes', cell: (k) => k.scopes.join(', ') },
        { label: 'Limit', cell: (k) => `${k.rate_limit_per_hour}/h` },
        { label: 'Last used', cell: (k) => time(k.last_used_at) },
        { label: 'Expires', cell: (k) => (k.expired ? 'expired' : time(k.expires_at)) },
        { label: 'Usage (24 h)', cell: (k) => usageCell(k) },
        { label: 'Actions', cell: (k) => h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${k.name}`,
          onclick: async (e) => {
            if (!confirmAction(`Revoke the key "${k.name}"? Programs using it stop working at once.`)) return;
            await busy(e.currentTarget, 'Revoking…', async () => {
              try { await api.del('/api-keys/' + k.id); notice(`Key "${k.name}" revoked.`); await refreshList(data.page); }
              catch (ex) { notice(ex.message, 'error'); }
            });
          } }, 'Revoke') },
      ], data.items) : h('p', { class: 'muted' }, 'No keys yet.'),
      pager(data, (p2) => refreshList(p2), 'Key pages'));
  };
  await refreshList(page);
  main.replaceChildren(h('h1', null, 'API keys'),
    h('p', { class: 'muted' }, 'Keys let programs call the API as you, within their scopes. ', h('a', { href: '/api/docs/' }, 'API documentation')),
    form, shown, listBox);
}

function usageCell(k) {
  const btn = h('button', { type: 'button', class: 'secondary', 'aria-label': `Show usage of ${k.name}`, onclick: async () => {
    await busy(btn, 'Loading…', async () => {
      try {
        const u = await api.get(`/api-keys/${k.id}/usage`, { hours: 24 });
        const errs = (u.by_hour || []).reduce((a, x) => a + (x.errors || 0), 0);
        btn.replaceWith(h('span', null, `${u.total} requests, ${errs} errors`));
      } catch (ex) { notice(ex.message, 'error'); }
    });
  } }, 'Show');
  return btn;
}
