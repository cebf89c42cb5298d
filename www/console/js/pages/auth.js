// Sign in and register.
import * as api from '../api.js';
import { h, field, formError, showErrors, busy, notice } from '../ui.js';

// Where to go after signing in: a console route only (#/..., or /console/#/... as
// GET /oauth/authorize sends it), never another site.
function safeNext(query) {
  const next = (query.get('next') || '').replace(/^\/console\/(?=#\/)/, '');
  return /^#\/[a-z-]/.test(next) ? next : '#/integrations';
}

export async function login(main, { query, go }) {
  const err = formError();
  const form = h('form', { class: 'card', novalidate: true },
    err,
    field('Email', 'email', { type: 'email', required: true, attrs: { autocomplete: 'username' } }),
    field('Password', 'password', { type: 'password', required: true, attrs: { autocomplete: 'current-password' } }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const btn = form.querySelector('button[type=submit]');
    await busy(btn, 'Signing in…', async () => {
      try {
        await api.login(form.email.value.trim(), form.password.value);
        notice('');
        go(safeNext(query));
      } catch (ex) { showErrors(form, ex); }
    });
  });
  main.replaceChildren(h('div', { class: 'narrow' },
    h('h1', null, 'Sign in to Switchboard'), form,
    h('p', null, 'No account yet? ', h('a', { href: '#/register' + (query.get('next') ? '?next=' + encodeURIComponent(query.get('next')) : '') }, 'Create one'), '.'),
    h('p', null, h('a', { href: '/api/docs/' }, 'API documentation'))));
  form.email.focus();
}

export async function register(main, { query, go }) {
  const err = formError();
  const form = h('form', { class: 'card', novalidate: true },
    err,
    field('Name', 'name', { required: true, attrs: { autocomplete: 'name' } }),
    field('Email', 'email', { type: 'email', required: true, attrs: { autocomplete: 'email' } }),
    field('Password', 'password', { type: 'password', required: true, hint: 'At least 8 characters.',
      attrs: { autocomplete: 'new-password' } }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create account')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const btn = form.querySelector('button[type=submit]');
    await busy(btn, 'Creating…', async () => {
      try {
        const email = form.email.value.trim();
        if (!(await api.register(email, form.password.value, form.name.value.trim()))) await api.login(email, form.password.value);
        notice('Welcome to Switchboard.');
        go(safeNext(query));
      } catch (ex) { showErrors(form, ex); }
    });
  });
  main.replaceChildren(h('div', { class: 'narrow' },
    h('h1', null, 'Create an account'), form,
    h('p', null, 'Already registered? ', h('a', { href: '#/login' }, 'Sign in'), '.')));
  form.name.focus();
}
