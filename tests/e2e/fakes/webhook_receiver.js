// A webhook receiver for the end-to-end tests: verifies every request with the npm
// package `standardwebhooks` (the reference implementation of the scheme) and records
// it, and answers as the path asks, so tests can script a receiver's behaviour:
//   POST /ok/<bucket>          200
//   POST /fail/<bucket>        500
//   POST /gone/<bucket>        410
//   POST /redirect/<bucket>    302 to /ok/<bucket> (must count as a failure)
//   POST /retryafter/<bucket>  429 with Retry-After: 1 (?after=N: Retry-After: N)
//   POST /hang/<bucket>        never answers
//   POST /close/<bucket>       closes the connection without an answer
//   POST /flaky/<bucket>?fail=N  500 for the first N requests of the bucket, then 200
//   POST /big/<bucket>         200 with a 10,000-byte ASCII body ("0123456789" repeated);
//                              ?utf8=1: "a" then 5,000 "é" (10,001 bytes: a 4,096-byte cut
//                              falls inside a character)
//   POST /binary/<bucket>      200 with a body that is not UTF-8 (bytes 0x80-0xff, NUL-free)
//   Any answering mode takes ?delay_ms=N: the answer is sent N ms after the request.
//   POST /_secret/<bucket>     {"secrets": ["whsec_..."]}: secrets to verify with
//   GET  /_log/<bucket>        what the bucket received
// Usage: node webhook_receiver.js PORT
'use strict';
const http = require('http');
const { Webhook } = require('standardwebhooks');

const port = Number(process.argv[2]);
const logs = new Map();
const secrets = new Map();
const counts = new Map();

function record(bucket, entry) {
  if (!logs.has(bucket)) logs.set(bucket, []);
  logs.get(bucket).push(entry);
}

function verify(bucket, body, headers) {
  const list = secrets.get(bucket);
  if (!list || list.length === 0) return { verified: null };
  const errors = [];
  for (const s of list) {
    try {
      new Webhook(s).verify(body, {
        'webhook-id': headers['webhook-id'],
        'webhook-timestamp': headers['webhook-timestamp'],
        'webhook-signature': headers['webhook-signature'],
      });
      return { verified: true, secret_index: list.indexOf(s) };
    } catch (e) {
      errors.push(String(e && e.message || e));
    }
  }
  return { verified: false, error: errors.join('; ') };
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean);
  const [mode, bucket] = parts;
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (mode === '_secret' && req.method === 'POST') {
      secrets.set(bucket, JSON.parse(body).secrets);
      res.writeHead(204).end();
      return;
    }
    if (mode === '_log' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(logs.get(bucket) || []));
      return;
    }
    if (!bucket || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const n = (counts.get(bucket) || 0) + 1;
    counts.set(bucket, n);
    let parsed = null;
    try { parsed = JSON.parse(body); } catch (e) { /* recorded as null */ }
    record(bucket, {
      n, mode, received_at: Date.now(), raw: body,
      headers: {
        'webhook-id': req.headers['webhook-id'],
        'webhook-timestamp': req.headers['webhook-timestamp'],
        'webhook-signature': req.headers['webhook-signature'],
        'content-type': req.headers['content-type'],
        'user-agent': req.headers['user-agent'],
      },
      all_headers: req.headers,
      body: parsed,
      ...verify(bucket, body, req.headers),
    });
    const delay = Number(url.searchParams.get('delay_ms') || '0');
    if (delay > 0 && mode !== 'hang') setTimeout(() => answer(mode, bucket, n, url, req, res), delay);
    else answer(mode, bucket, n, url, req, res);
  });
});

function answer(mode, bucket, n, url, req, res) {
  switch (mode) {
    case 'ok': res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'); break;
    case 'fail': res.writeHead(500).end('receiver failure'); break;
    case 'gone': res.writeHead(410).end('gone'); break;
    case 'redirect': res.writeHead(302, { location: `/ok/${bucket}` }).end(); break;
    case 'retryafter':
      res.writeHead(429, { 'retry-after': url.searchParams.get('after') || '1' }).end('slow down');
      break;
    case 'hang': break; // never answers
    case 'close': req.socket.destroy(); break;
    case 'flaky': {
      const fail = Number(url.searchParams.get('fail') || '1');
      if (n <= fail) res.writeHead(500).end('not yet'); else res.writeHead(200).end('ok');
      break;
    }
    case 'big': {
      const text = url.searchParams.get('utf8') ? 'a' + 'é'.repeat(5000) : '0123456789'.repeat(1000);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(Buffer.from(text, 'utf8'));
      break;
    }
    case 'binary': {
      const bytes = Buffer.alloc(256);
      for (let i = 0; i < bytes.length; i++) bytes[i] = 0x80 + (i % 0x80);
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
      break;
    }
    default: res.writeHead(404).end();
  }
}
server.listen(port, '127.0.0.1', () => console.log(`receiver listening on ${port}`));
