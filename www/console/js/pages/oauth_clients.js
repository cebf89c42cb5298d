// OAuth clients: create (secret shown once), list, delete; the applications the user
// authorized through the consent page, with revoke (when the server offers the route).
import * as api from '../api.js';
import { h, field, checks, checked, formError, showErrors, busy, notice, time, table, pager, paged, secretOnce, confirmAction } from '../ui.js';
import { SCOPES } from './apikeys.js';

export async function render(main, ctx) {
  const shown = h('div', { 'aria-live': 'polite' });
  const listBox = h('section', { 'aria-labelledby': 'cl-h' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'cl-new' },
    h('h2', { id: 'cl-new' }, 'Register a client'), formError(),
    field('Name', 'name', { required: true, attrs: { maxlength: 100 } }),
    field('Description', 'description', { attrs: { maxlength: 500 } }),
    field('Client type', 'client_type', { type: 'select', options: [['confidential', 'Confidential (a server that keeps a secret)'], ['public', 'Public (a browser or mobile app: no secret, PKCE)']] }),
    field('Redirect URIs', 'redirect_uris', { type: 'textarea', hint: 'One per line: https:// (http:// only for localhost), no fragment. Needed for the authorization-code flow.' }),
    checks('Scopes', 'scopes', ['offline_access', ...SCOPES].map((s) => ({ value: s, label: s, checked: s === 'read' }))),
    field('Requests per hour', 'rate_limit_per_hour', { type: 'number', value: 1000, attrs: { min: 1, max: 1000000 } }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Register client')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { name: form.name.value.trim(), scopes: checked(form, 'scopes'), client_type: form.client_type.value,
      redirect_uris: form.redirect_uris.value.split(/\s+/).filter(Boolean) };
    if (form.description.value.trim()) body.description = form.description.value.trim();
    if (form.rate_limit_per_hour.value) body.rate_limit_per_hour = Number(form.rate_limit_per_hour.value);
    await busy(form.querySelector('button[type=submit]'), 'Registering…', async () => {
      try {
        const c = await api.post('/oauth/clients', body);
        form.reset();
        form.querySelector('input[value=read]').checked = true;
        shown.replaceChildren(h('div', { class: 'card' }, h('dl', { class: 'kv' }, h('dt', null, 'Client ID'), h('dd', { class: 'mono client-id' }, c.client_id))),
          c.client_secret ? secretOnce(`Client secret of "${c.name}"`, c.client_secret)
            : h('p', { class: 'hint' }, 'A public client has no secret: it authenticates with its client ID and PKCE.'));
        await show(1);
        (shown.querySelector('button.copy') || form.name).focus();
      } catch (ex) { showErrors(form, ex); }
    });
  });
  const show = async (p) => {
    const data = paged(await api.get('/oauth/clients', { page: p, limit: 20 }), p, 20);
    const items = data.items;
    listBox.replaceChildren(h('h2', { id: 'cl-h' }, 'Your clients'),
      items.length ? table([
        { label: 'Name', cell: (c) => [h('strong', null, c.name), c.description ? h('div', { class: 'muted' }, c.description) : ''] },
        { label: 'Client ID', cell: (c) => h('code', null, c.client_id) },
        { label: 'Type', cell: (c) => c.client_type || 'confidential' },
        { label: 'Scopes', cell: (c) => c.scopes.join(', ') },
        { label: 'Redirect URIs', cell: (c) => (c.redirect_uris || []).join('\n') || '—' },
        { label: 'Created', cell: (c) => time(c.created_at) },
        { label: 'Actions', cell: (c) => h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${c.name}`, onclick: async (e) => {
          if (!confirmAction(`Delete the client "${c.name}"? Its tokens stop working.`)) return;
          await busy(e.currentTarget, 'Deleting…', async () => {
            try { await api.del('/oauth/clients/' + c.id); notice(`Client "${c.name}" deleted.`); await show(1); }
            catch (ex) { notice(ex.message, 'error'); }
          });
        } }, 'Delete') },
      ], items) : h('p', { class: 'muted' }, 'No clients yet.'),
      pager(data, show, 'Client pages'));
  };
  await show(1);
  main.replaceChildren(h('h1', null, 'OAuth clients'),
    h('p', { class: 'muted' }, 'Clients call the API with tokens from POST /api/v1/oauth/token. ', h('a', { href: '/api/docs/' }, 'API documentation')),
    form, shown, listBox, await authorizedApps());
}

// The apps the user granted access (GET /users/me/authorized-apps); the section says so
// when this server does not offer the route yet.
async function authorizedApps() {
  const box = h('section', { 'aria-labelledby': 'apps-h' }, h('h2', { id: 'apps-h' }, 'Authorized applications'));
  // The server's metadata (RFC 8414) says whether users authorize outside applications.
  const meta = await fetch('/.well-known/oauth-authorization-server', { headers: { Accept: 'application/json' } })
    .then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
  if (!meta.authorization_endpoint) {
    box.append(h('p', { class: 'muted' }, 'This server does not offer the authorization of outside applications by users yet.'));
    return box;
  }
  let apps;
  try { apps = await api.get('/users/me/authorized-apps'); }
  catch (ex) { box.append(h('p', { class: 'form-error' }, ex.message)); return box; }
  const items = Array.isArray(apps) ? apps : apps.items || [];
  box.append(items.length ? table([
    { label: 'Application', cell: (a) => [h('strong', null, a.name || a.client_id), a.description ? h('div', { class: 'muted' }, a.description) : ''] },
    { label: 'Scopes', cell: (a) => (a.scopes || []).join(', ') },
    { label: 'Authorized', cell: (a) => time(a.updated_at || a.created_at) },
    { label: 'Actions', cell: (a) => h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${a.name || a.client_id}`, onclick: async (e) => {
      if (!confirmAction('Revoke this application\'s access? Its tokens stop working.')) return;
      await busy(e.currentTarget, 'Revoking…', async () => {
        try { await api.del('/users/me/authorized-apps/' + encodeURIComponent(a.client_id)); e.target.closest('tr').remove(); notice('Access revoked.'); }
        catch (ex) { notice(ex.message, 'error'); }
      });
    } }, 'Revoke') },
  ], items) : h('p', { class: 'muted' }, 'You have not authorized any application.'));
  return box;
}
