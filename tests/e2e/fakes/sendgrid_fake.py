"""A fake SendGrid speaking the v3 shapes Switchboard uses (Python's http.server):

  POST /v3/mail/send  Authorization: Bearer <API key>; JSON {personalizations: [{to:
                      [{email}]}], from: {email}, subject, content: [{type, value}]};
                      202 with an empty body and X-Message-Id; 401 for an unknown key,
                      403 for a from address that is not a verified sender, 400 for a
                      malformed body, each {"errors": [{"message", "field", "help"}]}
  GET  /v3/scopes     the key's scopes, 401 for an unknown key
  GET  /_fake/state, GET /_fake/messages  for the tests

Valid key: SG.e2e-valid-key.secret-part; verified sender: switchboard@example.org."""

import json
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEYS = {"SG.e2e-valid-key.secret-part": ["mail.send", "user.profile.read"]}
SENDERS = {"switchboard@example.org"}
LOCK = threading.Lock()
MESSAGES = []


def errors(*items):
    return {"errors": [{"message": m, "field": f, "help": None} for m, f in items]}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=()):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def key(self):
        auth = self.headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") and auth[7:] in KEYS else None

    def do_GET(self):
        if self.path == "/_fake/state":
            return self.reply(200, {"ok": True})
        if self.path == "/_fake/messages":
            with LOCK:
                return self.reply(200, MESSAGES)
        if self.path == "/v3/scopes":
            k = self.key()
            if not k:
                return self.reply(401, errors(("authorization required", None)))
            return self.reply(200, {"scopes": KEYS[k]})
        self.reply(404, errors(("not found", None)))

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        if self.path != "/v3/mail/send":
            return self.reply(404, errors(("not found", None)))
        if not self.key():
            return self.reply(401, errors(("The provided authorization grant is invalid, expired, or revoked", None)))
        try:
            m = json.loads(raw)
            to = m["personalizations"][0]["to"][0]["email"]
            sender = m["from"]["email"]
            content = m["content"][0]
            assert content["type"] == "text/plain" and content["value"] and m["subject"]
        except (ValueError, KeyError, IndexError, TypeError, AssertionError):
            return self.reply(400, errors(("The request body is not a valid Mail Send request", "personalizations")))
        if sender not in SENDERS:
            return self.reply(403, errors(("The from address does not match a verified Sender Identity. Mail cannot "
                                           "be sent until this error is resolved.", "from")))
        mid = secrets.token_urlsafe(16)
        with LOCK:
            MESSAGES.append({"id": mid, "to": to, "from": sender, "subject": m["subject"], "text": content["value"]})
        self.reply(202, None, [("X-Message-Id", mid)])


if __name__ == "__main__":
    port = int(sys.argv[1])
    print(f"fake SendGrid on 127.0.0.1:{port}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
