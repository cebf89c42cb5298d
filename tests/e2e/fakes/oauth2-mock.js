// A real OAuth2 / OpenID server on loopback (npm oauth2-mock-server) standing in for
// "any OAuth2 provider from the providers file" (tests/e2e/fakes/providers-test.json).
// Userinfo carries an email so sign-in works; revocations are appended, one JSON line
// each, to the file named by the second argument so tests can count them.
// usage: node oauth2-mock.js PORT EVENTS_FILE
const fs = require('fs');
const { OAuth2Server } = require('oauth2-mock-server');

const port = Number(process.argv[2]);
const events = process.argv[3];

(async () => {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  server.service.on('beforeUserinfo', (userInfoResponse) => {
    userInfoResponse.body = {
      sub: 'mock-user-1',
      preferred_username: 'mockuser',
      email: 'mockuser@example.org',
      email_verified: true,
      name: 'Mock User',
      picture: 'https://example.org/mock.png',
    };
  });
  server.service.on('beforeRevoke', (revokeResponse, req) => {
    fs.appendFileSync(events, JSON.stringify({ event: 'revoke', token: (req.body || {}).token || null }) + '\n');
  });
  server.service.on('beforeResponse', (tokenResponse, req) => {
    fs.appendFileSync(events, JSON.stringify({ event: 'token', grant_type: (req.body || {}).grant_type }) + '\n');
  });
  await server.start(port, '127.0.0.1');
  console.error(`oauth2-mock-server on 127.0.0.1:${port}`);
})();
