#!/usr/bin/env python3
"""A fake Blynk server on loopback (Python's http.server, no pip), speaking the Blynk IoT
HTTP "external API" Switchboard uses:
  GET /external/api/isHardwareConnected?token=T  -> 200 "true" | "false"
  GET /external/api/update?token=T&V1=value      -> 200, empty body (the write is recorded)
  GET /external/api/get?token=T&V1               -> 200 the pin's value
an unknown token -> 400 {"error":{"message":"Invalid token."}}.
Control API (tests): POST /_fake/devices {token, online?, mode?} creates or changes a
device (mode "ok", "hang": answers after 15 s, "error": 500); GET /_fake/writes/<token>
lists the writes recorded for a token; GET /_fake/state counts requests."""

import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakebase import LOCK, serve  # noqa: E402

PIN = re.compile(r"^[Vv](\d{1,3})$")


def send_text(h, status, text):
    data = text.encode()
    h.send_response(status)
    h.send_header("Content-Type", "text/plain; charset=utf-8")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


class BlynkFake:
    def __init__(self):
        self.devices = {}  # token -> {"online", "mode", "pins"}
        self.writes = {}   # token -> [{"pin", "value"}]
        self.log = []
        self.counters = {}

    def count(self, name):
        with LOCK:
            self.counters[name] = self.counters.get(name, 0) + 1

    def control(self, h, method, path, body):
        parts = path.strip("/").split("/")[1:]
        if method == "GET" and parts == ["state"]:
            with LOCK:
                return h.send_json(200, {"counters": self.counters, "devices": len(self.devices)})
        if method == "POST" and parts == ["devices"]:
            body = body or {}
            token = body.get("token")
            if not token:
                return h.send_json(400, {"message": "token is required"})
            with LOCK:
                d = self.devices.setdefault(token, {"online": False, "mode": "ok", "pins": {}})
                for k in ("online", "mode"):
                    if k in body:
                        d[k] = body[k]
                return h.send_json(200, {"online": d["online"], "mode": d["mode"]})
        if method == "GET" and len(parts) == 2 and parts[0] == "writes":
            with LOCK:
                return h.send_json(200, list(self.writes.get(parts[1], [])))
        return h.send_json(404, {"message": "no such control"})

    def route(self, h, method, path, query, body, raw):
        if method != "GET" or not path.startswith("/external/api/"):
            return h.send_json(404, {"error": {"message": "Not found."}})
        endpoint = path[len("/external/api/"):]
        self.count(endpoint)
        with LOCK:
            d = self.devices.get(query.get("token", ""))
        if d is None:
            return h.send_json(400, {"error": {"message": "Invalid token."}})
        if d["mode"] == "hang":
            time.sleep(15)
        if d["mode"] == "error":
            return h.send_json(500, {"error": {"message": "Internal server error."}})
        if endpoint == "isHardwareConnected":
            return send_text(h, 200, "true" if d["online"] else "false")
        pins = [(int(m.group(1)), v) for k, v in query.items() if (m := PIN.match(k))]
        if not pins or any(p > 255 for p, _ in pins):
            return h.send_json(400, {"error": {"message": "Wrong pin format."}})
        if endpoint == "update":
            with LOCK:
                for p, v in pins:
                    d["pins"][p] = v
                    self.writes.setdefault(query["token"], []).append({"pin": f"V{p}", "value": v})
            return send_text(h, 200, "")
        if endpoint == "get":
            with LOCK:
                value = d["pins"].get(pins[0][0])
            if value is None:
                return h.send_json(400, {"error": {"message": "Requested pin doesn't exist in the app."}})
            return send_text(h, 200, value)
        return h.send_json(404, {"error": {"message": "Not found."}})


if __name__ == "__main__":
    threading.current_thread().name = "blynk-fake"
    serve(BlynkFake(), int(sys.argv[1]))
