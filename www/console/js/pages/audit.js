// The audit log, paginated; the filter narrows the page by action or provider.
import * as api from '../api.js';
import { h, field, time, table, pager } from '../ui.js';

function details(d) {
  const entries = Object.entries(d || {});
  return entries.length ? entries.map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ') : '—';
}

export async function render(main, ctx) {
  const box = h('div');
  const filter = h('form', { class: 'card', role: 'search', 'aria-label': 'Filter the audit log' },
    field('Show only actions containing', 'q', { type: 'text', value: ctx.query.get('q') || '', hint: 'For example: login, webhook, mqtt' }),
    field('Entries per page', 'limit', { type: 'select', options: ['20', '50', '100'], value: ctx.query.get('limit') || '20' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply')));
  let data;
  const show = async (p) => {
    data = await api.get('/users/me/audit-log', { page: p, limit: filter.limit.value });
    draw();
  };
  const draw = () => {
    const q = filter.q.value.trim().toLowerCase();
    const rows = data.items.filter((e) => !q || e.action.includes(q) || (e.provider || '').includes(q));
    box.replaceChildren(rows.length ? table([
      { label: 'When', cell: (e) => time(e.created_at) },
      { label: 'Action', cell: (e) => h('code', null, e.action) },
      { label: 'Provider', cell: (e) => e.provider || '—' },
      { label: 'Details', cell: (e) => details(e.details) },
      { label: 'From', cell: (e) => [e.ip || '—', e.user_agent ? h('div', { class: 'muted' }, e.user_agent) : ''] },
    ], rows) : h('p', { class: 'muted' }, q ? 'No entry on this page matches.' : 'Nothing recorded yet.'),
    pager(data, show, 'Audit log pages'));
  };
  filter.addEventListener('submit', (e) => { e.preventDefault(); show(1); });
  filter.q.addEventListener('input', () => data && draw());
  await show(Number(ctx.query.get('page')) || 1);
  main.replaceChildren(h('h1', null, 'Audit log'), h('p', { class: 'muted' }, 'Security-relevant events of your account, newest first.'), filter, box);
}
