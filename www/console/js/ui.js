// DOM helpers: elements built with textContent only (no innerHTML of server data), form
// fields with labels and error slots, the API's field messages placed next to their
// fields, pagers, busy buttons and the notice line.
let uid = 0;

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'value') el.value = v;
      else if (k === 'checked') el.checked = !!v;
      else el.setAttribute(k, v === true ? '' : v);
    }
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function nextId(prefix = 'f') { uid += 1; return `${prefix}-${uid}`; }

// field(label, name, {type, value, hint, required, options, attrs}) -> a labelled control
// whose error slot is data-error-for=name (and aria-describedby of the control).
export function field(label, name, o = {}) {
  const id = nextId(name.replace(/[^a-z0-9]/gi, '-'));
  const errId = id + '-err';
  const hintId = o.hint ? id + '-hint' : null;
  const described = [hintId, errId].filter(Boolean).join(' ');
  let control;
  if (o.type === 'select') {
    control = h('select', { id, name, 'aria-describedby': described, ...o.attrs },
      (o.options || []).map((opt) => {
        const [v, t] = Array.isArray(opt) ? opt : [opt, opt];
        return h('option', { value: v, selected: String(o.value) === String(v) ? true : null }, t);
      }));
  } else if (o.type === 'textarea') {
    control = h('textarea', { id, name, 'aria-describedby': described, required: o.required, ...o.attrs });
    if (o.value !== undefined && o.value !== null) control.defaultValue = o.value;
  } else if (o.type === 'checkbox') {
    control = h('input', { id, name, type: 'checkbox', 'aria-describedby': described, ...o.attrs });
    control.defaultChecked = !!o.value;
    return h('div', { class: 'field check' },
      h('label', { for: id }, control, label),
      hintId && h('p', { class: 'hint', id: hintId }, o.hint),
      h('p', { class: 'field-error', id: errId, 'data-error-for': name }));
  } else {
    control = h('input', { id, name, type: o.type || 'text', 'aria-describedby': described,
      required: o.required, ...o.attrs });
    // The default value, so that form.reset() goes back to it.
    if (o.value !== undefined && o.value !== null && o.type !== 'file') control.defaultValue = o.value;
  }
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    control,
    hintId && h('p', { class: 'hint', id: hintId }, o.hint),
    h('p', { class: 'field-error', id: errId, 'data-error-for': name }));
}

// checks(legend, name, items [{value, label, checked}]) -> a fieldset of checkboxes.
export function checks(legend, name, items, hint) {
  const errId = nextId(name) + '-err';
  return h('fieldset', { 'aria-describedby': errId },
    h('legend', null, legend),
    hint && h('p', { class: 'hint' }, hint),
    h('div', { class: 'checks' }, items.map((it) => {
      const id = nextId(name);
      return h('label', { for: id }, h('input', { id, type: 'checkbox', name, value: it.value, checked: it.checked }),
        h('span', null, it.label));
    })),
    h('p', { class: 'field-error', id: errId, 'data-error-for': name }));
}

export function checked(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
}

export function formError() { return h('div', { class: 'form-error', role: 'alert' }); }

export function clearErrors(form) {
  form.querySelectorAll('[data-error-for]').forEach((e) => { e.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  const fe = form.querySelector('.form-error');
  if (fe) fe.textContent = '';
}

// showErrors(form, err): each field message of the envelope next to its field; the
// message (and any field without a control) in the form's error box. Focuses the first.
export function showErrors(form, err) {
  clearErrors(form);
  const fields = (err && err.fields) || {};
  const rest = [];
  let first = null;
  for (const [name, msg] of Object.entries(fields)) {
    const base = name.replace(/\[\d+\].*$/, '').replace(/\..*$/, '');
    const slot = form.querySelector(`[data-error-for="${name}"]`) || form.querySelector(`[data-error-for="${base}"]`);
    if (slot) {
      slot.textContent = slot.textContent ? slot.textContent + '; ' + msg : msg;
      const ctl = form.querySelector(`[name="${slot.dataset.errorFor}"]`);
      if (ctl) { ctl.setAttribute('aria-invalid', 'true'); first = first || ctl; }
    } else rest.push(`${name}: ${msg}`);
  }
  const fe = form.querySelector('.form-error');
  if (fe) fe.textContent = [err.message || String(err), ...rest].join(' — ');
  if (first) first.focus();
}

// busy(button, label, fn): disables the button, shows label while fn runs.
export async function busy(button, label, fn) {
  const old = button.textContent;
  button.disabled = true; button.textContent = label; button.setAttribute('aria-busy', 'true');
  try { return await fn(); } finally {
    button.disabled = false; button.textContent = old; button.removeAttribute('aria-busy');
  }
}

export function notice(msg, kind = 'info') {
  const box = document.getElementById('notice');
  box.replaceChildren(msg ? h('p', { class: kind === 'error' ? 'error' : '' }, msg) : '');
}

export function badge(status) {
  const s = status || 'none';
  const cls = ['connected', 'active', 'delivered', 'completed', 'ok'].includes(s) ? 'ok'
    : ['error', 'failed', 'expired', 'revoked'].includes(s) ? 'bad'
      : ['pending', 'running', 'disconnected'].includes(s) ? 'warn' : '';
  return h('span', { class: 'badge ' + cls }, s.replace(/_/g, ' '));
}

export function when(ts) {
  if (!ts) return '—';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function time(ts) { return ts ? h('time', { datetime: ts }, when(ts)) : '—'; }

// pager({page, limit, total}, go(page)) -> Previous / "page p of n" / Next.
export function pager(pg, go, label = 'Pages') {
  const pages = Math.max(1, Math.ceil((pg.total || 0) / (pg.limit || 1)));
  return h('nav', { class: 'pager', 'aria-label': label },
    h('button', { type: 'button', class: 'secondary', disabled: pg.page <= 1, onclick: () => go(pg.page - 1) }, 'Previous'),
    h('span', null, `Page ${pg.page} of ${pages} (${pg.total} in all)`),
    h('button', { type: 'button', class: 'secondary', disabled: pg.page >= pages, onclick: () => go(pg.page + 1) }, 'Next'));
}

// table(columns [{label, cell(row)}], rows, caption) -> a responsive table.
export function table(columns, rows, caption) {
  // Focusable, so that a table wider than the screen scrolls by keyboard too.
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption || 'Table' },
    h('table', { class: 'stack' },
      caption && h('caption', { class: 'muted' }, caption),
      h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
      h('tbody', null, rows.map((r) => h('tr', null,
        columns.map((c) => h('td', { 'data-label': c.label }, c.cell(r))))))));
}

// secretOnce(title, value, note) -> the box that shows a secret one time, with Copy.
export function secretOnce(title, value, note) {
  const status = h('span', { role: 'status', class: 'muted' });
  const code = h('code', { class: 'secret-value' }, value);
  return h('div', { class: 'secret-once', role: 'region', 'aria-label': title },
    h('strong', null, title),
    code,
    h('p', { class: 'hint' }, note || 'Copy it now: it is shown only this once.'),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary copy', onclick: async () => {
        try { await navigator.clipboard.writeText(value); status.textContent = 'Copied.'; }
        catch { const r = document.createRange(); r.selectNodeContents(code);
          const s = getSelection(); s.removeAllRanges(); s.addRange(r); status.textContent = 'Selected: press Ctrl+C.'; }
      } }, 'Copy'), status));
}

export function confirmAction(msg) { return window.confirm(msg); }

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// paged(data, page, limit): a page of the API ({items, page, limit, total}) as is; a
// plain array (routes that list everything at once) cut into the same shape here.
export function paged(data, page, limit) {
  if (!Array.isArray(data)) return data;
  const pages = Math.max(1, Math.ceil(data.length / limit));
  const p = Math.min(Math.max(1, page), pages);
  return { items: data.slice((p - 1) * limit, p * limit), page: p, limit, total: data.length };
}
