"""The OAuth 2.0 provider (spec 002 §2): client registration, client_credentials with
Basic and form authentication, refresh rotation and reuse detection, concurrent
refreshes, revocation (RFC 7009), introspection (RFC 7662), userinfo, metadata
(RFC 8414), scopes on access tokens and per-client rate limits."""

import base64
import hashlib
import re
import threading
import time
import urllib.parse
import uuid

import pytest
import requests

import sb

TOKEN_RE = re.compile(r"^sbat_[0-9A-Za-z]{43}$")


def create_client(api, user, status=201, **body):
    body.setdefault("name", "client " + uuid.uuid4().hex[:6])
    resp = requests.post(api + "/oauth/clients", json=body, headers=user.headers, timeout=sb.TIMEOUT)
    if status != 201:
        return resp
    return sb.expect_ok(resp, 201)


def basic(client_id, secret):
    raw = urllib.parse.quote(client_id, safe="") + ":" + urllib.parse.quote(secret, safe="")
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def token(api, client, data=None, auth="basic", headers=None):
    data = dict({"grant_type": "client_credentials"} if data is None else data)
    h = dict(headers or {})
    if auth == "basic":
        h.update(basic(client["client_id"], client["client_secret"]))
    elif auth == "form":
        data.update(client_id=client["client_id"], client_secret=client["client_secret"])
    return requests.post(api + "/oauth/token", data=data, headers=h, timeout=sb.TIMEOUT)


def expect_token(resp):
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers.get("Cache-Control") == "no-store"
    assert resp.headers.get("Pragma") == "no-cache"
    body = resp.json()
    assert TOKEN_RE.match(body["access_token"]), body
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    return body


def expect_oauth_error(resp, status, error):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body.get("error") == error, body
    assert "success" not in body, body
    return body


@pytest.fixture(scope="module")
def owner(new_user):
    return new_user()


@pytest.fixture(scope="module")
def client(api, owner):
    return create_client(api, owner, scopes=["read", "integrations:read", "offline_access"],
                         redirect_uris=["https://app.example.com/cb"])


# --- clients --------------------------------------------------------------------------------


def test_client_registration_shows_the_secret_once(api, owner, client):
    assert client["client_id"].startswith("sbc_") and client["client_secret"].startswith("sbcs_")
    assert client["redirect_uris"] == ["https://app.example.com/cb"]
    got = sb.expect_ok(requests.get(api + f"/oauth/clients/{client['id']}", headers=owner.headers, timeout=sb.TIMEOUT))
    assert "client_secret" not in got and got["client_id"] == client["client_id"]
    listed = sb.expect_ok(requests.get(api + "/oauth/clients", headers=owner.headers, timeout=sb.TIMEOUT))
    assert client["id"] in {c["id"] for c in listed}
    assert client["client_secret"] not in str(listed)
    stored = sb.psql(f"SELECT client_secret_hash FROM api_clients WHERE id = '{sb.sql_uuid(client['id'])}'")
    assert stored == hashlib.sha256(client["client_secret"].encode()).hexdigest()


@pytest.mark.parametrize(
    "body,field",
    [({"name": ""}, "name"), ({"name": "x", "scopes": ["nope"]}, "scopes"),
     ({"name": "x", "redirect_uris": ["http://evil.example.com/cb"]}, "redirect_uris"),
     # A loopback name as a prefix of another host is not loopback.
     ({"name": "x", "redirect_uris": ["http://localhost.evil.example/cb"]}, "redirect_uris"),
     ({"name": "x", "redirect_uris": ["http://localhost@evil.example/cb"]}, "redirect_uris"),
     ({"name": "x", "redirect_uris": ["http://127.0.0.1.nip.io/cb"]}, "redirect_uris"),
     ({"name": "x", "redirect_uris": ["https://a.example.com/#frag"]}, "redirect_uris"),
     ({"name": "x", "rate_limit_per_hour": -1}, "rate_limit_per_hour")],
)
def test_client_validation(api, owner, body, field):
    resp = requests.post(api + "/oauth/clients", json=body, headers=owner.headers, timeout=sb.TIMEOUT)
    assert field in sb.expect_error(resp, 422, "validation_failed")["fields"]


def test_another_users_clients_are_invisible(api, owner, client, new_user):
    other = new_user()
    for method in ("get", "delete"):
        resp = requests.request(method, api + f"/oauth/clients/{client['id']}", headers=other.headers, timeout=sb.TIMEOUT)
        sb.expect_error(resp, 404, "not_found")
    listed = sb.expect_ok(requests.get(api + "/oauth/clients", headers=other.headers, timeout=sb.TIMEOUT))
    assert client["id"] not in {c["id"] for c in listed}


def test_loopback_redirect_uris_may_be_plain_http(api, owner):
    uris = ["http://localhost:3000/cb", "http://127.0.0.1/cb", "http://[::1]:8000/cb", "http://localhost"]
    c = create_client(api, owner, name="native app", redirect_uris=uris)
    assert c["redirect_uris"] == uris


def test_clients_need_a_user(api):
    sb.expect_error(requests.get(api + "/oauth/clients", timeout=sb.TIMEOUT), 401, "unauthorized")


# --- token endpoint ---------------------------------------------------------------------------


def test_client_credentials_with_basic(api, owner, client):
    body = expect_token(token(api, client))
    assert body["scope"] == "read integrations:read"
    assert "refresh_token" not in body
    me = sb.expect_ok(requests.get(api + "/users/me", headers=sb.bearer(body["access_token"]), timeout=sb.TIMEOUT))
    assert me["id"] == owner.id


def test_client_credentials_with_form(api, client):
    expect_token(token(api, client, auth="form"))


def test_wrong_secret_is_invalid_client(api, client):
    # Change the last character (to one it is not: a secret may end in "x" already).
    last = "y" if client["client_secret"].endswith("x") else "x"
    bad = dict(client, client_secret=client["client_secret"][:-1] + last)
    for auth in ("basic", "form"):
        resp = token(api, bad, auth=auth)
        expect_oauth_error(resp, 401, "invalid_client")
        assert resp.headers.get("WWW-Authenticate", "").startswith("Basic")
    expect_oauth_error(token(api, dict(client, client_id="sbc_nobody")), 401, "invalid_client")
    expect_oauth_error(token(api, client, auth="none"), 401, "invalid_client")


def test_two_client_auth_methods_are_refused(api, client):
    resp = token(api, client, data={"grant_type": "client_credentials", "client_secret": client["client_secret"]})
    expect_oauth_error(resp, 400, "invalid_request")


@pytest.mark.parametrize(
    "data,error",
    [({}, "invalid_request"), ({"grant_type": "password"}, "unsupported_grant_type"),
     ({"grant_type": "client_credentials", "scope": "admin"}, "invalid_scope"),
     ({"grant_type": "client_credentials", "scope": "bogus"}, "invalid_scope"),
     ({"grant_type": "refresh_token"}, "invalid_request"),
     ({"grant_type": "refresh_token", "refresh_token": "sbrt_" + "0" * 43}, "invalid_grant")],
)
def test_token_errors(api, client, data, error):
    expect_oauth_error(token(api, client, data=data), 400, error)


def test_token_endpoint_wants_a_form(api, client):
    resp = requests.post(api + "/oauth/token", json={"grant_type": "client_credentials"},
                         headers=basic(client["client_id"], client["client_secret"]), timeout=sb.TIMEOUT)
    expect_oauth_error(resp, 415, "invalid_request")


def test_secret_in_the_query_string_is_refused(api, client):
    resp = requests.post(api + "/oauth/token?client_secret=" + client["client_secret"],
                         data={"grant_type": "client_credentials", "client_id": client["client_id"]}, timeout=sb.TIMEOUT)
    expect_oauth_error(resp, 400, "invalid_request")


def test_access_token_in_the_query_string_is_refused(api, client):
    t = expect_token(token(api, client))["access_token"]
    resp = requests.get(api + "/users/me?access_token=" + t, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 400, "credentials_in_url")


def test_narrower_scope_and_scope_enforcement(api, client):
    t = expect_token(token(api, client, data={"grant_type": "client_credentials", "scope": "integrations:read"}))
    assert t["scope"] == "integrations:read"
    h = sb.bearer(t["access_token"])
    sb.expect_ok(requests.get(api + "/users/me/integrations", headers=h, timeout=sb.TIMEOUT))
    resp = requests.get(api + "/users/me", headers=h, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 403, "insufficient_scope")
    assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]
    assert resp.headers.get("RateLimit-Limit") == "1000"


def test_expired_access_token_is_invalid_token(api, client):
    t = expect_token(token(api, client))["access_token"]
    digest = hashlib.sha256(t.encode()).hexdigest()
    sb.psql(f"UPDATE oauth_access_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = '{digest}'")
    resp = requests.get(api + "/users/me", headers=sb.bearer(t), timeout=sb.TIMEOUT)
    sb.expect_error(resp, 401, "unauthorized")
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


# --- refresh tokens -----------------------------------------------------------------------------


def offline(api, client):
    body = expect_token(token(api, client, data={"grant_type": "client_credentials", "scope": "read offline_access"}))
    assert body["refresh_token"].startswith("sbrt_")
    return body


def refresh(api, client, rt):
    return token(api, client, data={"grant_type": "refresh_token", "refresh_token": rt})


def test_offline_access_needs_the_client_scope(api, owner):
    c = create_client(api, owner, scopes=["read"])
    expect_oauth_error(token(api, c, data={"grant_type": "client_credentials", "scope": "offline_access"}), 400,
                       "invalid_scope")


def test_refresh_rotates_and_reuse_revokes_the_grant(api, client):
    first = offline(api, client)
    second = expect_token(refresh(api, client, first["refresh_token"]))
    assert second["refresh_token"] != first["refresh_token"]
    third = expect_token(refresh(api, client, second["refresh_token"]))
    sb.expect_ok(requests.get(api + "/users/me", headers=sb.bearer(third["access_token"]), timeout=sb.TIMEOUT))
    # The rotated first token comes back: the whole grant dies, including the newest pair.
    expect_oauth_error(refresh(api, client, first["refresh_token"]), 400, "invalid_grant")
    expect_oauth_error(refresh(api, client, third["refresh_token"]), 400, "invalid_grant")
    for t in (first, second, third):
        resp = requests.get(api + "/users/me", headers=sb.bearer(t["access_token"]), timeout=sb.TIMEOUT)
        sb.expect_error(resp, 401, "unauthorized")


def test_refresh_may_narrow_the_scope(api, client):
    first = offline(api, client)
    body = expect_token(token(api, client, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                                                 "scope": "integrations:read"}))
    assert "integrations:read" in body["scope"].split() and "read" not in body["scope"].split()
    expect_oauth_error(token(api, client, data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"],
                                                "scope": "admin"}), 400, "invalid_scope")


def test_refresh_token_of_another_client_is_refused_and_left_alone(api, owner, client):
    other = create_client(api, owner, scopes=["read", "offline_access"])
    mine = offline(api, client)
    expect_oauth_error(refresh(api, other, mine["refresh_token"]), 400, "invalid_grant")
    expect_token(refresh(api, client, mine["refresh_token"]))


def test_concurrent_refreshes_only_one_wins(api, client):
    rt = offline(api, client)["refresh_token"]
    barrier = threading.Barrier(8)
    results = []

    def go():
        barrier.wait()
        results.append(refresh(api, client, rt))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) == 1, codes
    assert codes.count(400) == 7, codes
    for r in results:
        if r.status_code == 400:
            assert r.json()["error"] == "invalid_grant"


# --- revoke and introspect ---------------------------------------------------------------------


def revoke(api, client, tok, auth="basic"):
    return token_like(api, "/oauth/revoke", client, {"token": tok}, auth)


def introspect(api, client, tok):
    resp = token_like(api, "/oauth/introspect", client, {"token": tok})
    assert resp.status_code == 200, resp.text
    return resp.json()


def token_like(api, path, client, data, auth="basic"):
    h = basic(client["client_id"], client["client_secret"]) if auth == "basic" else {}
    return requests.post(api + path, data=data, headers=h, timeout=sb.TIMEOUT)


def test_introspect(api, owner, client):
    t = offline(api, client)
    info = introspect(api, client, t["access_token"])
    assert info["active"] is True and info["client_id"] == client["client_id"]
    assert info["sub"] == owner.id and info["token_type"] == "Bearer"
    assert info["exp"] > time.time() and set(info["scope"].split()) == {"read", "offline_access"}
    assert introspect(api, client, t["refresh_token"])["active"] is True
    for junk in ("garbage", "sbat_" + "1" * 43, ""):
        if junk:
            assert introspect(api, client, junk) == {"active": False}
    expect_oauth_error(token_like(api, "/oauth/introspect", client, {}), 400, "invalid_request")
    # Another client learns nothing about this one's tokens.
    other = create_client(api, owner)
    assert introspect(api, other, t["access_token"]) == {"active": False}
    # Unauthenticated: invalid_client.
    expect_oauth_error(requests.post(api + "/oauth/introspect", data={"token": t["access_token"]}, timeout=sb.TIMEOUT),
                       401, "invalid_client")


def test_revoke_access_token(api, client):
    t = expect_token(token(api, client))["access_token"]
    resp = revoke(api, client, t)
    assert resp.status_code == 200, resp.text
    assert introspect(api, client, t) == {"active": False}
    sb.expect_error(requests.get(api + "/users/me", headers=sb.bearer(t), timeout=sb.TIMEOUT), 401, "unauthorized")


def test_revoke_unknown_token_is_200(api, client):
    assert revoke(api, client, "no-such-token").status_code == 200
    expect_oauth_error(token_like(api, "/oauth/revoke", client, {}), 400, "invalid_request")
    expect_oauth_error(requests.post(api + "/oauth/revoke", data={"token": "x"}, timeout=sb.TIMEOUT), 401,
                       "invalid_client")


def test_revoking_a_refresh_token_revokes_its_access_tokens(api, client):
    t = offline(api, client)
    assert revoke(api, client, t["refresh_token"], auth="form_none").status_code == 401
    resp = token_like(api, "/oauth/revoke", client,
                      {"token": t["refresh_token"], "client_id": client["client_id"],
                       "client_secret": client["client_secret"], "token_type_hint": "refresh_token"}, auth="form")
    assert resp.status_code == 200, resp.text
    assert introspect(api, client, t["access_token"]) == {"active": False}
    assert introspect(api, client, t["refresh_token"]) == {"active": False}
    expect_oauth_error(refresh(api, client, t["refresh_token"]), 400, "invalid_grant")


def test_another_clients_token_is_left_alone(api, owner, client):
    other = create_client(api, owner)
    t = expect_token(token(api, client))["access_token"]
    assert revoke(api, other, t).status_code == 200
    assert introspect(api, client, t)["active"] is True
    sb.expect_ok(requests.get(api + "/users/me", headers=sb.bearer(t), timeout=sb.TIMEOUT))


def test_deleting_a_client_kills_its_tokens(api, owner):
    c = create_client(api, owner)
    t = expect_token(token(api, c))["access_token"]
    sb.expect_ok(requests.delete(api + f"/oauth/clients/{c['id']}", headers=owner.headers, timeout=sb.TIMEOUT))
    sb.expect_error(requests.get(api + "/users/me", headers=sb.bearer(t), timeout=sb.TIMEOUT), 401, "unauthorized")
    expect_oauth_error(token(api, c), 401, "invalid_client")



def test_a_cached_client_is_still_checked_then_refused_once_deleted(api, owner):
    # Enough grants, from several connections at once, that every oauth2 process has
    # verified the client and keeps it in its per-process cache.
    c = create_client(api, owner)
    last = "y" if c["client_secret"].endswith("x") else "x"
    bad = dict(c, client_secret=c["client_secret"][:-1] + last)

    def burst(client, n=48):
        out = []

        def one():
            with requests.Session() as s:
                for _ in range(n // 8):
                    out.append(s.post(api + "/oauth/token", data={"grant_type": "client_credentials"},
                                      headers=basic(client["client_id"], client["client_secret"]),
                                      timeout=sb.TIMEOUT))
        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out

    assert all(r.status_code == 200 for r in burst(c))
    # Another secret for a cached client id is refused by every process.
    assert all(r.status_code == 401 and r.json()["error"] == "invalid_client" for r in burst(bad))
    sb.expect_ok(requests.delete(api + f"/oauth/clients/{c['id']}", headers=owner.headers, timeout=sb.TIMEOUT))
    # At once, in every process: no token for a deleted client, the right secret or not.
    for r in burst(c):
        expect_oauth_error(r, 401, "invalid_client")
        assert r.headers.get("WWW-Authenticate", "").startswith("Basic")

# --- userinfo, metadata, limits, logs -------------------------------------------------------------


def test_userinfo(api, owner, client):
    t = expect_token(token(api, client))["access_token"]
    resp = requests.get(api + "/oauth/userinfo", headers=sb.bearer(t), timeout=sb.TIMEOUT)
    assert resp.status_code == 200, resp.text
    info = resp.json()
    assert info["sub"] == owner.id and info["email"] == owner.email and info["name"] == owner.name
    resp = requests.get(api + "/oauth/userinfo", headers=sb.bearer("sbat_" + "2" * 43), timeout=sb.TIMEOUT)
    expect_oauth_error(resp, 401, "invalid_token")
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


def test_metadata(base_url):
    resp = requests.get(base_url + "/.well-known/oauth-authorization-server", timeout=sb.TIMEOUT)
    assert resp.status_code == 200, resp.text
    m = resp.json()
    assert m["issuer"] == base_url
    assert m["token_endpoint"] == base_url + "/api/v1/oauth/token"
    assert m["revocation_endpoint"].endswith("/oauth/revoke") and m["introspection_endpoint"].endswith("/oauth/introspect")
    assert set(m["grant_types_supported"]) == {"authorization_code", "client_credentials", "refresh_token"}
    # "none": public clients (PKCE), see test_oauth_authorize.py.
    assert set(m["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post", "none"}
    assert "integrations:read" in m["scopes_supported"]


def test_client_rate_limit_and_logs(api, owner):
    c = create_client(api, owner, scopes=["read"], rate_limit_per_hour=2)
    # Token issuance counts against the client's write budget ...
    t = expect_token(token(api, c))["access_token"]
    expect_token(token(api, c))
    resp = token(api, c)
    sb.expect_error(resp, 429, "rate_limited")
    assert int(resp.headers["Retry-After"]) >= 1 and resp.headers["RateLimit-Remaining"] == "0"
    # ... and reads with its tokens against the read budget.
    h = sb.bearer(t)
    codes = [requests.get(api + "/users/me", headers=h, timeout=sb.TIMEOUT).status_code for _ in range(3)]
    assert codes == [200, 200, 429], codes

    def logged():
        n = sb.psql(f"SELECT count(*) FROM api_request_logs WHERE client_id = '{sb.sql_uuid(c['id'])}'")
        return n == "6"
    assert sb.retry_until(logged), sb.psql(
        f"SELECT method, path, response_status FROM api_request_logs WHERE client_id = '{sb.sql_uuid(c['id'])}'")


PLATFORM_ROUTES = {
    ("post", "/api-keys"), ("get", "/api-keys"), ("delete", "/api-keys/{id}"), ("get", "/api-keys/{id}/usage"),
    ("post", "/oauth/clients"), ("get", "/oauth/clients"), ("get", "/oauth/clients/{id}"),
    ("delete", "/oauth/clients/{id}"), ("post", "/oauth/token"), ("post", "/oauth/revoke"),
    ("post", "/oauth/introspect"), ("get", "/oauth/userinfo"), ("get", "/.well-known/oauth-authorization-server"),
}


def test_openapi_lists_every_platform_route(base_url):
    doc = requests.get(base_url + "/api/docs/openapi.json", timeout=sb.TIMEOUT).json()
    listed = {(m, p) for p, ops in doc["paths"].items() for m in ops if m in ("get", "post", "put", "patch", "delete")}
    assert not PLATFORM_ROUTES - listed, sorted(PLATFORM_ROUTES - listed)
