"""The auth, apikeys and oauth2 groups while PostgreSQL is down: every store call they make
(accounts, sessions, API keys and their lookup, OAuth clients, tokens and client
authentication) answers 503 with Retry-After, never a 500 or a hang, and each works again
once the database is back."""

import base64
import uuid

import requests

import sb


def expect_503(resp, oauth=False):
    assert resp.status_code == 503, f"{resp.request.method} {resp.url}: {resp.status_code} {resp.text}"
    assert resp.headers.get("Retry-After", "").isdigit(), resp.headers
    body = resp.json()
    if oauth and "success" not in body:
        assert body["error"] == "temporarily_unavailable", body
    else:
        assert body["success"] is False and body["error"]["code"] == "service_unavailable", body


def basic(client_id, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_platform_groups_answer_503_without_the_database_and_recover(api, new_user, stack):
    u = new_user()
    key = sb.expect_ok(requests.post(api + "/api-keys", json={"name": "db down"}, headers=u.headers,
                                     timeout=sb.TIMEOUT), 201)
    client = sb.expect_ok(requests.post(api + "/oauth/clients", json={"name": "db down", "scopes": ["read"]},
                                        headers=u.headers, timeout=sb.TIMEOUT), 201)
    creds = basic(client["client_id"], client["client_secret"])
    r = requests.post(api + "/oauth/token", data={"grant_type": "client_credentials"}, headers=creds,
                      timeout=sb.TIMEOUT)
    assert r.status_code == 200, r.text
    access = r.json()["access_token"]

    calls = [
        ("POST", "/auth/register", {"json": {"email": sb.unique_email("down"), "password": "correct horse battery",
                                              "name": "Down"}}, False),
        ("POST", "/auth/logout", {"json": {"refresh_token": u.refresh_token}}, False),
        ("GET", "/api-keys", {"headers": u.headers}, False),
        ("POST", "/api-keys", {"headers": u.headers, "json": {"name": "later"}}, False),
        ("DELETE", f"/api-keys/{key['id']}", {"headers": u.headers}, False),
        ("GET", f"/api-keys/{key['id']}/usage", {"headers": u.headers}, False),
        ("GET", "/users/me", {"headers": {"X-API-Key": key["key"]}}, False),
        ("GET", "/oauth/clients", {"headers": u.headers}, False),
        ("POST", "/oauth/clients", {"headers": u.headers, "json": {"name": "later"}}, False),
        ("GET", f"/oauth/clients/{client['id']}", {"headers": u.headers}, False),
        ("DELETE", f"/oauth/clients/{client['id']}", {"headers": u.headers}, False),
        ("POST", "/oauth/token", {"headers": creds, "data": {"grant_type": "client_credentials"}}, True),
        ("POST", "/oauth/introspect", {"headers": creds, "data": {"token": access}}, True),
        ("GET", "/oauth/userinfo", {"headers": sb.bearer(access)}, True),
        ("POST", "/oauth/token", {"headers": creds, "data": {"grant_type": "authorization_code",
                                                             "code": "sbac_" + "1" * 43}}, True),
        ("GET", f"/oauth/consent/{uuid.uuid4()}", {"headers": u.headers}, False),
        ("POST", f"/oauth/consent/{uuid.uuid4()}", {"headers": dict(u.headers, **{
            "X-CSRF-Token": "c" * 43, "Cookie": "sb_csrf=" + "c" * 43}), "json": {"approve": True}}, False),
        ("GET", "/users/me/authorized-apps", {"headers": u.headers}, False),
        ("DELETE", f"/users/me/authorized-apps/{client['client_id']}", {"headers": u.headers}, False),
        # A browser session's refresh and logout by cookie.
        ("POST", "/auth/refresh", {"headers": {"X-CSRF-Token": "c" * 43,
                                               "Cookie": f"sb_refresh={u.refresh_token}; sb_csrf={'c' * 43}"},
                                   "json": {}}, False),
    ]
    try:
        stack("pg-stop")
        for method, path, kwargs, oauth in calls:
            expect_503(requests.request(method, api + path, timeout=sb.TIMEOUT, **kwargs), oauth)
        # The authorization endpoint cannot check the client: a page, never a redirect.
        r = requests.get(api + "/oauth/authorize", params={"response_type": "code", "client_id": client["client_id"]},
                         allow_redirects=False, timeout=sb.TIMEOUT)
        assert r.status_code == 503 and "Location" not in r.headers, r.text
        assert r.headers["Content-Type"].startswith("text/html") and r.headers["Retry-After"].isdigit()
    finally:
        stack("pg-start")

    def keys_ok():
        r = requests.get(api + "/api-keys", headers=u.headers, timeout=sb.TIMEOUT)
        return r if r.status_code == 200 else None

    resp = sb.retry_until(keys_ok, timeout=10)
    assert resp is not None, "GET /api-keys did not recover within 10 s of PostgreSQL coming back"
    # Nothing was half-done while the database was away: the key and the client still work.
    assert [k["id"] for k in sb.expect_ok(resp)] == [key["id"]]
    sb.expect_ok(requests.get(api + "/users/me", headers={"X-API-Key": key["key"]}, timeout=sb.TIMEOUT))
    sb.expect_ok(requests.get(api + f"/oauth/clients/{client['id']}", headers=u.headers, timeout=sb.TIMEOUT))
    r = requests.get(api + "/oauth/userinfo", headers=sb.bearer(access), timeout=sb.TIMEOUT)
    assert r.status_code == 200 and r.json()["sub"] == u.id, r.text
