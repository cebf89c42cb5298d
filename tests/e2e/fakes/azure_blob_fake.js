// A fake Azure Blob Storage account on loopback that authorizes requests with Shared
// Key the way the service does (learn.microsoft.com, "Authorize with Shared Key"): it
// rebuilds the string to sign from the request it received (verb, Content-Encoding,
// Content-Language, Content-Length (empty when 0), Content-MD5, Content-Type, Date,
// If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since, Range, the x-ms-*
// headers lowercased and sorted, then "/account/path" and the sorted query parameters),
// signs it with HMAC-SHA256 under the base64-decoded account key and compares with
// "Authorization: SharedKey <account>:<signature>". It requires x-ms-date (within 15
// minutes) and x-ms-version, answers the service's XML errors with x-ms-error-code
// (AuthenticationFailed, ContainerNotFound, BlobNotFound, MissingRequiredHeader) and
// keeps blobs in memory: Put Blob (BlockBlob, 201), Get Blob (200), Delete Blob (202),
// Get Container Properties (?restype=container, 200).
//
// Test helpers (unsigned): GET /_fake/state, GET /_fake/blob/<container>/<blob>,
// GET /_fake/requests.
// usage: node azure_blob_fake.js PORT
const crypto = require('crypto');
const http = require('http');

const port = Number(process.argv[2]);
const ACCOUNT = 'sbtestaccount';
const KEY = Buffer.from('switchboard-azure-test-account-key-0123456789').toString('base64');
const containers = new Map([['sb-exports', new Map()]]);
const log = [];

function fail(res, status, code, message) {
  const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\n` +
    `RequestId:fake\nTime:${new Date().toISOString()}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'x-ms-error-code': code,
    'Content-Length': Buffer.byteLength(body) });
  res.end(body);
  return false;
}

function stringToSign(req, url) {
  const h = (n) => (req.headers[n] === undefined ? '' : String(req.headers[n]));
  const len = h('content-length') === '0' ? '' : h('content-length');
  const xms = Object.keys(req.headers).filter((n) => n.startsWith('x-ms-')).sort()
    .map((n) => `${n}:${String(req.headers[n]).replace(/\s+/g, ' ').trim()}\n`).join('');
  const params = [...url.searchParams.keys()].map((k) => k.toLowerCase());
  const query = [...new Set(params)].sort().map((k) => `\n${k}:${url.searchParams.getAll(k).sort().join(',')}`).join('');
  return [req.method, h('content-encoding'), h('content-language'), len, h('content-md5'), h('content-type'),
    h('date'), h('if-modified-since'), h('if-match'), h('if-none-match'), h('if-unmodified-since'), h('range')]
    .join('\n') + '\n' + xms + `/${ACCOUNT}${url.pathname}` + query;
}

function authorized(req, url, res) {
  const m = /^SharedKey ([a-z0-9]+):([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization || '');
  const authFailed = (why) => fail(res, 403, 'AuthenticationFailed',
    'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly ' +
    `including the signature. (${why})`);
  if (!m) return authFailed('no SharedKey authorization');
  if (m[1] !== ACCOUNT) return authFailed('unknown account');
  if (!req.headers['x-ms-version']) return fail(res, 400, 'MissingRequiredHeader', 'x-ms-version is required');
  const when = Date.parse(req.headers['x-ms-date'] || req.headers.date || '');
  if (!when || Math.abs(Date.now() - when) > 15 * 60 * 1000) return authFailed('the request date is missing or skewed');
  const want = crypto.createHmac('sha256', Buffer.from(KEY, 'base64')).update(stringToSign(req, url), 'utf8').digest();
  const got = Buffer.from(m[2], 'base64');
  if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) return authFailed('signature mismatch');
  return true;
}

function serve(req, res, url, body) {
  const [, container, ...rest] = url.pathname.split('/');
  const blob = rest.join('/');
  const c = containers.get(container);
  if (!c) return fail(res, 404, 'ContainerNotFound', 'The specified container does not exist.');
  if (!blob && url.searchParams.get('restype') === 'container' && (req.method === 'GET' || req.method === 'HEAD')) {
    res.writeHead(200, { 'x-ms-lease-status': 'unlocked' });
    return res.end();
  }
  if (!blob) return fail(res, 400, 'InvalidUri', 'The requested URI does not represent any resource on the server.');
  if (req.method === 'PUT') {
    if (req.headers['x-ms-blob-type'] !== 'BlockBlob')
      return fail(res, 400, 'MissingRequiredHeader', 'An HTTP header that is mandatory for this request is not specified.');
    c.set(blob, { body, type: req.headers['content-type'] || 'application/octet-stream' });
    res.writeHead(201, { ETag: `"0x${crypto.createHash('md5').update(body).digest('hex').slice(0, 16)}"` });
    return res.end();
  }
  const b = c.get(blob);
  if (!b) return fail(res, 404, 'BlobNotFound', 'The specified blob does not exist.');
  if (req.method === 'GET') {
    res.writeHead(200, { 'Content-Type': b.type, 'Content-Length': b.body.length, 'x-ms-blob-type': 'BlockBlob' });
    return res.end(b.body);
  }
  if (req.method === 'DELETE') {
    c.delete(blob);
    res.writeHead(202);
    return res.end();
  }
  return fail(res, 405, 'UnsupportedHttpVerb', 'The resource doesn\'t support the specified HTTP verb.');
}

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://fake');
    if (url.pathname === '/_fake/state') return res.end(JSON.stringify({ account: ACCOUNT, key: KEY }));
    if (url.pathname === '/_fake/requests') return res.end(JSON.stringify(log));
    if (url.pathname.startsWith('/_fake/blob/')) {
      const [container, ...rest] = url.pathname.slice(12).split('/');
      const b = (containers.get(container) || new Map()).get(rest.join('/'));
      res.writeHead(b ? 200 : 404);
      return res.end(b ? b.body : '');
    }
    const ok = authorized(req, url, res);
    log.push({ method: req.method, path: url.pathname, query: url.search, verified: ok, size: body.length });
    if (ok) serve(req, res, url, body);
  });
}).listen(port, '127.0.0.1', () => console.error(`azure blob fake on 127.0.0.1:${port}`));
