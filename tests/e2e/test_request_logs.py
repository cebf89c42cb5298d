"""Request logs readable (issue 12, spec 002's api_request_logs): GET /api-keys/{id}/logs
and /oauth/clients/{id}/logs with query_params and a redacted, capped request_body,
paginated and filtered by status, method, path prefix and time range; only the owner
reads them; usage per OAuth client like per API key."""

import json
import uuid

import pytest
import requests

import sb


def create(api, user, path, **body):
    body.setdefault("name", "logs " + uuid.uuid4().hex[:6])
    return sb.expect_ok(requests.post(api + path, json=body, headers=user.headers, timeout=sb.TIMEOUT), 201)


def logs(api, user, url_path, **query):
    return requests.get(api + url_path, params=query, headers=user.headers, timeout=sb.TIMEOUT)


def wait_for(api, user, path, count):
    """The page once it holds count rows (rows are written just after each response)."""
    def page():
        d = sb.expect_ok(logs(api, user, path, limit=100))
        return d if d["total"] >= count else None
    d = sb.retry_until(page)
    assert d, f"{path}: fewer than {count} rows"
    return d


@pytest.fixture(scope="module")
def owner(new_user):
    return new_user()


@pytest.fixture(scope="module")
def keylog(api, owner):
    """A key, the requests made with it, and its log once all are written."""
    k = create(api, owner, "/api-keys", scopes=["admin"])
    h = {"X-API-Key": k["key"], "User-Agent": sb.USER_AGENT}
    sb.expect_ok(requests.get(api + "/users/me?page=1&my_secret=abc&x=1&x=2", headers=h, timeout=sb.TIMEOUT))
    secret_body = {"name": "n", "password": "hunter2", "config": {"client_secret": "s3cr3t", "deep": [{"token": "t"}]}}
    sb.expect_error(requests.post(api + "/api-keys", json=secret_body, headers=h, timeout=sb.TIMEOUT), 422)
    sb.expect_error(requests.post(api + "/api-keys", json={"name": "é" * 3000}, headers=h, timeout=sb.TIMEOUT), 422)
    sb.expect_error(requests.post(api + "/api-keys", data="password=hunter2", timeout=sb.TIMEOUT,
                                  headers=dict(h, **{"Content-Type": "text/plain"})), 415)
    path = f"/api-keys/{k['id']}/logs"
    return k, path, wait_for(api, owner, path, 4)


def test_key_log_entries(keylog):
    _, _, d = keylog
    assert d["total"] == 4 and d["page"] == 1 and d["limit"] == 100
    # Each row is written by the process that answered, after the answer: rows of
    # requests made one after the other may land in either order, so pick them by content.
    by = {("GET" if i["method"] == "GET" else "415" if i["response_status"] == 415
           else "big" if i["request_body_truncated"] else "secret"): i for i in d["items"]}
    get, secret, big, plain = by["GET"], by["secret"], by["big"], by["415"]
    stamps = [i["created_at"] for i in d["items"]]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    assert get["method"] == "GET" and get["path"] == "/api/v1/users/me" and get["route"] == "/api/v1/users/me"
    assert get["response_status"] == 200 and get["request_body"] is None
    assert get["query_params"] == {"page": "1", "my_secret": "[REDACTED]", "x": ["1", "2"]}
    assert get["user_agent"] == sb.USER_AGENT and get["ip_address"] == "127.0.0.1"
    assert sb.RFC3339_UTC_RE.match(get["created_at"]) and get["response_time_ms"] >= 0
    assert secret["response_status"] == 422 and secret["request_body_truncated"] is False
    assert json.loads(secret["request_body"]) == {
        "name": "n", "password": "[REDACTED]",
        "config": {"client_secret": "[REDACTED]", "deep": [{"token": "[REDACTED]"}]}}
    assert big["request_body_truncated"] is True, big
    assert 4000 < len(big["request_body"].encode()) <= 4096 and big["request_body"].startswith('{"name":"éé')
    assert plain["response_status"] == 415 and plain["query_params"] == {}
    assert plain["request_body"] == "[16 bytes of text/plain not logged]"
    for secret_text in ("hunter2", "s3cr3t", "abc"):
        assert secret_text not in json.dumps(d)


def test_key_log_filters(api, owner, keylog):
    _, path, _ = keylog
    def total(**q):
        return sb.expect_ok(logs(api, owner, path, **q))["total"]
    assert total(status="422") == 2
    assert total(status="4xx") == 3 and total(status="2XX") == 1 and total(status="500") == 0
    assert total(method="post") == 3 and total(method="GET") == 1
    assert total(path="/api/v1/users") == 1 and total(path="/api/v1/api-keys") == 3 and total(path="/nope") == 0
    assert total(**{"from": "2000-01-01T00:00:00Z", "to": "2999-01-01T00:00:00+01:00"}) == 4
    assert total(**{"from": "2999-01-01T00:00:00Z"}) == 0 and total(to="2000-01-01T00:00:00Z") == 0
    d = sb.expect_ok(logs(api, owner, path, limit=3, page=2, method="POST"))
    assert d["total"] == 3 and len(d["items"]) == 0
    first, second = (sb.expect_ok(logs(api, owner, path, limit=2, page=n)) for n in (1, 2))
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert first["total"] == second["total"] == 4 and len(set(ids)) == 4


@pytest.mark.parametrize("query,fields", [
    ({"status": "42"}, {"status"}),
    ({"status": "6xx"}, {"status"}),
    ({"method": "FETCH"}, {"method"}),
    ({"path": "api/v1"}, {"path"}),
    ({"from": "yesterday", "to": "2026-02-30T00:00:00Z"}, {"from", "to"}),
    ({"status": "abc", "method": "x", "from": "2026-01-01"}, {"status", "method", "from"}),
    ({"page": "0"}, {"page"}),
    ({"limit": "101"}, {"limit"}),
])
def test_key_log_bad_filters(api, owner, keylog, query, fields):
    _, path, _ = keylog
    err = sb.expect_error(logs(api, owner, path, **query), 422, "validation_failed")
    assert set(err["fields"]) == fields, err


def test_only_the_owner_reads_a_log(api, owner, new_user, keylog):
    k, path, _ = keylog
    other = new_user()
    sb.expect_error(logs(api, other, path), 404, "not_found")
    for p in (f"/api-keys/{uuid.uuid4()}/logs", "/api-keys/not-a-uuid/logs"):
        sb.expect_error(logs(api, owner, p), 404, "not_found")
    resp = requests.get(api + path, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 401)
    reader = create(api, owner, "/api-keys", scopes=["read"])
    resp = requests.get(api + path, headers={"X-API-Key": reader["key"]}, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 403, "insufficient_scope")


def test_a_revoked_key_keeps_its_log(api, owner, keylog):
    k, path, _ = keylog
    sb.expect_ok(requests.delete(api + f"/api-keys/{k['id']}", headers=owner.headers, timeout=sb.TIMEOUT))
    assert sb.expect_ok(logs(api, owner, path))["total"] >= 4


@pytest.fixture(scope="module")
def client(api, owner):
    return create(api, owner, "/oauth/clients", scopes=["read"])


def test_client_log_redacts_the_token_form(api, owner, client):
    form = {"grant_type": "client_credentials", "client_id": client["client_id"],
            "client_secret": client["client_secret"]}
    tok = requests.post(api + "/oauth/token", data=form, timeout=sb.TIMEOUT)
    assert tok.status_code == 200, tok.text
    at = tok.json()["access_token"]
    sb.expect_ok(requests.get(api + "/users/me?limit=5", headers=sb.bearer(at), timeout=sb.TIMEOUT))
    path = f"/oauth/clients/{client['id']}/logs"
    d = wait_for(api, owner, path, 2)
    token, me = sorted(d["items"], key=lambda i: i["path"] != "/api/v1/oauth/token")
    assert token["path"] == "/api/v1/oauth/token" and token["method"] == "POST" and token["response_status"] == 200
    assert token["request_body"] == ("grant_type=client_credentials&client_id=" + client["client_id"]
                                     + "&client_secret=[REDACTED]")
    assert me["path"] == "/api/v1/users/me" and me["query_params"] == {"limit": "5"}
    assert client["client_secret"] not in json.dumps(d) and at not in json.dumps(d)
    assert sb.expect_ok(logs(api, owner, path, path="/api/v1/oauth/"))["total"] == 1
    err = sb.expect_error(logs(api, owner, path, method="TRACE"), 422, "validation_failed")
    assert set(err["fields"]) == {"method"}


def test_client_usage(api, owner, client):
    def usage():
        u = sb.expect_ok(requests.get(api + f"/oauth/clients/{client['id']}/usage?hours=2", headers=owner.headers,
                                      timeout=sb.TIMEOUT))
        return u if u["total"] >= 2 else None
    u = sb.retry_until(usage)
    assert u and u["oauth_client_id"] == client["id"] and u["hours"] == 2
    assert {s["status"]: s["requests"] for s in u["by_status"]} == {200: 2}
    assert sb.RFC3339_UTC_RE.match(u["from"]) and sum(x["requests"] for x in u["by_hour"]) == 2
    resp = requests.get(api + f"/oauth/clients/{client['id']}/usage?hours=0", headers=owner.headers,
                        timeout=sb.TIMEOUT)
    assert set(sb.expect_error(resp, 422, "validation_failed")["fields"]) == {"hours"}


def test_only_the_owner_reads_a_client_log(api, owner, new_user, client):
    other = new_user()
    for suffix in ("logs", "usage"):
        sb.expect_error(logs(api, other, f"/oauth/clients/{client['id']}/{suffix}"), 404, "not_found")
        sb.expect_error(logs(api, owner, f"/oauth/clients/{uuid.uuid4()}/{suffix}"), 404, "not_found")
        sb.expect_error(logs(api, owner, f"/oauth/clients/xyz/{suffix}"), 404, "not_found")


def test_batched_rows_keep_every_request_and_its_characters(api, owner):
    """Rows wait in the answering process and go as one statement of arrays (see
    lib/http/apilog_batch.c): quotes, backslashes, braces, commas and bytes that are not
    UTF-8 must not break the array text, and a burst larger than one batch loses none."""
    k = create(api, owner, "/api-keys", scopes=["read"])
    ua = 'odd "agent" \\ {x,y} NULL'
    h = {"X-API-Key": k["key"], "User-Agent": ua}
    odd = {"q": 'say "hi" \\ {a,b}', "n": "NULL"}
    sb.expect_ok(requests.get(api + "/users/me", params=odd, headers=h, timeout=sb.TIMEOUT))
    sb.expect_ok(requests.get(api + "/users/me?raw=%FF%FE", headers=h, timeout=sb.TIMEOUT))
    for _ in range(40):
        sb.expect_ok(requests.get(api + "/users/me", headers=h, timeout=sb.TIMEOUT))
    d = wait_for(api, owner, f"/api-keys/{k['id']}/logs", 42)
    assert d["total"] == 42
    items = d["items"]
    first = [i for i in items if i.get("query_params") and "q" in i["query_params"]]
    assert len(first) == 1, items[:3]
    assert first[0]["query_params"] == odd
    assert first[0]["user_agent"] == ua
    raw = [i for i in items if i.get("query_params") and "raw" in i["query_params"]]
    assert len(raw) == 1 and raw[0]["response_status"] == 200
    # created_at is each request's own time, not the batch's: not all equal.
    assert len({i["created_at"] for i in items}) > 1
