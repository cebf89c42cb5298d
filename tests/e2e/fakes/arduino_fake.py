#!/usr/bin/env python3
"""A fake Arduino IoT Cloud on loopback: the client_credentials token endpoint
(POST /iot/v1/clients/token, form grant_type, client_id, client_secret, audience) and
the v2 lists Switchboard reads (GET /iot/v2/devices, GET /iot/v2/things, Bearer token),
in the real API's shapes. Each API client (client_id) has its own devices, things and
knobs, so tests do not disturb each other.

Control API (/_fake):
  GET  /_fake/state                   counters
  POST /_fake/clients                 {client_id, client_secret, devices?, things?, expires_in?}
  POST /_fake/clients/{id}/mode       {token: ok|refuse|hang|error, api: ok|hang|error|unauthorized}
  GET  /_fake/clients/{id}            the client, with its request counters

usage: arduino_fake.py PORT"""

import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.RLock()
AUDIENCE = "https://api2.arduino.cc/iot"
HANG_SECONDS = 12

clients = {}   # client_id -> dict
tokens = {}    # access token -> (client_id, expires_at)
counters = {}


def count(name, cid=None):
    with LOCK:
        counters[name] = counters.get(name, 0) + 1
        if cid in clients:
            c = clients[cid]["counters"]
            c[name] = c.get(name, 0) + 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # no request bodies or secrets in the log
        sys.stderr.write("arduino-fake %s %s\n" % (self.command, self.path.split("?")[0]))

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def hang(self):
        time.sleep(HANG_SECONDS)
        try:
            self.send_json(504, {"error": "slow"})
        except OSError:
            pass

    # --- control ------------------------------------------------------------------------
    def control(self, method, parts):
        raw = self.body()
        body = json.loads(raw) if raw else {}
        if method == "GET" and parts == ["state"]:
            with LOCK:
                return self.send_json(200, {"counters": dict(counters), "clients": len(clients)})
        if method == "POST" and parts == ["clients"]:
            with LOCK:
                clients[body["client_id"]] = {
                    "client_id": body["client_id"], "client_secret": body["client_secret"],
                    "devices": body.get("devices", []), "things": body.get("things", []),
                    "expires_in": int(body.get("expires_in", 300)), "token_mode": "ok", "api_mode": "ok",
                    "counters": {}, "last_form": None,
                }
            return self.send_json(201, {"client_id": body["client_id"]})
        if len(parts) >= 2 and parts[0] == "clients":
            with LOCK:
                c = clients.get(parts[1])
                if not c:
                    return self.send_json(404, {"error": "no such client"})
                if method == "POST" and parts[2:] == ["mode"]:
                    if "token" in body:
                        c["token_mode"] = body["token"]
                    if "api" in body:
                        c["api_mode"] = body["api"]
                    if "devices" in body:
                        c["devices"] = body["devices"]
                    if "things" in body:
                        c["things"] = body["things"]
                    if "expire_tokens" in body:
                        for t, (cid, _) in list(tokens.items()):
                            if cid == c["client_id"]:
                                tokens[t] = (cid, 0)
                    return self.send_json(200, {})
                if method == "GET" and parts[2:] == []:
                    out = {k: v for k, v in c.items() if k != "client_secret"}
                    return self.send_json(200, out)
        return self.send_json(404, {"error": "unknown control route"})

    # --- the Arduino API ----------------------------------------------------------------
    def token(self):
        form = urllib.parse.parse_qs(self.body().decode(), keep_blank_values=True)
        get = lambda k: (form.get(k) or [None])[0]
        cid = get("client_id")
        count("token", cid)
        with LOCK:
            c = clients.get(cid)
            if c:
                c["last_form"] = {k: (v if k != "client_secret" else "***") for k, v in
                                  ((k, get(k)) for k in form)}
            mode = c["token_mode"] if c else "ok"
        if mode == "hang":
            return self.hang()
        if mode == "error":
            return self.send_json(503, {"error": "unavailable"})
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != "application/x-www-form-urlencoded" or get("grant_type") != "client_credentials":
            return self.send_json(400, {"error": "unsupported_grant_type"})
        if get("audience") != AUDIENCE:
            return self.send_json(400, {"error": "invalid_request", "error_description": "bad audience"})
        if not c or mode == "refuse" or get("client_secret") != c["client_secret"]:
            return self.send_json(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        at = "ard_" + secrets.token_urlsafe(24)
        with LOCK:
            tokens[at] = (cid, time.time() + c["expires_in"])
        return self.send_json(200, {"access_token": at, "token_type": "Bearer", "expires_in": c["expires_in"]})

    def api(self, what):
        auth = self.headers.get("Authorization") or ""
        at = auth[7:] if auth.startswith("Bearer ") else None
        with LOCK:
            cid, exp = tokens.get(at, (None, 0))
            c = clients.get(cid)
        count(what, cid)
        if c and c["api_mode"] == "hang":
            return self.hang()
        if c and c["api_mode"] == "error":
            return self.send_json(500, {"error": "internal"})
        if not c or exp < time.time() or c["api_mode"] == "unauthorized":
            return self.send_json(401, {"code": "unauthorized", "detail": "invalid token"})
        with LOCK:
            return self.send_json(200, list(c[what]))

    def route(self, method):
        path = urllib.parse.urlsplit(self.path).path
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["_fake"]:
            return self.control(method, parts[1:])
        if method == "POST" and path == "/iot/v1/clients/token":
            return self.token()
        if method == "GET" and path in ("/iot/v2/devices", "/iot/v2/things"):
            self.body()
            return self.api(parts[-1])
        self.body()
        return self.send_json(404, {"code": "not_found"})

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
