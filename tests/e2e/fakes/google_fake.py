#!/usr/bin/env python3
"""A fake Google on loopback: OAuth 2.0 (accounts.google.com/o/oauth2/v2/auth, the
token endpoint with PKCE and refresh, invalid_grant the way Google answers it),
OpenID userinfo, token revocation (oauth2.googleapis.com/revoke) and Drive v3: the
multipart upload (/upload/drive/v3/files?uploadType=multipart), files.list (q with
name/mimeType/trashed terms, pageSize, opaque pageToken, fields), files.get (metadata,
alt=media; 403 fileNotDownloadable for Google Workspace files) and files.export, with
Drive's error object ({"error": {"code", "message", "errors": [{"domain", "reason"}]}}).
Control: POST /_fake/files/{login} {name, mimeType, content | content_b64} adds a file;
POST /_fake/drive-fail/{login} {"status": N} makes that user's Drive calls answer N.

usage: google_fake.py PORT"""

import base64
import email.parser
import email.policy
import json
import re
import secrets
import sys
import time

import fakebase
from fakebase import LOCK


class Google(fakebase.Fake):
    client_id = "google-test-client.apps.googleusercontent.com"
    client_secret = "google-test-secret"

    def __init__(self):
        super().__init__()
        self.files = {}  # id -> {id, name, mimeType, content | content_b64, owner, modifiedTime}
        self.pages = {}  # pageToken -> (login, q, offset)
        self.drive_fail = {}  # login -> HTTP status every Drive call answers

    def token_error(self, h, error, description):
        if error == "invalid_grant":
            description = "Token has been expired or revoked."
        h.send_json(400 if error != "invalid_client" else 401, {"error": error, "error_description": description})

    def extra_control(self, h, method, parts, body):
        if method == "GET" and len(parts) == 2 and parts[0] == "files":
            with LOCK:
                return h.send_json(200, [f for f in self.files.values() if f["owner"] == parts[1]])
        if method == "POST" and len(parts) == 2 and parts[0] == "files":
            fid = secrets.token_urlsafe(12)
            f = {"id": fid, "name": body["name"], "mimeType": body.get("mimeType", "text/plain"),
                 "owner": parts[1], "modifiedTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}
            for k in ("content", "content_b64"):
                if k in body:
                    f[k] = body[k]
            with LOCK:
                self.files[fid] = f
            return h.send_json(201, f)
        if method == "POST" and len(parts) == 2 and parts[0] == "drive-fail":
            with LOCK:
                self.drive_fail[parts[1]] = body.get("status")
            return h.send_json(200, {})
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
                                   "owner": login,
                                   "modifiedTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}
            self.count("uploads", login)
            return h.send_json(200, {"kind": "drive#file", "id": fid, "name": meta.get("name"),
                                     "mimeType": meta.get("mimeType")})
        if path.startswith("/drive/v3/files") and method == "GET":
            return self.drive_read(h, login, path, query)
        return h.send_json(404, {"error": {"code": 404, "message": "Not Found"}})

    @staticmethod
    def drive_error(h, code, reason, message):
        h.send_json(code, {"error": {"code": code, "message": message,
                                     "errors": [{"domain": "global", "reason": reason, "message": message}]}})

    @staticmethod
    def file_bytes(f):
        if "content_b64" in f:
            return base64.b64decode(f["content_b64"])
        return (f.get("content") or "").encode()

    def file_resource(self, f, fields):
        out = {"kind": "drive#file", "id": f["id"], "name": f["name"], "mimeType": f["mimeType"],
               "modifiedTime": f["modifiedTime"]}
        if not f["mimeType"].startswith("application/vnd.google-apps."):
            out["size"] = str(len(self.file_bytes(f)))  # int64 travels as a string
        if fields:
            out = {k: v for k, v in out.items() if k in fields}
        return out

    @staticmethod
    def parse_q(q):
        """Drive query terms joined by 'and': name contains/=, mimeType =/!=, trashed = false.
        Returns (field, op, value) terms; ValueError for anything else."""
        terms = []
        for term in [t.strip() for t in re.split(r"\s+and\s+", q) if t.strip()]:
            m = re.fullmatch(r"(name|mimeType)\s*(contains|=|!=)\s*'((?:[^'\\]|\\.)*)'", term)
            if m:
                terms.append((m.group(1), m.group(2), re.sub(r"\\(.)", r"\1", m.group(3))))
            elif not re.fullmatch(r"trashed\s*=\s*false", term):
                raise ValueError(term)
        return terms

    @staticmethod
    def matches(f, terms):
        for field, op, val in terms:
            have = f[field]
            if not (val in have if op == "contains" else (have == val) == (op == "=")):
                return False
        return True

    def drive_read(self, h, login, path, query):
        with LOCK:
            fail = self.drive_fail.get(login)
        if fail:
            return self.drive_error(h, fail, "backendError" if fail >= 500 else "forbidden", "Drive is unwell")
        parts = path.split("/")[4:]  # after /drive/v3/files
        if not parts:
            return self.drive_list(h, login, query)
        with LOCK:
            f = self.files.get(parts[0])
        if not f or f["owner"] != login:
            return self.drive_error(h, 404, "notFound", f"File not found: {parts[0]}.")
        if len(parts) == 2 and parts[1] == "export":
            self.count("exports", login)
            if not f["mimeType"].startswith("application/vnd.google-apps."):
                return self.drive_error(h, 403, "fileNotExportable", "Export only supports Docs Editors files.")
            return self.send_raw(h, query.get("mimeType", "text/plain"), self.file_bytes(f))
        if query.get("alt") == "media":
            if f["mimeType"].startswith("application/vnd.google-apps."):
                return self.drive_error(h, 403, "fileNotDownloadable",
                                        "Only files with binary content can be downloaded. Use Export with Docs Editors files.")
            self.count("downloads", login)
            return self.send_raw(h, f["mimeType"], self.file_bytes(f))
        fields = [x for x in query.get("fields", "").split(",") if x]
        return h.send_json(200, self.file_resource(f, fields))

    @staticmethod
    def send_raw(h, ctype, data):
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def drive_list(self, h, login, query):
        token = query.get("pageToken")
        q = query.get("q", "")
        offset = 0
        if token:
            with LOCK:
                page = self.pages.get(token)
            if not page or page[0] != login or page[1] != q:
                return self.drive_error(h, 400, "invalid", "Invalid Value")
            offset = page[2]
        try:
            size = int(query.get("pageSize", "100"))
        except ValueError:
            return self.drive_error(h, 400, "invalid", "Invalid value for pageSize")
        if not 1 <= size <= 1000:
            return self.drive_error(h, 400, "invalid", "Invalid value for pageSize")
        with LOCK:
            mine = sorted((f for f in self.files.values() if f["owner"] == login), key=lambda f: f["name"])
        try:
            terms = self.parse_q(q)
            mine = [f for f in mine if self.matches(f, terms)]
        except ValueError:
            return self.drive_error(h, 400, "invalid", "Invalid Value")
        m = re.search(r"files\(([^)]*)\)", query.get("fields", ""))
        fields = m.group(1).split(",") if m else []
        self.count("lists", login)
        out = {"kind": "drive#fileList", "incompleteSearch": False,
               "files": [self.file_resource(f, fields) for f in mine[offset:offset + size]]}
        if offset + size < len(mine):
            nxt = secrets.token_urlsafe(16)
            with LOCK:
                self.pages[nxt] = (login, q, offset + size)
            out["nextPageToken"] = nxt
        if m:
            out = {k: v for k, v in out.items() if k in ("files", "nextPageToken")}
        return h.send_json(200, out)


if __name__ == "__main__":
    fakebase.serve(Google(), int(sys.argv[1]))
