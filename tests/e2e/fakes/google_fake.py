#!/usr/bin/env python3
"""A fake Google on loopback: OAuth 2.0 (accounts.google.com/o/oauth2/v2/auth, the
token endpoint with PKCE and refresh, invalid_grant the way Google answers it),
OpenID userinfo, token revocation (oauth2.googleapis.com/revoke) and the Drive v3
multipart upload (/upload/drive/v3/files?uploadType=multipart).

usage: google_fake.py PORT"""

import email.parser
import email.policy
import json
import secrets
import sys

import fakebase
from fakebase import LOCK


class Google(fakebase.Fake):
    client_id = "google-test-client.apps.googleusercontent.com"
    client_secret = "google-test-secret"

    def __init__(self):
        super().__init__()
        self.files = {}  # id -> {name, mimeType, content, owner}

    def token_error(self, h, error, description):
        if error == "invalid_grant":
            description = "Token has been expired or revoked."
        h.send_json(400 if error != "invalid_client" else 401, {"error": error, "error_description": description})

    def extra_control(self, h, method, parts, body):
        if method == "GET" and len(parts) == 2 and parts[0] == "files":
            with LOCK:
                return h.send_json(200, [f for f in self.files.values() if f["owner"] == parts[1]])
        return h.send_json(404, {"message": "no such control"})

    def route(self, h, method, path, query, body, raw):
        if path == "/o/oauth2/v2/auth" and method == "GET":
            return self.authorize(h, query)
        if path == "/token" and method == "POST":
            return self.token_endpoint(h, body or {})
        if path == "/revoke" and method == "POST":
            token = (body or {}).get("token") or query.get("token", "")
            with LOCK:
                login = self.refresh.pop(token, None) or self.access.pop(token, None)
                if login:
                    # Revoking a refresh token ends the grant: its access tokens too.
                    for t in [t for t, l in self.access.items() if l == login]:
                        del self.access[t]
            if not login:
                return h.send_json(400, {"error": "invalid_token", "error_description": "Bad Request"})
            self.count("revocations", login)
            return h.send_json(200, {})
        user = self.bearer_user(h)
        if not user:
            return h.send_json(401, {"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                                               "status": "UNAUTHENTICATED"}})
        login = user["login"]
        if path == "/v1/userinfo":
            self.count("profile", login)
            return h.send_json(200, {"sub": str(user["id"]), "email": user["email"],
                                     "email_verified": user["verified"], "name": user["name"],
                                     "given_name": user["name"].split()[0],
                                     "picture": f"https://lh3.googleusercontent.com/a/{login}"})
        if path == "/upload/drive/v3/files" and method == "POST":
            if query.get("uploadType") != "multipart":
                return h.send_json(400, {"error": {"code": 400, "message": "uploadType must be multipart"}})
            ctype = h.headers.get("Content-Type", "")
            if not ctype.startswith("multipart/related"):
                return h.send_json(400, {"error": {"code": 400, "message": "multipart/related expected"}})
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
            parts = list(msg.iter_parts())
            if len(parts) != 2:
                return h.send_json(400, {"error": {"code": 400, "message": "two parts expected"}})
            meta = json.loads(parts[0].get_content())
            content = parts[1].get_content()
            fid = secrets.token_urlsafe(12)
            with LOCK:
                self.files[fid] = {"id": fid, "name": meta.get("name"), "mimeType": meta.get("mimeType"),
                                   "content": content if isinstance(content, str) else content.decode(),
                                   "owner": login}
            self.count("uploads", login)
            return h.send_json(200, {"kind": "drive#file", "id": fid, "name": meta.get("name"),
                                     "mimeType": meta.get("mimeType")})
        return h.send_json(404, {"error": {"code": 404, "message": "Not Found"}})


if __name__ == "__main__":
    fakebase.serve(Google(), int(sys.argv[1]))
