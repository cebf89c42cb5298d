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
  const name = req.client_name || client.name || req.client_id || 'An application';
  const scopes = req.scopes || (req.scope ? String(req.scope).split(' ') : []);
  const answer = async (approve, btn) => {
    await busy(btn, approve ? 'Approving…' : 'Denying…', async () => {
      try {
        const r = await api.post('/oauth/consent/' + encodeURIComponent(id), { approve });
        window.location.assign(r.redirect_to);
      } catch (ex) { notice(ex.message, 'error'); }
    });
  };
  main.replaceChildren(h('div', { class: 'narrow' },
    h('h1', null, 'Authorize ', name),
    h('div', { class: 'card' },
      h('p', null, h('strong', null, name), ' wants to use your Switchboard account.'),
      (req.client_description || client.description) && h('p', { class: 'muted' }, req.client_description || client.description),
      h('h2', null, 'It asks for'),
      scopes.length ? h('ul', { class: 'scopes' }, scopes.map((s) => h('li', null, h('code', null, s)))) : h('p', null, 'No particular permission.'),
      (req.redirect_uri) && h('p', { class: 'hint' }, 'You will be sent back to ', h('code', null, req.redirect_uri)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', name: 'approve', onclick: (e) => answer(true, e.currentTarget) }, 'Approve'),
        h('button', { type: 'button', class: 'secondary', name: 'deny', onclick: (e) => answer(false, e.currentTarget) }, 'Deny')),
      h('p', { class: 'hint' }, 'You can revoke access later under OAuth clients → Authorized applications.'))));
}
