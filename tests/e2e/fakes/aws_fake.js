// A fake of the two AWS services Switchboard's connectors call, on one loopback port,
// verifying AWS Signature Version 4 the way AWS does (the verifier of s3_server.js:
// canonical request, string to sign, signing key from the secret, date, region and
// service; docs.aws.amazon.com "Create a signed AWS API request"). The credential
// scope's service picks the API:
//
//   ses  Amazon SES API v2 (REST-JSON)
//        POST /v2/email/outbound-emails {FromEmailAddress, Destination: {ToAddresses},
//             Content: {Simple: {Subject: {Data}, Body: {Text: {Data}}}}} -> 200 {MessageId}
//        GET  /v2/email/account -> 200 {SendingEnabled, SendQuota, ...}
//        errors: JSON {message} with the code in the x-amzn-ErrorType header
//        (SignatureDoesNotMatch, UnrecognizedClientException, MessageRejected, BadRequestException)
//   sns  AWS SNS (Query API, form-encoded, Version=2010-03-31)
//        POST / Action=Publish&PhoneNumber=+E164&Message=... -> <PublishResponse><PublishResult><MessageId>
//        POST / Action=GetSMSAttributes -> <GetSMSAttributesResponse>
//        errors: <ErrorResponse><Error><Type>Sender</Type><Code>...</Code><Message>...
//        (SignatureDoesNotMatch, InvalidClientTokenId, InvalidParameter)
//
// Test helpers (unsigned): GET /_fake/state, GET /_fake/emails, GET /_fake/sms.
// usage: node aws_fake.js PORT
const crypto = require('crypto');
const http = require('http');

const port = Number(process.argv[2]);
const REGION = 'eu-west-1';
// The credentials the tests save (tests/e2e/test_ses.py, test_sns.py).
const KEYS = { AKIASBTESTAWS0000001: 'sb-test-aws-secret/00000000000000000000000' };
const VERIFIED = new Set(['switchboard@example.org']);
const emails = [];
const sms = [];

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const hmac = (k, s) => crypto.createHmac('sha256', k).update(s).digest();
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const rid = () => crypto.randomUUID();

function canonicalUri(path) {
  // Non-S3 services normalise and encode each segment twice; our paths have no escapes.
  return path.split('/').map((seg) => enc(enc(decodeURIComponent(seg)))).join('/') || '/';
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

// Answers an error in the service's own shape.
function fail(res, service, status, code, message) {
  if (service === 'sns') {
    const body = `<ErrorResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/">\n  <Error>\n    <Type>Sender</Type>\n` +
      `    <Code>${code}</Code>\n    <Message>${message}</Message>\n  </Error>\n  <RequestId>${rid()}</RequestId>\n</ErrorResponse>\n`;
    res.writeHead(status, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': rid() });
    return res.end(body);
  }
  res.writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-RequestId': rid(),
    'x-amzn-ErrorType': `${code}:http://internal.amazon.com/coral/com.amazon.coral.service/` });
  return res.end(JSON.stringify({ message }));
}

// The service of a correctly signed request, or null after answering the error.
function verify(req, body, res) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  const guess = req.url.startsWith('/v2/') ? 'ses' : 'sns';
  if (!m) {
    fail(res, guess, auth ? 400 : 403, auth ? 'IncompleteSignature' : 'MissingAuthenticationToken',
      auth ? 'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.' :
        'Request is missing Authentication Token');
    return null;
  }
  const [, keyId, day, region, service, signedHeaders, signature] = m;
  if (service !== guess) { fail(res, guess, 403, 'InvalidSignatureException', `Credential should be scoped to correct service: '${guess}'.`); return null; }
  const secret = KEYS[keyId];
  if (!secret) {
    fail(res, service, 403, service === 'sns' ? 'InvalidClientTokenId' : 'UnrecognizedClientException',
      'The security token included in the request is invalid.');
    return null;
  }
  if (region !== REGION) { fail(res, service, 403, 'SignatureDoesNotMatch', `Credential should be scoped to a valid region, not '${region}'.`); return null; }
  const amzDate = req.headers['x-amz-date'] || '';
  const t = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(amzDate);
  if (!t || amzDate.slice(0, 8) !== day) { fail(res, service, 400, 'IncompleteSignature', 'X-Amz-Date is missing or malformed'); return null; }
  const when = Date.UTC(+t[1], +t[2] - 1, +t[3], +t[4], +t[5], +t[6]);
  if (Math.abs(Date.now() - when) > 5 * 60 * 1000) { fail(res, service, 403, 'SignatureDoesNotMatch', 'Signature expired'); return null; }
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) { fail(res, service, 403, 'SignatureDoesNotMatch', 'host and x-amz-date must be signed'); return null; }
  const payloadHash = req.headers['x-amz-content-sha256'] || sha256(body);
  const [path, query] = req.url.split('?');
  const headers = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const creq = [req.method, canonicalUri(path), canonicalQuery(query), headers, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const sts = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(creq)].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4' + secret, day), region), service), 'aws4_request');
  const want = hmac(key, sts).toString('hex');
  if (!crypto.timingSafeEqual(Buffer.from(want), Buffer.from(signature))) {
    fail(res, service, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you ' +
      'provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
    return null;
  }
  return service;
}

function json(res, status, obj) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-RequestId': rid() });
  res.end(JSON.stringify(obj));
}

function ses(req, body, res) {
  if (req.method === 'GET' && req.url === '/v2/email/account')
    return json(res, 200, { DedicatedIpAutoWarmupEnabled: false, EnforcementStatus: 'HEALTHY', ProductionAccessEnabled: true,
      SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: emails.length }, SendingEnabled: true });
  if (req.method !== 'POST' || req.url !== '/v2/email/outbound-emails')
    return fail(res, 'ses', 404, 'NotFoundException', 'Not Found');
  let m, to, subject, text;
  try {
    m = JSON.parse(body.toString());
    to = m.Destination.ToAddresses;
    subject = m.Content.Simple.Subject.Data;
    text = m.Content.Simple.Body.Text.Data;
    if (!Array.isArray(to) || !to.length || typeof m.FromEmailAddress !== 'string' || !subject || !text) throw new Error();
  } catch (e) {
    return fail(res, 'ses', 400, 'BadRequestException', 'Missing required request parameters: [FromEmailAddress, Destination, Content]');
  }
  if (!VERIFIED.has(m.FromEmailAddress))
    return fail(res, 'ses', 400, 'MessageRejected', 'Email address is not verified. The following identities failed ' +
      `the check in region ${REGION.toUpperCase()}: ${m.FromEmailAddress}`);
  const id = `0102018c${crypto.randomBytes(12).toString('hex')}-000000`;
  emails.push({ id, from: m.FromEmailAddress, to, subject, text });
  return json(res, 200, { MessageId: id });
}

function sns(req, body, res) {
  const f = new URLSearchParams(body.toString());
  if (req.method !== 'POST' || req.url !== '/' || f.get('Version') !== '2010-03-31')
    return fail(res, 'sns', 400, 'InvalidAction', 'Could not find operation for this request');
  if (f.get('Action') === 'GetSMSAttributes') {
    res.writeHead(200, { 'Content-Type': 'text/xml' });
    return res.end('<GetSMSAttributesResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/">\n  <GetSMSAttributesResult>\n' +
      '    <attributes/>\n  </GetSMSAttributesResult>\n  <ResponseMetadata>\n' +
      `    <RequestId>${rid()}</RequestId>\n  </ResponseMetadata>\n</GetSMSAttributesResponse>\n`);
  }
  if (f.get('Action') !== 'Publish') return fail(res, 'sns', 400, 'InvalidAction', `The action ${f.get('Action')} is not valid for this web service.`);
  const phone = f.get('PhoneNumber') || '', message = f.get('Message') || '';
  if (!message) return fail(res, 'sns', 400, 'ValidationError', '1 validation error detected: Value null at \'message\' failed to satisfy constraint: Member must not be null');
  if (!/^\+[1-9]\d{6,14}$/.test(phone) || phone.startsWith('+1555'))
    return fail(res, 'sns', 400, 'InvalidParameter', `Invalid parameter: PhoneNumber Reason: ${phone} is not valid to publish to`);
  const id = crypto.randomUUID();
  sms.push({ id, to: phone, message });
  res.writeHead(200, { 'Content-Type': 'text/xml' });
  return res.end('<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/">\n  <PublishResult>\n' +
    `    <MessageId>${id}</MessageId>\n  </PublishResult>\n  <ResponseMetadata>\n    <RequestId>${rid()}</RequestId>\n` +
    '  </ResponseMetadata>\n</PublishResponse>\n');
}

http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => { size += c.length; if (size <= 1 << 20) chunks.push(c); });
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.url === '/_fake/state') return json(res, 200, { region: REGION });
    if (req.url === '/_fake/emails') return json(res, 200, emails);
    if (req.url === '/_fake/sms') return json(res, 200, sms);
    const service = verify(req, body, res);
    if (service === 'ses') return ses(req, body, res);
    if (service === 'sns') return sns(req, body, res);
  });
}).listen(port, '127.0.0.1', () => console.error(`fake AWS (SES v2, SNS) on 127.0.0.1:${port}`));
