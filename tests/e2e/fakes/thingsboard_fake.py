"""A fake ThingsBoard speaking its REST API shapes (Python's http.server), as documented at
thingsboard.io/docs/reference/rest-api/ and in its Swagger (DeviceInfo, PageData):

  POST /api/auth/login {username, password} -> {token, refreshToken}; 401
       {"status": 401, "message": "Authentication failed", "errorCode": 10, "timestamp"}
  every other /api call needs "X-Authorization: Bearer <token>" (401 as above otherwise)
  GET  /api/auth/user -> User {id: {entityType: USER, id}, authority, customerId: {id}, email}
  GET  /api/tenant/deviceInfos?pageSize=&page= (TENANT_ADMIN) and
       /api/customer/{customerId}/deviceInfos?pageSize=&page= -> PageData {data, totalPages,
       totalElements, hasNext} of DeviceInfo {id: {entityType: DEVICE, id}, createdTime, name,
       type, label, deviceProfileName, active, customerId}
  GET  /api/plugins/telemetry/DEVICE/{id}/values/attributes/SERVER_SCOPE?keys=a,b
       -> [{key, value, lastUpdateTs}]
  GET  /api/plugins/telemetry/DEVICE/{id}/values/timeseries -> {key: [{ts, value}]}
  POST /api/plugins/rpc/oneway/{id} {method, params} -> 200, empty body
  POST /api/plugins/telemetry/DEVICE/{id}/SHARED_SCOPE {key: value} -> 200, empty body
  a device the user may not see: 404 {"status": 404, "message": "Requested item wasn't found!",
  "errorCode": 32, "timestamp"}
  GET  /_fake/state, /_fake/rpc, /_fake/attributes  for the tests

Users: tenant@thingsboard.org / tenant-e2e-password (TENANT_ADMIN, every device),
customer@thingsboard.org / customer-e2e-password (CUSTOMER_USER, the customer's devices) and
slow@thingsboard.org / slow-e2e-password, whose login answers only after SLOW_SECONDS."""

import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TENANT, CUSTOMER = "13814000-1dd2-11b2-8080-808080808080", "5a7c9e10-3768-11ee-8f31-b92b1a081d15"
NULL_CUSTOMER = "13814000-1dd2-11b2-8080-808080808080"
USERS = {
    "tenant@thingsboard.org": ("tenant-e2e-password", "TENANT_ADMIN", NULL_CUSTOMER),
    "customer@thingsboard.org": ("customer-e2e-password", "CUSTOMER_USER", CUSTOMER),
    # Logs in only after SLOW_SECONDS: a server that does not answer in time.
    "slow@thingsboard.org": ("slow-e2e-password", "TENANT_ADMIN", NULL_CUSTOMER),
}
SLOW_SECONDS = 5
NOW = int(time.time() * 1000)
DEVICES = [
    {"id": "784f394c-42b6-435a-983c-b7beff2784f9", "name": "Thermostat T1", "type": "thermostat",
     "label": "Hall", "customer": CUSTOMER, "active": True, "last": NOW - 5000,
     "telemetry": {"temperature": [{"ts": NOW - 5000, "value": "21.5"}], "humidity": [{"ts": NOW - 5000,
                                                                                      "value": "40"}]}},
    {"id": "9c1e2d3f-0000-4a5b-8c7d-112233445566", "name": "Pump P1", "type": "pump", "label": None,
     "customer": NULL_CUSTOMER, "active": False, "last": NOW - 86400000,
     "telemetry": {"flow": [{"ts": NOW - 86400000, "value": "0"}]}},
]
LOCK = threading.Lock()
TOKENS = {}
RPC, ATTRIBUTES = [], {}


def tb_error(status, message, code):
    return {"status": status, "message": message, "errorCode": code, "timestamp": int(time.time() * 1000)}


def device_info(d):
    return {"id": {"entityType": "DEVICE", "id": d["id"]}, "createdTime": NOW - 10 ** 9,
            "tenantId": {"entityType": "TENANT", "id": TENANT},
            "customerId": {"entityType": "CUSTOMER", "id": d["customer"]}, "name": d["name"], "type": d["type"],
            "label": d["label"], "deviceProfileName": d["type"], "active": d["active"], "additionalInfo": {}}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def user(self):
        auth = self.headers.get("X-Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        with LOCK:
            return TOKENS.get(auth[7:])

    def visible(self, user, device_id):
        for d in DEVICES:
            if d["id"] == device_id and (user[1] == "TENANT_ADMIN" or d["customer"] == user[2]):
                return d
        return None

    def body(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        parts = u.path.split("/")
        if u.path == "/_fake/state":
            return self.reply(200, {"ok": True})
        if u.path == "/_fake/rpc":
            with LOCK:
                return self.reply(200, RPC)
        if u.path == "/_fake/attributes":
            with LOCK:
                return self.reply(200, ATTRIBUTES)
        user = self.user()
        if not user:
            return self.reply(401, tb_error(401, "Authentication failed", 10))
        if u.path == "/api/auth/user":
            return self.reply(200, {"id": {"entityType": "USER", "id": "44eb93c0-3768-11ee-8f31-b92b1a081d15"},
                                    "authority": user[1], "email": user[0],
                                    "tenantId": {"entityType": "TENANT", "id": TENANT},
                                    "customerId": {"entityType": "CUSTOMER", "id": user[2]}})
        if u.path == "/api/tenant/deviceInfos" and user[1] == "TENANT_ADMIN":
            return self.page(DEVICES, q)
        if len(parts) == 5 and parts[1:3] == ["api", "customer"] and parts[4] == "deviceInfos":
            if user[1] == "TENANT_ADMIN" or parts[3] == user[2]:
                return self.page([d for d in DEVICES if d["customer"] == parts[3]], q)
            return self.reply(403, tb_error(403, "You don't have permission to perform this operation!", 20))
        if len(parts) >= 8 and parts[1:5] == ["api", "plugins", "telemetry", "DEVICE"] and parts[6] == "values":
            d = self.visible(user, parts[5])
            if not d:
                return self.reply(404, tb_error(404, "Requested item wasn't found!", 32))
            if parts[7] == "timeseries":
                return self.reply(200, d["telemetry"])
            if parts[7:] == ["attributes", "SERVER_SCOPE"]:
                keys = q.get("keys", "active,lastActivityTime").split(",")
                attrs = {"active": d["active"], "lastActivityTime": d["last"]}
                return self.reply(200, [{"key": k, "value": attrs[k], "lastUpdateTs": d["last"]} for k in keys
                                        if k in attrs])
        self.reply(404, tb_error(404, "Requested item wasn't found!", 32))

    def page(self, devices, q):
        try:
            size, page = int(q["pageSize"]), int(q["page"])
        except (KeyError, ValueError):
            return self.reply(400, tb_error(400, "Required request parameter 'pageSize' is not present", 31))
        data = devices[page * size:(page + 1) * size]
        pages = (len(devices) + size - 1) // size
        self.reply(200, {"data": [device_info(d) for d in data], "totalPages": pages,
                         "totalElements": len(devices), "hasNext": page + 1 < pages})

    def do_POST(self):
        parts = self.path.split("/")
        body = self.body()
        if self.path == "/api/auth/login":
            if (body or {}).get("username") == "slow@thingsboard.org":
                time.sleep(SLOW_SECONDS)
            cred = USERS.get((body or {}).get("username", ""))
            if not cred or cred[0] != body.get("password"):
                return self.reply(401, tb_error(401, "Authentication failed", 10))
            token = "eyJhbGciOiJIUzUxMiJ9." + secrets.token_urlsafe(24)
            with LOCK:
                TOKENS[token] = (body["username"], cred[1], cred[2])
            return self.reply(200, {"token": token, "refreshToken": "eyJhbGciOiJIUzUxMiJ9." + secrets.token_urlsafe(24)})
        user = self.user()
        if not user:
            return self.reply(401, tb_error(401, "Authentication failed", 10))
        if len(parts) == 6 and parts[1:5] == ["api", "plugins", "rpc", "oneway"]:
            if not self.visible(user, parts[5]):
                return self.reply(404, tb_error(404, "Requested item wasn't found!", 32))
            if not isinstance(body, dict) or not isinstance(body.get("method"), str):
                return self.reply(400, tb_error(400, "Invalid request body", 31))
            with LOCK:
                RPC.append({"device_id": parts[5], "user": user[0], "method": body["method"],
                            "params": body.get("params")})
            return self.reply(200)
        if len(parts) == 7 and parts[1:5] == ["api", "plugins", "telemetry", "DEVICE"] and parts[6] == "SHARED_SCOPE":
            if not self.visible(user, parts[5]):
                return self.reply(404, tb_error(404, "Requested item wasn't found!", 32))
            if not isinstance(body, dict) or not body:
                return self.reply(400, tb_error(400, "Invalid request body", 31))
            with LOCK:
                ATTRIBUTES.setdefault(parts[5], {}).update(body)
            return self.reply(200)
        self.reply(404, tb_error(404, "Requested item wasn't found!", 32))


if __name__ == "__main__":
    port = int(sys.argv[1])
    print(f"fake ThingsBoard on 127.0.0.1:{port}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
