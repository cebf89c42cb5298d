#!/usr/bin/env python3
"""A fake GitHub on loopback: OAuth (github.com/login/oauth/*, errors as 200 + "error"
the way GitHub answers them), the REST shapes Switchboard uses (/user, /user/emails,
/user/repos, /repositories/{id}, DELETE /applications/{client_id}/grant) and the Git
Data API (refs, commits, trees, blobs) over an in-memory object store whose blob ids
are real git blob ids (SHA-1 of "blob <len>\\0<content>").

usage: github_fake.py PORT"""

import base64
import hashlib
import json
import time
import urllib.parse
import sys

import fakebase
from fakebase import LOCK


def git_blob_sha(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def obj_sha(kind, payload):
    return hashlib.sha1((kind + json.dumps(payload, sort_keys=True)).encode()).hexdigest()


class GitHub(fakebase.Fake):
    client_id = "gh-test-client"
    client_secret = "gh-test-secret"

    def __init__(self):
        super().__init__()
        self.repos = {}      # id -> repo dict
        self.next_repo = 500000
        self.blobs = {}      # sha -> bytes
        self.trees = {}      # sha -> {path: blob sha}
        self.commits = {}    # sha -> {tree, parents, message}

    # GitHub answers token errors with 200 and an "error" member.
    def token_error(self, h, error, description):
        names = {"invalid_grant": "bad_verification_code", "invalid_client": "incorrect_client_credentials"}
        h.send_json(200, {"error": names.get(error, error), "error_description": description,
                          "error_uri": "https://docs.github.com/apps/troubleshooting"})

    def make_tree(self, files):
        sha = obj_sha("tree", files)
        self.trees[sha] = dict(files)
        return sha

    def make_commit(self, tree, parents, message):
        c = {"tree": tree, "parents": parents, "message": message}
        sha = obj_sha("commit", [c, len(self.commits)])
        self.commits[sha] = c
        return sha

    def extra_control(self, h, method, parts, body):
        body = body or {}
        if method == "POST" and parts == ["repos"]:
            with LOCK:
                self.next_repo += 1
                rid = self.next_repo
                owner, name = body["owner"], body["name"]
                files = {}
                if not body.get("empty"):
                    readme = b"# " + name.encode() + b"\n"
                    self.blobs[git_blob_sha(readme)] = readme
                    files["README.md"] = git_blob_sha(readme)
                refs = {}
                if files:
                    refs["main"] = self.make_commit(self.make_tree(files), [], "Initial commit")
                self.repos[rid] = {"id": rid, "name": name, "full_name": f"{owner}/{name}", "owner": owner,
                                   "private": bool(body.get("private")), "default_branch": "main", "refs": refs,
                                   "reject_ref_updates": 0, "push": body.get("push", True)}
            return h.send_json(201, {"id": rid, "full_name": f"{owner}/{name}"})
        if len(parts) == 2 and parts[0] == "repos":
            rid = int(parts[1])
            with LOCK:
                repo = self.repos.get(rid)
                if not repo:
                    return h.send_json(404, {})
                if method == "POST":
                    repo.update(body)
                head = repo["refs"].get("main")
                files = {}
                if head:
                    for path, sha in self.trees[self.commits[head]["tree"]].items():
                        files[path] = self.blobs[sha].decode()
                commits, c = 0, head
                while c:
                    commits += 1
                    ps = self.commits[c]["parents"]
                    c = ps[0] if ps else None
                return h.send_json(200, {"id": rid, "head": head, "files": files, "commits": commits,
                                         "message": self.commits[head]["message"] if head else None})
        return h.send_json(404, {"message": "no such control"})

    def repo_json(self, r):
        return {"id": r["id"], "name": r["name"], "full_name": r["full_name"], "private": r["private"],
                "owner": {"login": r["owner"]}, "default_branch": r["default_branch"],
                "permissions": {"admin": True, "push": r["push"], "pull": True}}

    RATE_LIMIT = 5000

    def rate_left(self, user):
        with LOCK:
            return user.get("rate_remaining", self.RATE_LIMIT)

    def spend(self, user):
        with LOCK:
            user["rate_remaining"] = user.get("rate_remaining", self.RATE_LIMIT) - 1

    def rate_headers(self, user):
        with LOCK:
            left = max(user.get("rate_remaining", self.RATE_LIMIT), 0)
            reset = int(user.get("rate_reset") or time.time() + 3600)
        return {"x-ratelimit-limit": str(self.RATE_LIMIT), "x-ratelimit-remaining": str(left),
                "x-ratelimit-reset": str(reset), "x-ratelimit-used": str(self.RATE_LIMIT - left),
                "x-ratelimit-resource": "core"}

    def find_repo(self, user, owner, name):
        for r in self.repos.values():
            if r["full_name"] == f"{owner}/{name}" and r["owner"] == user["login"]:
                return r
        return None

    def route(self, h, method, path, query, body, raw):
        if path == "/login/oauth/authorize" and method == "GET":
            return self.authorize(h, query)
        if path == "/login/oauth/access_token" and method == "POST":
            return self.token_endpoint(h, body or {})
        if path.startswith("/applications/") and path.endswith("/grant") and method == "DELETE":
            auth = h.headers.get("Authorization", "")
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":") if auth.startswith("Basic ") else ("", "", "")
            if cid != self.client_id or secret != self.client_secret or path.split("/")[2] != self.client_id:
                return h.send_json(404, {"message": "Not Found"})
            token = (body or {}).get("access_token", "")
            with LOCK:
                if self.access.get(token) and self.user(self.access[token]).get("revoke_mode") == "down":
                    return h.send_json(503, {"message": "Service Unavailable"})
                login = self.access.pop(token, None)
            if not login:
                return h.send_json(404, {"message": "Not Found"})
            self.count("revocations", login)
            return h.send_json(204, None)

        user = self.bearer_user(h)
        if not user:
            return h.send_json(401, {"message": "Bad credentials",
                                     "documentation_url": "https://docs.github.com/rest"})
        login = user["login"]
        # GitHub's rate limits (docs.github.com "Rate limits for the REST API"): the
        # primary limit's x-ratelimit-* headers on every answer, 403 with remaining 0
        # once it is spent, and a secondary limit answered 429 with retry-after.
        self.count("api_calls", login)
        if user.get("api_delay"):  # a slow GitHub, for tests that act while a call is in flight
            time.sleep(float(user["api_delay"]))
        if user.get("secondary_retry_after"):
            self.count("secondary_limited", login)
            return h.send_json(429, {"message": "You have exceeded a secondary rate limit. Please wait a few "
                                                "minutes before you try again.",
                                     "documentation_url": "https://docs.github.com/rest/overview/"
                                                          "rate-limits-for-the-rest-api#about-secondary-rate-limits"},
                               headers={"Retry-After": str(user["secondary_retry_after"]), **self.rate_headers(user)})
        if self.rate_left(user) <= 0:
            self.count("rate_limited", login)
            return h.send_json(403, {"message": f"API rate limit exceeded for user ID {user['id']}.",
                                     "documentation_url": "https://docs.github.com/rest/overview/"
                                                          "rate-limits-for-the-rest-api"},
                               headers=self.rate_headers(user))
        if path == "/user/repos":
            with LOCK:
                every = [self.repo_json(r) for r in self.repos.values() if r["owner"] == login]
            # GitHub's pagination: per_page (default 30, at most 100) and page, and a Link
            # header (RFC 8288) naming the first, prev, next and last pages.
            try:
                per_page = max(1, min(int(query.get("per_page", 30)), 100))
                page = max(1, int(query.get("page", 1)))
            except ValueError:
                return h.send_json(422, {"message": "Validation Failed"})
            last = max(1, (len(every) + per_page - 1) // per_page)
            body = every[(page - 1) * per_page:page * per_page]
            base = f"http://{h.headers.get('Host')}/user/repos"
            rest = {k: v for k, v in query.items() if k != "page"}

            def page_url(n):
                return base + "?" + urllib.parse.urlencode({**rest, "page": n})
            links = []
            if page > 1:
                links += [f'<{page_url(page - 1)}>; rel="prev"', f'<{page_url(1)}>; rel="first"']
            if page < last:
                links += [f'<{page_url(page + 1)}>; rel="next"', f'<{page_url(last)}>; rel="last"']
            extra = {"Link": ", ".join(links)} if links else {}
            # A conditional request answered 304 does not count against the primary limit.
            etag = 'W/"' + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest() + '"'
            if h.headers.get("If-None-Match") == etag:
                self.count("repo_lists_304", login)
                return h.send_json(304, None, headers={"ETag": etag, **extra, **self.rate_headers(user)})
            self.count("repo_lists", login)
            self.spend(user)
            return h.send_json(200, body, headers={"ETag": etag, "Cache-Control": "private, max-age=60, s-maxage=60",
                                                   **extra, **self.rate_headers(user)})
        self.spend(user)
        if path == "/user":
            self.count("profile", login)
            return h.send_json(200, {"login": login, "id": user["id"], "avatar_url":
                                     f"https://avatars.githubusercontent.com/u/{user['id']}?v=4",
                                     "name": user["name"], "email": None, "type": "User"})
        if path == "/user/emails":
            return h.send_json(200, [{"email": user["email"], "primary": True, "verified": user["verified"],
                                      "visibility": "private"},
                                     {"email": f"{login}@users.noreply.github.com", "primary": False,
                                      "verified": True, "visibility": None}])
        if path.startswith("/repositories/"):
            with LOCK:
                r = self.repos.get(int(path.split("/")[2]))
                if not r or r["owner"] != login:
                    return h.send_json(404, {"message": "Not Found"})
                return h.send_json(200, self.repo_json(r))
        parts = path.strip("/").split("/")
        if len(parts) >= 5 and parts[0] == "repos" and parts[3] == "git":
            with LOCK:
                r = self.find_repo(user, parts[1], parts[2])
                if not r:
                    return h.send_json(404, {"message": "Not Found"})
                return self.git(h, method, r, parts[4:], body or {}, query, login)
        return h.send_json(404, {"message": "Not Found"})

    def git(self, h, method, r, rest, body, query, login):
        kind = rest[0]
        if not r["refs"]:
            return h.send_json(409, {"message": "Git Repository is empty."})
        if kind == "ref" and method == "GET" and rest[1] == "heads":
            sha = r["refs"].get("/".join(rest[2:]))
            if not sha:
                return h.send_json(404, {"message": "Not Found"})
            return h.send_json(200, {"ref": "refs/heads/" + "/".join(rest[2:]), "object": {"sha": sha, "type": "commit"}})
        if kind == "commits" and method == "GET":
            c = self.commits.get(rest[1])
            if not c:
                return h.send_json(404, {"message": "Not Found"})
            return h.send_json(200, {"sha": rest[1], "tree": {"sha": c["tree"]}, "message": c["message"],
                                     "parents": [{"sha": p} for p in c["parents"]]})
        if kind == "trees" and method == "GET":
            t = self.trees.get(rest[1])
            if t is None:
                return h.send_json(404, {"message": "Not Found"})
            entries = [{"path": p, "mode": "100644", "type": "blob", "sha": s} for p, s in sorted(t.items())]
            dirs = sorted({p.rsplit("/", 1)[0] for p in t if "/" in p})
            entries += [{"path": d, "mode": "040000", "type": "tree", "sha": obj_sha("dir", d)} for d in dirs]
            return h.send_json(200, {"sha": rest[1], "tree": entries, "truncated": False})
        if kind == "blobs" and method == "POST":
            content = body.get("content", "")
            data = base64.b64decode(content) if body.get("encoding") == "base64" else content.encode()
            sha = git_blob_sha(data)
            self.blobs[sha] = data
            self.count("blobs", login)
            return h.send_json(201, {"sha": sha, "url": f"/blobs/{sha}"})
        if kind == "trees" and method == "POST":
            base = dict(self.trees.get(body.get("base_tree"), {}))
            for e in body.get("tree", []):
                if e.get("sha") not in self.blobs:
                    return h.send_json(422, {"message": "tree.sha is not a valid blob"})
                base[e["path"]] = e["sha"]
            sha = self.make_tree(base)
            self.count("trees", login)
            return h.send_json(201, {"sha": sha, "tree": []})
        if kind == "commits" and method == "POST":
            if body.get("tree") not in self.trees or any(p not in self.commits for p in body.get("parents", [])):
                return h.send_json(422, {"message": "Invalid tree or parents"})
            sha = self.make_commit(body["tree"], body.get("parents", []), body.get("message", ""))
            self.count("commits", login)
            return h.send_json(201, {"sha": sha, "tree": {"sha": body["tree"]}, "message": body.get("message")})
        if kind == "refs" and method == "PATCH" and rest[1] == "heads":
            branch = "/".join(rest[2:])
            new = body.get("sha")
            if new not in self.commits:
                return h.send_json(422, {"message": "Object does not exist"})
            self.count("ref_updates", login)
            if r["reject_ref_updates"] > 0:
                # Someone else pushed in between: the branch moves on without us.
                r["reject_ref_updates"] -= 1
                head = r["refs"][branch]
                files = dict(self.trees[self.commits[head]["tree"]])
                data = f"concurrent push {len(self.commits)}\n".encode()
                self.blobs[git_blob_sha(data)] = data
                files[f"other/{len(self.commits)}.txt"] = git_blob_sha(data)
                r["refs"][branch] = self.make_commit(self.make_tree(files), [head], "Concurrent push")
            head = r["refs"].get(branch)
            if not body.get("force") and self.commits[new]["parents"][:1] != [head]:
                return h.send_json(422, {"message": "Update is not a fast forward",
                                         "documentation_url": "https://docs.github.com/rest/git/refs"})
            r["refs"][branch] = new
            return h.send_json(200, {"ref": "refs/heads/" + branch, "object": {"sha": new, "type": "commit"}})
        return h.send_json(404, {"message": "Not Found"})


if __name__ == "__main__":
    fakebase.serve(GitHub(), int(sys.argv[1]))
