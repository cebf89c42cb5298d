#!/usr/bin/env python3
"""A fake Arduino IoT Cloud on loopback: the client_credentials token endpoint
(POST /iot/v1/clients/token, form grant_type, client_id, client_secret, audience) and
the v2 lists Switchboard reads (GET /iot/v2/devices, GET /iot/v2/things, Bearer token),
and over-the-air updates, in the real API's shapes (arduino/iot-client-go's
DevicesV2OtaUpload and arduino/arduino-cloud-cli's internal/ota-api):
  POST /iot/v2/devices/{id}/ota  multipart/form-data: ota_file (the .ota file, its 20-byte
       header's length and CRC32 checked), async, expire_in_mins -> 200
       ArduinoDevicev2Otaupload {file_sha, ota_id, ota_version, status}; a device of
       another client is 404, an OTA already running for the device 409, errors
       application/vnd.goa.error+json {id, code, status, detail}
  GET  /ota/v1/ota/{ota_id} -> {ota: Ota, states: [State]}
  GET  /ota/v1/ota?device_id=&limit=&order= -> {ota: [Ota]}
Organizations as arduino-cloud-cli uses them: the token request may carry organization_id
(one of the client's organizations, else 401 invalid_client), and every call names the
space in X-Organization: with it, the lists and OTAs are those of that organization (it
must be the token's organization: 403 otherwise); without it, the personal space. Each API client (client_id) has its own devices, things and
knobs, so tests do not disturb each other.

Control API (/_fake):
  GET  /_fake/state                   counters
  POST /_fake/clients                 {client_id, client_secret, devices?, things?, expires_in?,
                                       organizations?: {org_id: {devices, things}}}
  POST /_fake/clients/{id}/mode       {token: ok|refuse|hang|error, api: ok|hang|error|unauthorized,
                                       ota: ok|error|reject (500 / 412 to the upload)}
  POST /_fake/clients/{id}/otas/{ota} {status, error_reason?, states?}: the device's progress
  GET  /_fake/clients/{id}            the client, with its request counters and ota_uploads

usage: arduino_fake.py PORT"""

import binascii
import email.parser
import email.policy
import hashlib
import json
import secrets
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.RLock()
AUDIENCE = "https://api2.arduino.cc/iot"
HANG_SECONDS = 12

clients = {}   # client_id -> dict
tokens = {}    # access token -> (client_id, expires_at)
token_orgs = {}  # access token -> organization_id it was issued for, or None
counters = {}


def count(name, cid=None):
    with LOCK:
        counters[name] = counters.get(name, 0) + 1
        if cid in clients:
            c = clients[cid]["counters"]
            c[name] = c.get(name, 0) + 1


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def goa_error(status, code, detail):
    return {"id": secrets.token_hex(4), "code": code, "status": status, "detail": detail}


def ota_header_ok(data):
    """The OTA header of arduino-cloud-cli's internal/ota: LENGTH (LE32, the bytes after
    the CRC) | CRC32 (IEEE, of those bytes) | MAGIC | VERSION | payload."""
    if len(data) <= 20:
        return False
    length = int.from_bytes(data[0:4], "little")
    crc = int.from_bytes(data[4:8], "little")
    return length == len(data) - 8 and crc == binascii.crc32(data[8:]) & 0xFFFFFFFF


def multipart(ctype, raw):
    """{name: (filename, content type, bytes)} of a multipart/form-data body, or None."""
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
    if not msg.is_multipart():
        return None
    out = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        out[name] = (part.get_filename(), part.get_content_type(), part.get_payload(decode=True) or b"")
    return out


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
                    "counters": {}, "last_form": None, "ota_mode": "ok", "otas": {}, "ota_uploads": [],
                    "organizations": body.get("organizations", {}), "x_organization": [],
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
                    if "ota" in body:
                        c["ota_mode"] = body["ota"]
                    if "expire_tokens" in body:
                        for t, (cid, _) in list(tokens.items()):
                            if cid == c["client_id"]:
                                tokens[t] = (cid, 0)
                    return self.send_json(200, {})
                if method == "POST" and len(parts) == 4 and parts[2] == "otas" and parts[3] in c["otas"]:
                    o = c["otas"][parts[3]]
                    o["ota"]["status"] = body["status"]
                    if body.get("error_reason"):
                        o["ota"]["error_reason"] = body["error_reason"]
                    if body["status"] in ("succeeded", "failed", "cancelled"):
                        o["ota"]["ended_at"] = now()
                    for st in body.get("states", []):
                        o["states"].append({"ota_id": parts[3], "state": st["state"],
                                            "state_data": st.get("state_data", ""), "timestamp": now()})
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
        org = get("organization_id")
        if org is not None and org not in c["organizations"]:
            return self.send_json(401, {"error": "invalid_client", "error_description": "unknown organization"})
        at = "ard_" + secrets.token_urlsafe(24)
        with LOCK:
            tokens[at] = (cid, time.time() + c["expires_in"])
            token_orgs[at] = org
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
        space = self.space(c, at)
        if space is None:
            return self.send_json(403, {"code": "forbidden", "detail": "organization not allowed for this token"})
        with LOCK:
            return self.send_json(200, list(space[what]))

    def space(self, c, at):
        """The devices and things X-Organization names (recorded), or None when the token
        was not issued for that organization."""
        org = self.headers.get("X-Organization")
        with LOCK:
            c["x_organization"].append(org)
            if org is None:
                return c
            if token_orgs.get(at) != org or org not in c["organizations"]:
                return None
            return c["organizations"][org]

    def client_of_token(self):
        auth = self.headers.get("Authorization") or ""
        at = auth[7:] if auth.startswith("Bearer ") else None
        with LOCK:
            cid, exp = tokens.get(at, (None, 0))
            c = clients.get(cid)
        if not c or exp < time.time() or c["api_mode"] == "unauthorized":
            return None
        space = self.space(c, at)
        if space is None:
            return None
        return c, space

    def ota_upload(self, device_id):
        raw = self.body()
        found = self.client_of_token()
        c, space = found if found else (None, None)
        count("ota_upload", c["client_id"] if c else None)
        if not c:
            return self.send_json(401, goa_error(401, "unauthorized", "invalid token"))
        if c["ota_mode"] == "error":
            return self.send_json(500, goa_error(500, "internal", "OTA service unavailable"))
        if device_id not in [d.get("id") for d in space["devices"]]:
            return self.send_json(404, goa_error(404, "not_found", "device not found"))
        ctype = self.headers.get("Content-Type") or ""
        parts = multipart(ctype, raw) if ctype.startswith("multipart/form-data") else None
        if not parts or "ota_file" not in parts or not parts["ota_file"][0]:
            return self.send_json(400, goa_error(400, "bad_request", "ota_file is required"))
        data = parts["ota_file"][2]
        try:
            expire = int(parts.get("expire_in_mins", (None, None, b"10"))[2])
        except ValueError:
            return self.send_json(400, goa_error(400, "bad_request", "expire_in_mins must be an integer"))
        if not ota_header_ok(data):
            return self.send_json(400, goa_error(400, "bad_request", "invalid ota file header"))
        if c["ota_mode"] == "reject":
            return self.send_json(412, goa_error(412, "precondition_failed", "device does not support OTA"))
        with LOCK:
            if any(o["ota"]["device_id"] == device_id and o["ota"]["status"] in ("pending", "in_progress")
                   for o in c["otas"].values()):
                return self.send_json(409, goa_error(409, "conflict", "an OTA is already in progress"))
            oid = str(uuid.uuid4())
            sha = hashlib.sha256(data).hexdigest()
            c["otas"][oid] = {"ota": {"id": oid, "device_id": device_id, "status": "pending", "started_at": now(),
                                      "firmware_size": len(data) - 20, "max_retries": 3, "retry_attempt": 0},
                              "states": []}
            c["ota_uploads"].append({"device_id": device_id, "filename": parts["ota_file"][0],
                                     "content_type": parts["ota_file"][1], "size": len(data), "sha256": sha,
                                     "expire_in_mins": expire,
                                     "async": parts.get("async", (None, None, b""))[2].decode()})
        return self.send_json(200, {"file_sha": sha, "ota_id": oid, "ota_version": 2, "status": "pending"})

    def ota_read(self, ota_id, query):
        self.body()
        found = self.client_of_token()
        c, space = found if found else (None, None)
        count("ota_read", c["client_id"] if c else None)
        if not c:
            return self.send_json(401, goa_error(401, "unauthorized", "invalid token"))
        if c["ota_mode"] == "error":
            return self.send_json(500, goa_error(500, "internal", "OTA service unavailable"))
        with LOCK:
            if ota_id:
                o = c["otas"].get(ota_id)
                if not o:
                    return self.send_json(404, goa_error(404, "not_found", "ota not found"))
                return self.send_json(200, json.loads(json.dumps(o)))
            dev = (query.get("device_id") or [None])[0]
            if dev not in [d.get("id") for d in space["devices"]]:
                return self.send_json(404, goa_error(404, "not_found", "device not found"))
            limit = int((query.get("limit") or ["0"])[0])
            order = (query.get("order") or ["desc"])[0]
            otas = sorted((o["ota"] for o in c["otas"].values() if o["ota"]["device_id"] == dev),
                          key=lambda o: o["started_at"], reverse=(order == "desc"))
            if limit > 0:
                otas = otas[:limit]
            return self.send_json(200, {"ota": json.loads(json.dumps(otas))})

    def route(self, method):
        path = urllib.parse.urlsplit(self.path).path
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["_fake"]:
            return self.control(method, parts[1:])
        if method == "POST" and path == "/iot/v1/clients/token":
            return self.token()
        if method == "POST" and len(parts) == 5 and parts[:3] == ["iot", "v2", "devices"] and parts[4] == "ota":
            return self.ota_upload(parts[3])
        if method == "GET" and parts[:3] == ["ota", "v1", "ota"] and len(parts) <= 4:
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            return self.ota_read(parts[3] if len(parts) == 4 else None, q)
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
