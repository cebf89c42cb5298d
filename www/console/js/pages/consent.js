// The consent page of GET /oauth/authorize: which application asks for what; approve or
// deny (POST /api/v1/oauth/consent/{request}), then the browser goes where the server says.
import * as api from '../api.js';
import { h, busy, notice } from '../ui.js';

export async function render(main, ctx) {
  const id = ctx.query.get('request');
  if (!id) throw new Error('No authorization request was given.');
  let req;
  try { req = await api.get('/oauth/consent/' + encodeURIComponent(id)); }
  catch (ex) {
    main.replaceChildren(h('h1', null, 'Authorize an application'),
      h('p', { class: 'form-error', role: 'alert' }, ex.status === 404 ? 'This authorization request is unknown or has expired. Start again from the application.' : ex.message));
    return;
  }
  const client = req.client || {};
  const name = client.name || client.client_id || 'An application';
  const scopes = req.scopes || [];
  const answer = async (approve, btn) => {
    await busy(btn, approve ? 'Approving…' : 'Denying…', async () => {
      try {
        const r = await api.post('/oauth/consent/' + encodeURIComponent(id), { approve });
        window.location.assign(r.redirect_to);
      } catch (ex) { notice(ex.message, 'error'); }
    });
  };
  // A remembered grant (the user approved these scopes for this app before, and has not
  // revoked it under Authorized applications): no second question, straight back.
  if (req.previously_granted) {
    main.replaceChildren(h('div', { class: 'narrow' }, h('h1', null, 'Authorize ', name),
      h('p', { role: 'status' }, `You have already authorized ${name} for these permissions: continuing…`)));
    try {
      const r = await api.post('/oauth/consent/' + encodeURIComponent(id), { approve: true });
      window.location.assign(r.redirect_to);
      return;
    } catch (ex) { notice(ex.message, 'error'); }
  }
  main.replaceChildren(h('div', { class: 'narrow' },
    h('h1', null, 'Authorize ', name),
    h('div', { class: 'card consent' },
      h('p', null, h('strong', null, name), ' wants to use your Switchboard account',
        api.user() ? [' (', api.user().email, ')'] : '', '.'),
      h('p', { class: 'hint' }, 'Client ID ', h('code', null, client.client_id || '—')),
      h('h2', null, 'It asks for'),
      scopes.length ? h('ul', { class: 'scopes' }, scopes.map((s) => h('li', null, h('code', null, s), SCOPE_TEXT[s] ? ' — ' + SCOPE_TEXT[s] : '')))
        : h('p', null, 'No particular permission.'),
      req.previously_granted && h('p', { class: 'hint' }, 'You have authorized this application for these permissions before.'),
      req.redirect_uri && h('p', { class: 'hint' }, 'You will then be sent to ', h('code', null, req.redirect_uri)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', name: 'approve', onclick: (e) => answer(true, e.currentTarget) }, 'Approve'),
        h('button', { type: 'button', class: 'secondary', name: 'deny', onclick: (e) => answer(false, e.currentTarget) }, 'Deny')),
      h('p', { class: 'hint' }, 'You can revoke its access at any time under OAuth clients → Authorized applications.'))));
}

const SCOPE_TEXT = {
  read: 'read your data',
  write: 'read and change your data',
  admin: 'everything your account can do',
  offline_access: 'keep access while you are away (refresh tokens)',
  'integrations:read': 'see your integrations',
  'integrations:write': 'change your integrations',
  'webhooks:read': 'see your webhooks',
  'webhooks:write': 'change your webhooks',
  'events:read': 'see your events',
  'events:write': 'publish events',
  'transfer:read': 'see your exports and imports',
  'transfer:write': 'export and import your data',
};
