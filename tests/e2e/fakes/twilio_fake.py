"""A fake Twilio speaking the Messages API shapes (Python's http.server):

  POST /2010-04-01/Accounts/{AccountSid}/Messages.json  Basic auth AccountSid:AuthToken,
       form To, From, Body; 201 with the Message resource {sid: SM..., status: queued, ...};
       401 {code: 20003, message: Authenticate, more_info, status}; 400 code 21211 for an
       invalid To (+15005550001, Twilio's test number for it); 400 code 21606 for a From
       the account does not own
  GET  /2010-04-01/Accounts/{AccountSid}.json  the Account resource, 401 as above
  GET  /_fake/state, GET /_fake/messages  for the tests

Account: ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, token twilio-e2e-token, number +15005550006."""

import base64
import json
import secrets
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SID, TOKEN, NUMBER = "AC" + "a" * 32, "twilio-e2e-token", "+15005550006"
LOCK = threading.Lock()
MESSAGES = []


def error(code, message, status):
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authed(self, sid):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == SID and pw == TOKEN and sid == SID

    def do_GET(self):
        if self.path == "/_fake/state":
            return self.reply(200, {"ok": True})
        if self.path == "/_fake/messages":
            with LOCK:
                return self.reply(200, MESSAGES)
        parts = self.path.split("/")
        if len(parts) == 4 and parts[1] == "2010-04-01" and parts[2] == "Accounts" and parts[3].endswith(".json"):
            sid = parts[3][:-5]
            if not self.authed(sid):
                return self.reply(401, error(20003, "Authenticate", 401))
            return self.reply(200, {"sid": sid, "friendly_name": "e2e", "status": "active", "type": "Full"})
        self.reply(404, error(20404, "The requested resource was not found", 404))

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        parts = self.path.split("/")
        if len(parts) != 5 or parts[1:3] != ["2010-04-01", "Accounts"] or parts[4] != "Messages.json":
            return self.reply(404, error(20404, "The requested resource was not found", 404))
        if not self.authed(parts[3]):
            return self.reply(401, error(20003, "Authenticate", 401))
        form = dict(urllib.parse.parse_qsl(raw))
        to, sender, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        if not to or to == "+15005550001":
            return self.reply(400, error(21211, f"The 'To' number {to} is not a valid phone number.", 400))
        if sender != NUMBER:
            return self.reply(400, error(21606, f"The From phone number {sender} is not a valid, SMS-capable "
                                                "inbound phone number or short code for your account.", 400))
        msg = {"sid": "SM" + secrets.token_hex(16), "account_sid": SID, "to": to, "from": sender, "body": body,
               "status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01"}
        with LOCK:
            MESSAGES.append(msg)
        self.reply(201, msg)


if __name__ == "__main__":
    port = int(sys.argv[1])
    print(f"fake Twilio on 127.0.0.1:{port}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
