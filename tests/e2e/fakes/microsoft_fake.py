#!/usr/bin/env python3
"""A fake Microsoft identity platform and Microsoft Graph on loopback: OAuth 2.0
(/common/oauth2/v2.0/authorize and /token with PKCE and refresh), GET /v1.0/me and
OneDrive's simple upload PUT /v1.0/me/drive/root:/{path}:/content answering a DriveItem
(201 Created for a new file, 200 when it replaces one), with Graph's error object
({"error": {"code", "message", "innerError"}}) and the bearer checked on every call.
Control: GET /_fake/files/{login} lists the uploaded items with their content;
POST /_fake/graph-fail/{login} {"status": N} makes that user's Graph calls answer N.

usage: microsoft_fake.py PORT"""

import datetime
import hashlib
import base64
import secrets
import sys
import urllib.parse
import uuid

import fakebase
from fakebase import LOCK


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Microsoft(fakebase.Fake):
    client_id = "ms-test-client"
    client_secret = "ms-test-secret"

    def __init__(self):
        super().__init__()
        self.items = {}  # (login, path) -> DriveItem + content
        self.fail = {}

    def graph_error(self, h, status, code, message):
        h.send_json(status, {"error": {"code": code, "message": message,
                                       "innerError": {"date": now(), "request-id": str(uuid.uuid4()),
                                                      "client-request-id": str(uuid.uuid4())}}})

    def extra_control(self, h, method, parts, body):
        if method == "GET" and len(parts) == 2 and parts[0] == "files":
            with LOCK:
                return h.send_json(200, [dict(v) for (login, _), v in self.items.items() if login == parts[1]])
        if method == "POST" and len(parts) == 2 and parts[0] == "graph-fail":
            with LOCK:
                self.fail[parts[1]] = (body or {}).get("status")
            return h.send_json(200, {})
        return h.send_json(404, {"message": "no such control"})

    def route(self, h, method, path, query, body, raw):
        if path == "/common/oauth2/v2.0/authorize" and method == "GET":
            return self.authorize(h, query)
        if path == "/common/oauth2/v2.0/token" and method == "POST":
            return self.token_endpoint(h, body or {})
        user = self.bearer_user(h)
        if not user:
            return self.graph_error(h, 401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        login = user["login"]
        with LOCK:
            fail = self.fail.get(login)
        if fail:
            return self.graph_error(h, fail, "serviceNotAvailable" if fail >= 500 else "accessDenied",
                                    "The service is unwell.")
        if path == "/v1.0/me" and method == "GET":
            return h.send_json(200, {"id": str(user["id"]), "displayName": user["name"],
                                     "userPrincipalName": user["email"], "mail": user["email"]})
        prefix, suffix = "/v1.0/me/drive/root:/", ":/content"
        if method == "PUT" and path.startswith(prefix) and path.endswith(suffix):
            return self.upload(h, login, urllib.parse.unquote(path[len(prefix):-len(suffix)]), raw)
        return self.graph_error(h, 404, "itemNotFound", "The resource could not be found.")

    def upload(self, h, login, item_path, raw):
        if not item_path or item_path.startswith("/"):
            return self.graph_error(h, 400, "invalidRequest", "Invalid path")
        if len(raw) > 4 * 1024 * 1024:
            return self.graph_error(h, 413, "requestTooLarge", "Simple upload is limited to 4 MB")
        name = item_path.rsplit("/", 1)[-1]
        with LOCK:
            old = self.items.get((login, item_path))
            item = {"id": old["id"] if old else secrets.token_hex(8).upper() + "!" + str(len(self.items) + 100),
                    "name": name, "size": len(raw), "createdDateTime": old["createdDateTime"] if old else now(),
                    "lastModifiedDateTime": now(),
                    "webUrl": f"https://onedrive.live.com/?id={urllib.parse.quote(item_path)}",
                    "eTag": '"{%s},2"' % uuid.uuid4(), "cTag": '"c:{%s},2"' % uuid.uuid4(),
                    "file": {"mimeType": h.headers.get("Content-Type", "application/octet-stream").split(";")[0],
                             "hashes": {"sha1Hash": hashlib.sha1(raw).hexdigest().upper(),
                                        "quickXorHash": base64.b64encode(hashlib.sha1(raw).digest()[:20]).decode()}},
                    "parentReference": {"driveId": "b!" + login, "driveType": "personal", "id": "root",
                                        "path": "/drive/root:"}}
            self.items[(login, item_path)] = dict(item, content=raw.decode("utf-8", "replace"))
        self.count("uploads", login)
        return h.send_json(200 if old else 201, item)


if __name__ == "__main__":
    fakebase.serve(Microsoft(), int(sys.argv[1]))
