"""Separate read and write budgets per API key and per OAuth client (issue 12):
rate_limit_read_per_hour and rate_limit_write_per_hour, each rate_limit_per_hour when
left out; RateLimit-Policy names the budget that applied ("read" or "write") with its
quota and window. The test stack's window is SB_RATE_LIMIT_WINDOW_SECONDS (4 s)."""

import base64
import uuid

import pytest
import requests

import sb


def create_key(api, user, **body):
    body.setdefault("name", "key " + uuid.uuid4().hex[:6])
    return sb.expect_ok(requests.post(api + "/api-keys", json=body, headers=user.headers, timeout=sb.TIMEOUT), 201)


def key_headers(key):
    return {"X-API-Key": key, "User-Agent": sb.USER_AGENT}


def policy(resp):
    name, *params = resp.headers["RateLimit-Policy"].split(";")
    return name.strip('"'), dict(p.split("=", 1) for p in params)


def test_key_defaults_to_the_single_limit(api, new_user):
    u = new_user()
    k = create_key(api, u, rate_limit_per_hour=7)
    assert k["rate_limit_read_per_hour"] == 7 and k["rate_limit_write_per_hour"] == 7, k
    r = requests.get(api + "/users/me", headers=key_headers(k["key"]), timeout=sb.TIMEOUT)
    sb.expect_ok(r)
    assert policy(r) == ("read", {"q": "7", "w": "4"}), r.headers
    assert r.headers["RateLimit-Limit"] == "7"


def test_key_read_and_write_budgets_are_separate(api, new_user, receiver):
    u = new_user()
    k = create_key(api, u, scopes=["read", "webhooks:write"], rate_limit_per_hour=100,
                   rate_limit_read_per_hour=2, rate_limit_write_per_hour=5)
    assert k["rate_limit_per_hour"] == 100 and k["rate_limit_read_per_hour"] == 2, k
    assert k["rate_limit_write_per_hour"] == 5, k
    listed = [x for x in sb.expect_ok(requests.get(api + "/api-keys", headers=u.headers, timeout=sb.TIMEOUT))
              if x["id"] == k["id"]]
    assert listed[0]["rate_limit_read_per_hour"] == 2 and listed[0]["rate_limit_write_per_hour"] == 5, listed
    h = key_headers(k["key"])
    reads = [requests.get(api + "/webhooks", headers=h, timeout=sb.TIMEOUT) for _ in range(3)]
    assert [r.status_code for r in reads] == [200, 200, 429], [r.status_code for r in reads]
    assert all(policy(r)[0] == "read" and policy(r)[1]["q"] == "2" for r in reads), [r.headers for r in reads]
    sb.expect_error(reads[2], 429, "rate_limited")
    # The write budget is untouched by the reads, and says so.
    body = {"name": "rw", "url": receiver.url("ok", receiver.bucket()), "events": ["*"]}
    w = requests.post(api + "/webhooks", json=body, headers=h, timeout=sb.TIMEOUT)
    sb.expect_ok(w, 201)
    assert policy(w) == ("write", {"q": "5", "w": "4"}), w.headers
    assert w.headers["RateLimit-Limit"] == "5" and w.headers["RateLimit-Remaining"] == "4", w.headers


@pytest.mark.parametrize("field,value", [("rate_limit_read_per_hour", 0), ("rate_limit_write_per_hour", 1000001),
                                         ("rate_limit_read_per_hour", "10")])
def test_budget_validation(api, new_user, field, value):
    u = new_user()
    for path in ("/api-keys", "/oauth/clients"):
        resp = requests.post(api + path, json={"name": "x", field: value}, headers=u.headers, timeout=sb.TIMEOUT)
        err = sb.expect_error(resp, 422, "validation_failed")
        assert field in err["fields"], err


def test_client_budgets(api, new_user):
    u = new_user()
    c = sb.expect_ok(requests.post(api + "/oauth/clients", json={"name": "rw", "scopes": ["read"],
                                                                 "rate_limit_read_per_hour": 3},
                                   headers=u.headers, timeout=sb.TIMEOUT), 201)
    assert c["rate_limit_read_per_hour"] == 3 and c["rate_limit_write_per_hour"] == c["rate_limit_per_hour"], c
    basic = base64.b64encode(f"{c['client_id']}:{c['client_secret']}".encode()).decode()
    t = requests.post(api + "/oauth/token", data={"grant_type": "client_credentials"},
                      headers={"Authorization": "Basic " + basic}, timeout=sb.TIMEOUT)
    assert t.status_code == 200, t.text
    h = {"Authorization": "Bearer " + t.json()["access_token"], "User-Agent": sb.USER_AGENT}
    reads = [requests.get(api + "/users/me", headers=h, timeout=sb.TIMEOUT) for _ in range(4)]
    assert [r.status_code for r in reads] == [200, 200, 200, 429], [r.status_code for r in reads]
    assert policy(reads[0]) == ("read", {"q": "3", "w": "4"}), reads[0].headers
