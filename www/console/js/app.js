// The console's router: #/page[/id][?query] -> a page module's render(main, params).
import * as api from './api.js';
import { h, notice } from './ui.js';
import * as auth from './pages/auth.js';
import * as integrations from './pages/integrations.js';
import * as apikeys from './pages/apikeys.js';
import * as webhooks from './pages/webhooks.js';
import * as transfer from './pages/transfer.js';
import * as oauthClients from './pages/oauth_clients.js';
import * as audit from './pages/audit.js';
import * as consent from './pages/consent.js';
import * as remoteLab from './pages/remote_lab.js';

const routes = {
  login: { page: auth.login, open: true, title: 'Sign in' },
  register: { page: auth.register, open: true, title: 'Create an account' },
  consent: { page: consent.render, title: 'Authorize an application' },
  integrations: { page: integrations.render, title: 'Integrations' },
  'remote-lab': { page: remoteLab.render, title: 'Remote Lab' },
  'api-keys': { page: apikeys.render, title: 'API keys' },
  webhooks: { page: webhooks.render, title: 'Webhooks' },
  transfer: { page: transfer.render, title: 'Export and import' },
  'oauth-clients': { page: oauthClients.render, title: 'OAuth clients' },
  'audit-log': { page: audit.render, title: 'Audit log' },
};

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, q] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { name: parts[0] || '', rest: parts.slice(1), query: new URLSearchParams(q || '') };
}

export function go(hash) {
  if (location.hash === hash) render(); else location.hash = hash;
}

let seq = 0;
async function render() {
  const main = document.getElementById('main');
  const { name, rest, query } = parseHash();
  const route = routes[name];
  if (!route) { go(api.signedIn() ? '#/integrations' : '#/login'); return; }
  if (!route.open && !api.signedIn()) {
    const next = '#/' + [name, ...rest].join('/') + (query.toString() ? '?' + query : '');
    go('#/login?next=' + encodeURIComponent(next));
    return;
  }
  if (route.open && api.signedIn() && name !== 'register') { go(query.get('next') || '#/integrations'); return; }
  const mine = ++seq;
  document.title = route.title + ' · Switchboard';
  document.querySelectorAll('#nav a[data-route]').forEach((a) => {
    if (a.dataset.route === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  closeMenu();
  main.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    await route.page(main, { rest, query, go, isCurrent: () => mine === seq });
  } catch (err) {
    if (mine !== seq) return;
    if (err instanceof api.ApiError && err.status === 401) { go('#/login'); return; }
    main.replaceChildren(h('h1', null, route.title),
      h('p', { class: 'form-error', role: 'alert' }, 'Could not load this page: ' + err.message));
  }
  if (mine === seq && document.activeElement === document.body) main.focus({ preventScroll: true });
}

function closeMenu() {
  const t = document.getElementById('menu-toggle');
  if (!t.hidden && window.matchMedia('(max-width: 700px)').matches) {
    t.setAttribute('aria-expanded', 'false');
    document.getElementById('nav').classList.add('collapsed');
    document.getElementById('nav').hidden = true;
  }
}

function chrome(u) {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  const toggle = document.getElementById('menu-toggle');
  const small = window.matchMedia('(max-width: 700px)').matches;
  who.hidden = !u;
  toggle.hidden = !u || !small;
  nav.hidden = !u || small;
  document.getElementById('who-email').textContent = u ? u.email : '';
}

window.addEventListener('hashchange', () => { notice(''); render(); });
window.matchMedia('(max-width: 700px)').addEventListener('change', () => chrome(api.user()));

document.getElementById('menu-toggle').addEventListener('click', (e) => {
  const nav = document.getElementById('nav');
  const open = e.currentTarget.getAttribute('aria-expanded') !== 'true';
  e.currentTarget.setAttribute('aria-expanded', String(open));
  nav.hidden = !open;
});

// The skip link moves the focus to the content without touching the route in the hash.
document.querySelector('.skip').addEventListener('click', (e) => {
  e.preventDefault();
  document.getElementById('main').focus();
});

document.getElementById('sign-out').addEventListener('click', async () => {
  await api.logout().catch(() => {});
  notice('Signed out.');
  go('#/login');
});

let wasSignedIn = false;
api.onSession((u) => {
  chrome(u);
  if (wasSignedIn && !u) { notice('Your session ended: sign in again.', 'error'); render(); }
  wasSignedIn = !!u;
});

(async () => {
  chrome(null);
  await api.resume().catch(() => false);
  render();
})();
