"""A real SMTP server for the end-to-end stack: Debian's python3-aiosmtpd on loopback.

Listeners (all on 127.0.0.1 unless said):
  SB_SMTP_PORT            STARTTLS required, AUTH required (after TLS), certificate of the
                          stack's dev CA (CN/SAN localhost, 127.0.0.1)
  SB_SMTP_PORT on 127.0.0.2  the same certificate under an address it does not name
                          (the host-name mismatch case)
  SB_SMTPS_PORT           implicit TLS, same certificate and credentials
  SB_SMTP_UNTRUSTED_PORT  STARTTLS with a self-signed certificate nobody trusts
  SB_SMTP_HTTP_PORT       HTTP for the tests: GET /messages (every message received, as
                          {mail_from, rcpt_tos, data, auth_user, port}), GET /_fake/state

The credentials come from $SB_VAR/smtp/credentials (SMTP_USER=, SMTP_PASSWORD=)."""

import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LOCK = threading.Lock()
MESSAGES = []


def read_creds(path):
    out = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                out[k] = v
    return out


class Handler:
    def __init__(self, port):
        self.port = port

    async def handle_DATA(self, server, session, envelope):
        user = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        with LOCK:
            MESSAGES.append({"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                             "data": envelope.content.decode("utf-8", "replace"), "auth_user": user,
                             "port": self.port, "received_at": time.time()})
        return "250 Message accepted for delivery"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return check


def tls(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


class Http(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/messages"):
            with LOCK:
                body = json.dumps(MESSAGES).encode()
        elif self.path.startswith("/_fake/state"):
            body = b'{"ok": true}'
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    var, mq = os.environ["SB_VAR"], os.path.join(os.environ["SB_VAR"], "mosquitto")
    creds = read_creds(os.path.join(var, "smtp", "credentials"))
    auth = authenticator(creds["SMTP_USER"], creds["SMTP_PASSWORD"])
    trusted = tls(os.path.join(mq, "server.crt"), os.path.join(mq, "server.key"))
    untrusted = tls(os.path.join(mq, "untrusted.crt"), os.path.join(mq, "untrusted.key"))
    port = int(os.environ["SB_SMTP_PORT"])
    common = {"authenticator": auth, "auth_required": True, "auth_require_tls": True}
    servers = [
        Controller(Handler(port), hostname="127.0.0.1", port=port, tls_context=trusted, require_starttls=True, **common),
        Controller(Handler(port), hostname="127.0.0.2", port=port, tls_context=trusted, require_starttls=True, **common),
        Controller(Handler(int(os.environ["SB_SMTPS_PORT"])), hostname="127.0.0.1",
                   port=int(os.environ["SB_SMTPS_PORT"]), ssl_context=trusted,
                   # aiosmtpd 1.4 counts only STARTTLS as TLS for auth_require_tls; this
                   # listener is TLS from the first byte.
                   **{**common, "auth_require_tls": False}),
        Controller(Handler(int(os.environ["SB_SMTP_UNTRUSTED_PORT"])), hostname="127.0.0.1",
                   port=int(os.environ["SB_SMTP_UNTRUSTED_PORT"]), tls_context=untrusted, require_starttls=True,
                   **common),
    ]
    for s in servers:
        s.start()
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Http).serve_forever()


if __name__ == "__main__":
    main()
