"""Shared machinery of the fake OAuth providers (Python's http.server, no pip): an
authorization endpoint that approves at once (or denies), a token endpoint with PKCE
S256 and refresh, bearer checks, per-user knobs, and a /_fake control API the tests
use to set users up and read counters. Each fake speaks its provider's real shapes."""

import base64
import hashlib
import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.RLock()


def s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class Fake:
    """OAuth server state. Subclasses fill in the provider's profile shapes."""

    client_id = "test-client"
    client_secret = "test-secret"

    def __init__(self):
        self.codes = {}     # code -> dict(user, challenge, redirect_uri, scope)
        self.access = {}    # access token -> user login
        self.refresh = {}   # refresh token -> user login
        self.users = {}     # login -> dict of knobs and profile
        self.counters = {}  # name -> int, and "name:login" -> int
        self.log = []       # (method, path) of every request

    def count(self, name, login=None):
        with LOCK:
            self.counters[name] = self.counters.get(name, 0) + 1
            if login:
                key = f"{name}:{login}"
                self.counters[key] = self.counters.get(key, 0) + 1

    def user(self, login):
        with LOCK:
            if login not in self.users:
                uid = int(hashlib.sha256(login.encode()).hexdigest()[:8], 16)
                self.users[login] = {
                    "login": login, "id": uid, "email": f"{login}@example.com", "verified": True,
                    "name": login.title(), "refresh_mode": "ok", "refresh_delay": 0.0,
                    "expires_in": 28800, "rotate_refresh": True, "issue_refresh": True,
                    "exchange_mode": "ok", "revoke_mode": "ok",
                }
            return self.users[login]

    def issue(self, login, scope):
        u = self.user(login)
        at = "at_" + secrets.token_urlsafe(24)
        body = {"access_token": at, "token_type": "bearer", "scope": scope}
        with LOCK:
            self.access[at] = login
        if u["expires_in"]:
            body["expires_in"] = u["expires_in"]
        if u["issue_refresh"]:
            rt = "rt_" + secrets.token_urlsafe(24)
            with LOCK:
                self.refresh[rt] = login
            body["refresh_token"] = rt
        return body

    # Subclasses override these to speak the provider's error shapes.
    def token_error(self, h, error, description):
        h.send_json(400, {"error": error, "error_description": description})

    def token_endpoint(self, h, form):
        grant = form.get("grant_type")
        cid, csecret = form.get("client_id"), form.get("client_secret")
        auth = h.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            cid, csecret = base64.b64decode(auth[6:]).decode().split(":", 1)
        if cid != self.client_id or csecret != self.client_secret:
            return self.token_error(h, "invalid_client", "bad client credentials")
        if grant == "authorization_code":
            with LOCK:
                c = self.codes.pop(form.get("code", ""), None)
            if not c:
                return self.token_error(h, "invalid_grant", "unknown or used code")
            if c["redirect_uri"] != form.get("redirect_uri"):
                return self.token_error(h, "invalid_grant", "redirect_uri mismatch")
            if c["challenge"] and s256(form.get("code_verifier", "")) != c["challenge"]:
                return self.token_error(h, "invalid_grant", "PKCE verification failed")
            if self.user(c["user"]).get("exchange_mode") == "down":
                return h.send_json(503, {"message": "unavailable"})
            self.count("token_exchanges", c["user"])
            return h.send_json(200, self.issue(c["user"], c["scope"]))
        if grant == "refresh_token":
            rt = form.get("refresh_token", "")
            with LOCK:
                login = self.refresh.get(rt)
            if not login:
                self.count("refresh_refused")
                return self.token_error(h, "invalid_grant", "unknown refresh token")
            u = self.user(login)
            self.count("refreshes", login)
            if u["refresh_delay"]:
                time.sleep(u["refresh_delay"])
            if u["refresh_mode"] == "refuse":
                return self.token_error(h, "invalid_grant", "refresh token revoked")
            if u["refresh_mode"] == "down":
                return h.send_json(503, {"message": "unavailable"})
            body = self.issue(login, "refreshed")
            body.pop("scope")
            if not u["rotate_refresh"]:
                body.pop("refresh_token", None)
            else:
                with LOCK:
                    self.refresh.pop(rt, None)
            return h.send_json(200, body)
        return self.token_error(h, "unsupported_grant_type", grant or "none")

    def authorize(self, h, q):
        redirect = q.get("redirect_uri")
        state = q.get("state")
        params = {}
        if q.get("client_id") != self.client_id:
            return h.send_json(400, {"error": "invalid client_id"})
        if q.get("deny"):
            params["error"] = "access_denied"
            params["error_description"] = "The user has denied your application access."
        else:
            code = secrets.token_urlsafe(16)
            if q.get("code_challenge") and q.get("code_challenge_method") != "S256":
                return h.send_json(400, {"error": "only S256"})
            with LOCK:
                self.codes[code] = {"user": q.get("fake_user", "octocat"), "challenge": q.get("code_challenge"),
                                    "redirect_uri": redirect, "scope": q.get("scope", "")}
            params["code"] = code
        if state is not None:
            params["state"] = state
        sep = "&" if "?" in redirect else "?"
        h.send_response(302)
        h.send_header("Location", redirect + sep + urllib.parse.urlencode(params))
        h.send_header("Content-Length", "0")
        h.end_headers()

    def bearer_user(self, h):
        auth = h.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer "):
            return None
        with LOCK:
            login = self.access.get(auth[7:])
        return self.user(login) if login else None

    def control(self, h, method, path, body):
        parts = path.strip("/").split("/")[1:]
        if method == "GET" and parts == ["state"]:
            with LOCK:
                return h.send_json(200, {"counters": self.counters, "users": self.users,
                                         "access_tokens": len(self.access)})
        if method == "POST" and len(parts) == 2 and parts[0] == "users":
            u = self.user(parts[1])
            with LOCK:
                u.update(body or {})
            return h.send_json(200, u)
        if method == "POST" and len(parts) == 2 and parts[0] == "revoke-access":
            # Forget every access token of a user (the provider revoked them).
            with LOCK:
                for t in [t for t, l in self.access.items() if l == parts[1]]:
                    del self.access[t]
            return h.send_json(200, {})
        return self.extra_control(h, method, parts, body)

    def extra_control(self, h, method, parts, body):
        h.send_json(404, {"message": "no such control"})

    def route(self, h, method, path, query, body, raw):
        h.send_json(404, {"message": "Not Found"})


class Handler(BaseHTTPRequestHandler):
    fake = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet; errors still go to stderr
        pass

    def send_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(status)
        if obj is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        ctype = self.headers.get("Content-Type", "")
        body = None
        if raw and ctype.startswith("application/json"):
            try:
                body = json.loads(raw)
            except ValueError:
                return self.send_json(400, {"message": "Problems parsing JSON"})
        elif raw and ctype.startswith("application/x-www-form-urlencoded"):
            body = dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
        with LOCK:
            self.fake.log.append((method, url.path))
        try:
            if url.path.startswith("/_fake/"):
                return self.fake.control(self, method, url.path, body)
            return self.fake.route(self, method, url.path, query, body, raw)
        except Exception as e:  # a fake bug must show, not hang the test
            import traceback
            traceback.print_exc()
            return self.send_json(500, {"message": f"fake error: {e}"})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PUT(self):
        self.handle_any("PUT")


def serve(fake, port):
    Handler.fake = fake
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    print(f"fake {type(fake).__name__} on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    srv.serve_forever()
