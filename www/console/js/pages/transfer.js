// Export and import: create an export and watch it, download it; upload a CSV import with
// its template, see the result and the error table; both lists paginate.
import * as api from '../api.js';
import { h, field, formError, showErrors, clearErrors, busy, notice, badge, time, table, pager, paged, confirmAction } from '../ui.js';

const ENTITIES = [['integrations', 'Integrations'], ['audit_log', 'Audit log'], ['webhooks', 'Webhooks'],
  ['webhook_deliveries', 'Webhook deliveries'], ['api_keys', 'API keys'], ['api_request_logs', 'API request log'],
  ['oauth_clients', 'OAuth clients']];
const IMPORTS = [['webhooks', 'Webhooks'], ['blynk_devices', 'Blynk devices']];

function size(n) {
  if (n == null) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

const rows = (n) => `${n} row${n === 1 ? '' : 's'}`;

function isoOrNull(v) { return v ? new Date(v).toISOString().replace(/\.\d+Z$/, 'Z') : null; }

export async function render(main, ctx) {
  const exports = h('section', { 'aria-labelledby': 'exp-list' });
  const imports = h('section', { 'aria-labelledby': 'imp-list' });
  let expPage = 1;
  let timer = null;
  const showExports = async (p) => {
    expPage = p;
    const data = await api.get('/export', { page: p, limit: 10 });
    exports.replaceChildren(h('h2', { id: 'exp-list' }, 'Your exports'),
      data.items.length ? table([
        { label: 'What', cell: (j) => [h('strong', null, j.entity_type), ` (${j.format})`, j.export_type === 'scheduled' ? h('div', { class: 'muted' }, 'scheduled') : ''] },
        { label: 'Status', cell: (j) => [badge(j.status), j.error_message ? h('div', { class: 'field-error' }, j.error_message) : ''] },
        { label: 'Progress', cell: (j) => (j.status === 'running' || j.status === 'pending'
          ? h('span', { class: 'progress' }, h('progress', { 'aria-label': `Export ${j.entity_type} progress`, ...(j.record_count ? { max: j.record_count, value: j.rows_written } : {}) }), rows(j.rows_written || 0))
          : `${rows(j.record_count ?? j.rows_written ?? 0)}, ${size(j.file_size)}`) },
        { label: 'Created', cell: (j) => time(j.created_at) },
        { label: 'Download', cell: (j) => (j.status === 'completed'
          ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Download the ${j.entity_type} export`, onclick: async (e) => {
            await busy(e.currentTarget, 'Downloading…', async () => {
              try { const f = await api.download(`/export/${j.id}/download`, `${j.entity_type}.${j.format}`); notice(`Downloaded ${f.name} (${size(f.size)}).`); }
              catch (ex) { notice(ex.message, 'error'); }
            });
          } }, 'Download')
          : j.status === 'expired' ? 'expired' : '—') },
      ], data.items) : h('p', { class: 'muted' }, 'No exports yet.'),
      pager(data, showExports, 'Export pages'));
    clearTimeout(timer);
    if (data.items.some((j) => j.status === 'pending' || j.status === 'running')) {
      timer = setTimeout(() => { if (ctx.isCurrent()) showExports(expPage).catch(() => {}); }, 1000);
    }
  };

  const expForm = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'exp-new' },
    h('h2', { id: 'exp-new' }, 'New export'), formError(),
    field('Data', 'entity', { type: 'select', options: ENTITIES }),
    field('Format', 'format', { type: 'select', options: [['csv', 'CSV'], ['xlsx', 'Excel (XLSX)']] }),
    field('From', 'from', { type: 'datetime-local', hint: 'Optional: rows created at or after (your local time).' }),
    field('To', 'to', { type: 'datetime-local', hint: 'Optional: rows created before.' }),
    field('Start the CSV with a byte-order mark (for Excel)', 'bom', { type: 'checkbox' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Start export')));
  expForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { entity: expForm.entity.value, format: expForm.format.value, bom: expForm.bom.checked };
    const filters = {};
    if (expForm.from.value) filters.from = isoOrNull(expForm.from.value);
    if (expForm.to.value) filters.to = isoOrNull(expForm.to.value);
    if (Object.keys(filters).length) body.filters = filters;
    await busy(expForm.querySelector('button[type=submit]'), 'Starting…', async () => {
      try { await api.post('/export', body); notice('Export started: it appears below when ready.'); await showExports(1); }
      catch (ex) {
        if (ex.fields) for (const k of Object.keys(ex.fields)) if (k.startsWith('filters.')) { ex.fields[k.slice(8)] = ex.fields[k]; delete ex.fields[k]; }
        showErrors(expForm, ex);
      }
    });
  });

  const result = h('div', { 'aria-live': 'polite' });
  const impForm = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'imp-new' },
    h('h2', { id: 'imp-new' }, 'Import a CSV file'), formError(),
    field('Data', 'entity', { type: 'select', options: IMPORTS }),
    h('p', null, h('button', { type: 'button', class: 'secondary', name: 'template' }, 'Download the template'),
      ' ', h('span', { class: 'hint' }, 'The header must name exactly the template\'s columns.')),
    field('Mode', 'mode', { type: 'select', options: [['all_or_nothing', 'All or nothing'], ['valid_rows', 'Import the valid rows'], ['dry_run', 'Dry run (write nothing)']] }),
    field('CSV file', 'file', { type: 'file', attrs: { accept: '.csv,text/csv' } }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Upload')),
    h('p', { class: 'progress', hidden: true, role: 'status' }, h('progress', { 'aria-label': 'Import progress' }), h('span', null, 'Uploading and checking the rows…')));
  impForm.template.addEventListener('click', async (e) => {
    await busy(e.currentTarget, 'Downloading…', async () => {
      try { await api.download(`/import/templates/${impForm.entity.value}`, `${impForm.entity.value}-template.csv`); }
      catch (ex) { notice(ex.message, 'error'); }
    });
  });
  impForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const file = impForm.file.files[0];
    if (!file) { showErrors(impForm, { message: 'Choose a file', fields: { file: 'choose a CSV file' } }); return; }
    const prog = impForm.querySelector('.progress');
    prog.hidden = false;
    await busy(impForm.querySelector('button[type=submit]'), 'Uploading…', async () => {
      try {
        const job = await api.request('POST', '/import', { body: new Blob([file], { type: 'text/csv' }),
          headers: { 'Content-Type': 'text/csv' },
          query: { entity: impForm.entity.value, mode: impForm.mode.value, filename: file.name } });
        result.replaceChildren(importReport(job));
        await showImports(1);
      } catch (ex) { showErrors(impForm, ex); }
      finally { prog.hidden = true; }
    });
  });

  const showImports = async (p) => {
    const data = await api.get('/import', { page: p, limit: 10 });
    imports.replaceChildren(h('h2', { id: 'imp-list' }, 'Your imports'),
      data.items.length ? table([
        { label: 'File', cell: (j) => [h('strong', null, j.original_filename || '(body)'), h('div', { class: 'muted' }, `${j.entity_type}, ${j.mode.replace(/_/g, ' ')}`)] },
        { label: 'Status', cell: (j) => badge(j.status) },
        { label: 'Rows', cell: (j) => `${j.success_count} ok, ${j.error_count} failing of ${j.total_rows}` },
        { label: 'Created', cell: (j) => time(j.created_at) },
        { label: 'Errors', cell: (j) => (j.error_count ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Show the errors of ${j.original_filename || 'the import'}`,
          onclick: async () => { result.replaceChildren(importReport(await api.get('/import/' + j.id))); result.scrollIntoView(); } }, 'Show') : '—') },
      ], data.items) : h('p', { class: 'muted' }, 'No imports yet.'),
      pager(data, showImports, 'Import pages'));
  };

  const schedules = await scheduleSection(ctx);
  await Promise.all([showExports(1), showImports(1)]);
  main.replaceChildren(h('h1', null, 'Export and import'), expForm, exports, schedules, impForm, result, imports);
}

function importReport(job) {
  const errs = job.errors || [];
  return h('div', { class: 'card import-result' },
    h('h3', null, 'Import ', badge(job.status)),
    h('p', null, `${job.total_rows} rows: ${job.success_count} ${job.mode === 'dry_run' ? 'would be written' : 'written'}, ${job.error_count} failing.`),
    job.error_message && h('p', { class: 'field-error' }, job.error_message),
    errs.length ? table([
      { label: 'Row', cell: (e) => String(e.row) },
      { label: 'Column', cell: (e) => e.column || '—' },
      { label: 'Problem', cell: (e) => e.code },
      { label: 'Message', cell: (e) => e.message },
    ], errs, errs.length < job.error_count ? `The first ${errs.length} of ${job.error_count} errors` : 'Errors') : null);
}

// Scheduled exports: daily or weekly at a time of day, or a cron expression, in a time zone.
async function scheduleSection() {
  const listBox = h('div');
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'sch-new' },
    h('h2', { id: 'sch-new' }, 'Scheduled exports'), formError(),
    field('Name', 'name', { attrs: { maxlength: 100 } }),
    field('Data', 'entity', { type: 'select', options: ENTITIES }),
    field('Format', 'format', { type: 'select', options: [['csv', 'CSV'], ['xlsx', 'Excel (XLSX)']] }),
    field('Repeat', 'interval', { type: 'select', options: [['daily', 'Daily'], ['weekly', 'Weekly'], ['cron', 'Cron expression']] }),
    field('At (HH:MM)', 'at', { value: '06:00', attrs: { placeholder: '06:30' } }),
    field('Weekday', 'weekday', { type: 'select', value: '1', options: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'].map((d, i) => [String(i), d]) }),
    field('Cron', 'cron', { attrs: { placeholder: '*/15 * * * *' }, hint: 'minute hour day-of-month month day-of-week' }),
    field('Time zone', 'time_zone', { value: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add schedule')));
  const sync = () => {
    const iv = form.interval.value;
    form.at.closest('.field').hidden = iv === 'cron';
    form.weekday.closest('.field').hidden = iv !== 'weekly';
    form.cron.closest('.field').hidden = iv !== 'cron';
  };
  form.interval.addEventListener('change', sync);
  sync();
  const show = async (p) => {
    const data = paged(await api.get('/export/schedules', { page: p, limit: 10 }), p, 10);
    listBox.replaceChildren(data.items.length ? table([
      { label: 'Name', cell: (x) => x.name || '—' },
      { label: 'What', cell: (x) => `${x.entity_type} (${x.format})` },
      { label: 'When', cell: (x) => [h('code', null, x.cron), ` ${x.time_zone}`] },
      { label: 'Next run', cell: (x) => time(x.next_run_at) },
      { label: 'Last run', cell: (x) => time(x.last_run_at) },
      { label: 'Actions', cell: (x) => h('button', { type: 'button', class: 'danger', 'aria-label': `Delete the schedule ${x.name || x.entity_type}`, onclick: async (e) => {
        if (!confirmAction('Delete this schedule?')) return;
        await busy(e.currentTarget, 'Deleting…', async () => {
          try { await api.del('/export/schedules/' + x.id); notice('Schedule deleted.'); await show(1); }
          catch (ex) { notice(ex.message, 'error'); }
        });
      } }, 'Delete') },
    ], data.items) : h('p', { class: 'muted' }, 'No schedules.'), pager(data, show, 'Schedule pages'));
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const iv = form.interval.value;
    const body = { entity: form.entity.value, format: form.format.value, interval: iv, time_zone: form.time_zone.value.trim() || 'UTC' };
    if (form.name.value.trim()) body.name = form.name.value.trim();
    if (iv !== 'cron') body.at = form.at.value.trim();
    if (iv === 'weekly') body.weekday = Number(form.weekday.value);
    if (iv === 'cron') body.cron = form.cron.value.trim();
    await busy(form.querySelector('button[type=submit]'), 'Adding…', async () => {
      try { await api.post('/export/schedules', body); clearErrors(form); notice('Schedule added.'); await show(1); }
      catch (ex) { showErrors(form, ex); }
    });
  });
  await show(1);
  return h('section', null, form, listBox);
}
