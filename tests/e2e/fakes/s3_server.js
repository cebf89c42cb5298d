// A real S3-compatible server on loopback (npm s3rver, its objects on disk) behind a
// front that verifies AWS Signature Version 4 the way S3 does, because s3rver itself
// does not ("Signature version 4 calculation is unimplemented": it only checks that the
// access key id exists). The front recomputes the canonical request, string to sign
// and signature from the request it received (docs.aws.amazon.com, "Authenticating
// Requests: Using the Authorization Header (AWS Signature Version 4)"), checks the
// x-amz-content-sha256 payload hash against the body, the credential scope's region
// and service, and the clock skew, answers S3's XML errors (SignatureDoesNotMatch,
// InvalidAccessKeyId, XAmzContentSHA256Mismatch, AuthorizationHeaderMalformed,
// AccessDenied, RequestTimeTooSkewed), and forwards a verified request to s3rver.
// Virtual-hosted requests (Host: <bucket>.localhost:PORT) are rewritten to path style.
//
// Test helpers (unsigned, loopback only): GET /_fake/state, GET /_fake/object/<bucket>/<key>
// (the stored bytes), GET /_fake/requests (the log), POST /_fake/reset-log.
// usage: node s3_server.js PORT DATA_DIR
const crypto = require('crypto');
const http = require('http');
const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');

const port = Number(process.argv[2]);
const dir = process.argv[3];
const REGION = 'us-east-1';
// The credentials tests save (tests/e2e/test_s3.py); s3rver knows the key id too.
const KEYS = { SBTESTKEY00000000: 'sb-test-secret-key/0000000000000000000000' };
const BUCKETS = ['sb-exports', 'sb-other'];
const log = [];

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const hmac = (k, s) => crypto.createHmac('sha256', k).update(s).digest();
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

function s3Error(res, status, code, message) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
    `<RequestId>fake</RequestId></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
  return false;
}

function canonicalUri(path) {
  // S3 encodes each segment once (no double encoding), keeping '/'.
  return path.split('/').map((seg) => enc(decodeURIComponent(seg))).join('/') || '/';
}

function canonicalQuery(query) {
  if (!query) return '';
  return query.split('&').filter(Boolean).map((kv) => {
    const i = kv.indexOf('=');
    const k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
    const v = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1));
    return [enc(k), enc(v)];
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1)).map((p) => p.join('=')).join('&');
}

// Returns true when the request is signed correctly; otherwise answers the error.
function verify(req, body, res) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return s3Error(res, auth ? 400 : 403, auth ? 'AuthorizationHeaderMalformed' : 'AccessDenied',
    auth ? 'The authorization header is malformed.' : 'Access Denied');
  const [, keyId, day, region, service, signedHeaders, signature] = m;
  const secret = KEYS[keyId];
  if (!secret) return s3Error(res, 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (service !== 's3' || region !== REGION)
    return s3Error(res, 400, 'AuthorizationHeaderMalformed', `the region '${region}' is wrong; expecting '${REGION}'`);
  const amzDate = req.headers['x-amz-date'] || '';
  const t = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(amzDate);
  if (!t || amzDate.slice(0, 8) !== day) return s3Error(res, 403, 'AccessDenied', 'x-amz-date is missing or malformed');
  const when = Date.UTC(+t[1], +t[2] - 1, +t[3], +t[4], +t[5], +t[6]);
  if (Math.abs(Date.now() - when) > 15 * 60 * 1000)
    return s3Error(res, 403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date'))
    return s3Error(res, 403, 'AccessDenied', 'host and x-amz-date must be signed');
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (!payloadHash) return s3Error(res, 400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== sha256(body))
    return s3Error(res, 400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  const [path, query] = req.url.split('?');
  const headers = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const creq = [req.method, canonicalUri(path), canonicalQuery(query), headers, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const sts = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(creq)].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4' + secret, day), region), service), 'aws4_request');
  const want = hmac(key, sts).toString('hex');
  if (!crypto.timingSafeEqual(Buffer.from(want), Buffer.from(signature)))
    return s3Error(res, 403, 'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  return true;
}

function forward(inner, req, res, path, body, auth) {
  const headers = { ...req.headers, host: `127.0.0.1:${inner}` };
  if (!auth) delete headers.authorization;
  const up = http.request({ host: '127.0.0.1', port: inner, method: req.method, path, headers }, (ur) => {
    res.writeHead(ur.statusCode, ur.headers);
    ur.pipe(res);
  });
  up.on('error', (e) => s3Error(res, 500, 'InternalError', String(e)));
  up.end(body);
}

(async () => {
  for (const k of Object.keys(KEYS)) AWSAccount.DUMMY_ACCOUNT.createKeyPair(k, KEYS[k]);
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, vhostBuckets: false,
    configureBuckets: BUCKETS.map((name) => ({ name, configs: [] })) });
  const { port: inner } = await s3.run();
  http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => { size += c.length; if (size <= 64 << 20) chunks.push(c); });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/_fake/state') return res.end(JSON.stringify({ buckets: BUCKETS, region: REGION }));
      if (req.url === '/_fake/requests') return res.end(JSON.stringify(log));
      if (req.url === '/_fake/reset-log') { log.length = 0; return res.end('{}'); }
      if (req.url.startsWith('/_fake/object/')) return forward(inner, req, res, req.url.slice(13), body, false);
      let path = req.url;
      const host = String(req.headers.host || '');
      const vhost = /^([a-z0-9.-]+)\.localhost(:\d+)?$/.exec(host);
      if (vhost) path = '/' + vhost[1] + (path === '/' ? '' : path);
      const ok = verify(req, body, res);
      log.push({ method: req.method, host, path: path.split('?')[0], verified: ok, size: body.length });
      if (ok) forward(inner, req, res, path, body, true);
    });
  }).listen(port, '127.0.0.1', () => console.error(`s3 front on 127.0.0.1:${port} -> s3rver on ${inner}`));
})();
