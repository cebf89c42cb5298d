"""The error envelope at the edges: unknown routes, methods, media types, malformed and
oversized bodies; security headers; HTTPS; the API documentation."""

import json
import re

import pytest
import requests

import sb

JSON = {"Content-Type": "application/json"}


# --- unknown routes and methods ----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nope",
        "/api/v1/users/you",
        "/api/v1/users/me/",
        "/api/v1/users/me/nothing",
        "/api/v1/auth/register/extra",
        "/api/v1/auth/whoami",
        "/api/v2/users/me",
        "/api/",
        "/nope",
        "/index.html",
        "/api/v1/nope.html",
        "/some/deep/path?x=1",
    ],
)
def test_unknown_route_is_a_json_404(base_url, path):
    resp = requests.get(base_url + path, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 404, "not_found")


def test_unknown_route_with_other_methods_is_a_json_404(base_url):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        resp = requests.request(method, base_url + "/api/v1/nope", json={}, timeout=sb.TIMEOUT)
        sb.expect_error(resp, 404, "not_found")


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("DELETE", "/api/v1/users/me", "GET"),
        ("POST", "/api/v1/users/me", "GET"),
        ("PUT", "/api/v1/users/me", "GET"),
        ("PATCH", "/api/v1/users/me/audit-log", "GET"),
        ("GET", "/api/v1/auth/login", "POST"),
        ("GET", "/api/v1/auth/register", "POST"),
        ("DELETE", "/api/v1/auth/refresh", "POST"),
        ("GET", "/api/v1/auth/logout", "POST"),
    ],
)
def test_wrong_method_is_405_with_allow(base_url, method, path, allow):
    # No token and no body: the method is checked first.
    resp = requests.request(method, base_url + path, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 405, "method_not_allowed")
    allowed = {m.strip() for m in resp.headers.get("Allow", "").split(",") if m.strip()}
    assert allow in allowed, resp.headers
    assert method not in allowed, resp.headers


# --- request bodies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", "text/json", None],
)
def test_non_json_content_type_is_415(api, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps({"email": sb.unique_email(), "password": "long enough pw", "name": "X"})
    resp = requests.post(api + "/auth/register", data=body.encode(), headers=headers, timeout=sb.TIMEOUT)
    if content_type is None:
        assert "Content-Type" not in resp.request.headers
    sb.expect_error(resp, 415, "unsupported_media_type")


def test_json_content_type_parameters_are_accepted(api):
    body = json.dumps({"email": sb.unique_email(), "password": "long enough pw", "name": "X"})
    resp = requests.post(
        api + "/auth/register",
        data=body.encode(),
        headers={"Content-Type": "Application/JSON; charset=utf-8"},
        timeout=sb.TIMEOUT,
    )
    sb.expect_ok(resp, 201)


@pytest.mark.parametrize(
    "body",
    [
        b'{"email":',
        b"{email: 'x'}",
        b'{"a": 1} trailing',
        b'{"a": 1}{"b": 2}',
        b"\xff\xfe{}",
        b"nul\x00l",
        b'{"a":' * 100 + b"1" + b"}" * 100,
    ],
    ids=["truncated", "not-json", "trailing-garbage", "two-documents", "bad-bytes", "nul", "too-deep"],
)
def test_malformed_json_is_400(api, body):
    resp = requests.post(api + "/auth/login", data=body, headers=JSON, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 400, "malformed_json")


@pytest.mark.parametrize("body", [b"[]", b'[{"email":"a@b.c","password":"x"}]', b'"text"', b"42", b"null", b"true"])
def test_json_that_is_not_an_object_is_400(api, body):
    resp = requests.post(api + "/auth/login", data=body, headers=JSON, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 400, "malformed_json")


def test_post_without_a_body_is_400(api):
    for path in ("/auth/register", "/auth/login", "/auth/refresh", "/auth/logout"):
        resp = requests.post(api + path, headers=JSON, timeout=sb.TIMEOUT)
        assert resp.request.headers.get("Content-Length") == "0"
        sb.expect_error(resp, 400, "malformed_json")


def test_body_over_one_mebibyte_is_413(api):
    pad = "x" * (1024 * 1024)
    body = json.dumps({"email": sb.unique_email(), "password": pad, "name": "X"}).encode()
    assert len(body) > 1024 * 1024
    resp = requests.post(api + "/auth/register", data=body, headers=JSON, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 413, "payload_too_large")
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"


def test_body_of_exactly_one_mebibyte_reaches_the_responder(api):
    # At the limit the body is accepted and validated (the password is far too long).
    head = json.dumps({"email": sb.unique_email(), "name": "X", "password": ""})[:-2]  # ends in '"password": "' 
    pad = 1024 * 1024 - len(head) - 2
    body = (head + "x" * pad + '"}').encode()
    assert len(body) == 1024 * 1024
    resp = requests.post(api + "/auth/register", data=body, headers=JSON, timeout=sb.TIMEOUT)
    err = sb.expect_error(resp, 422, "validation_failed")
    assert set(err["fields"]) == {"password"}


def test_chunked_body_is_read(api):
    # No Content-Length from the client: nginx buffers the body and passes its length on.
    resp = requests.post(api + "/auth/login", data=iter([b'{"email": 1', b', "password": ""}']), headers=JSON, timeout=sb.TIMEOUT)
    assert resp.request.headers.get("Transfer-Encoding") == "chunked"
    err = sb.expect_error(resp, 422, "validation_failed")
    assert set(err["fields"]) == {"email", "password"}


def test_get_with_a_body_is_still_answered(api, new_user):
    u = new_user()
    resp = requests.get(api + "/users/me", headers=u.headers, data=b"{}", timeout=sb.TIMEOUT)
    assert sb.expect_ok(resp)["id"] == u.id


# --- headers --------------------------------------------------------------------------------


def assert_security_headers(resp):
    h = resp.headers
    assert h.get("X-Content-Type-Options") == "nosniff", (resp.url, resp.status_code, dict(h))
    rid = h.get("X-Request-Id", "")
    assert re.fullmatch(r"[0-9a-f]{32}", rid), (resp.url, resp.status_code, dict(h))
    assert h.get("X-Frame-Options") == "DENY", (resp.url, resp.status_code, dict(h))
    assert "frame-ancestors 'none'" in h.get("Content-Security-Policy", ""), (resp.url, dict(h))
    return rid


def test_security_headers_on_every_kind_of_answer(api, base_url, new_user):
    u = new_user()
    answers = [
        requests.get(api + "/users/me", headers=u.headers, timeout=sb.TIMEOUT),  # 200 responder
        requests.get(api + "/users/me", timeout=sb.TIMEOUT),  # 401 responder
        requests.delete(api + "/users/me", timeout=sb.TIMEOUT),  # 405 responder
        requests.post(api + "/auth/login", json={}, timeout=sb.TIMEOUT),  # 422 responder
        requests.get(api + "/nope", timeout=sb.TIMEOUT),  # 404 nginx
        requests.get(base_url + "/nope", timeout=sb.TIMEOUT),  # 404 nginx
        requests.get(base_url + "/_sb/auth/healthz", timeout=sb.TIMEOUT),  # probe
        requests.get(base_url + "/api/docs/", timeout=sb.TIMEOUT),  # docs
        requests.get(base_url + "/api/docs/openapi.json", timeout=sb.TIMEOUT),
    ]
    ids = [assert_security_headers(r) for r in answers]
    assert len(set(ids)) == len(ids), "every request gets its own id"


def test_api_answers_are_not_cached(api, new_user):
    u = new_user()
    resp = requests.get(api + "/users/me", headers=u.headers, timeout=sb.TIMEOUT)
    assert "no-store" in resp.headers.get("Cache-Control", ""), resp.headers


# --- HTTPS ----------------------------------------------------------------------------------


def test_https_serves_the_same_api(https_url, new_user):
    u = new_user()
    resp = requests.get(https_url + "/api/v1/users/me", headers=u.headers, verify=False, timeout=sb.TIMEOUT)
    assert sb.expect_ok(resp)["id"] == u.id
    assert_security_headers(resp)
    assert resp.headers.get("Strict-Transport-Security", "").startswith("max-age="), resp.headers

    resp = requests.get(https_url + "/api/v1/users/me", verify=False, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 401, "unauthorized")
    resp = requests.get(https_url + "/api/v1/nope", verify=False, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 404, "not_found")


def test_https_login(https_url, new_user):
    u = new_user()
    resp = requests.post(
        https_url + "/api/v1/auth/login",
        json={"email": u.email, "password": u.password},
        verify=False,
        timeout=sb.TIMEOUT,
    )
    assert sb.expect_ok(resp)["user"]["id"] == u.id


# --- API documentation --------------------------------------------------------------------

AUTH_ROUTES = {
    ("post", "/auth/register"),
    ("post", "/auth/login"),
    ("post", "/auth/refresh"),
    ("post", "/auth/logout"),
    ("get", "/users/me"),
    ("get", "/users/me/audit-log"),
}


def test_docs_serve_swagger_ui(base_url):
    resp = requests.get(base_url + "/api/docs/", timeout=sb.TIMEOUT)
    assert resp.status_code == 200
    assert resp.headers.get("Content-Type", "").startswith("text/html")
    assert "swagger-ui" in resp.text
    # Every script and stylesheet the page references is served from /api/docs/.
    assets = re.findall(r'(?:src|href)="(/api/docs/[^"]+)"', resp.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
    for asset in assets:
        r = requests.get(base_url + asset, timeout=sb.TIMEOUT)
        assert r.status_code == 200, (asset, r.status_code)
        assert len(r.content) > 0, asset


def test_docs_without_trailing_slash_redirect(base_url):
    resp = requests.get(base_url + "/api/docs", allow_redirects=False, timeout=sb.TIMEOUT)
    assert resp.status_code in (301, 302, 307, 308)
    assert resp.headers["Location"].endswith("/api/docs/")


def test_openapi_yaml_is_served(base_url):
    resp = requests.get(base_url + "/api/docs/openapi.yaml", timeout=sb.TIMEOUT)
    assert resp.status_code == 200
    assert "yaml" in resp.headers.get("Content-Type", "")
    assert resp.text.lstrip().startswith("openapi: 3")
    for _, path in AUTH_ROUTES:
        assert f"  {path}:" in resp.text, path


def test_openapi_json_lists_every_auth_route(base_url):
    resp = requests.get(base_url + "/api/docs/openapi.json", timeout=sb.TIMEOUT)
    assert resp.status_code == 200
    assert resp.headers.get("Content-Type", "").startswith("application/json")
    doc = resp.json()
    assert str(doc["openapi"]).startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"]
    listed = {(m, p) for p, ops in doc["paths"].items() for m in ops if m in ("get", "post", "put", "patch", "delete")}
    missing = AUTH_ROUTES - listed
    assert not missing, f"routes served but not documented: {sorted(missing)}"
    servers = [s["url"] for s in doc.get("servers", [])]
    assert "/api/v1" in servers, servers


def test_documented_auth_routes_exist(base_url):
    # The reverse direction: each documented auth route answers something other than 404.
    doc = requests.get(base_url + "/api/docs/openapi.json", timeout=sb.TIMEOUT).json()
    for method, path in sorted(AUTH_ROUTES):
        assert method in doc["paths"][path]
        resp = requests.request(method.upper(), base_url + "/api/v1" + path, timeout=sb.TIMEOUT)
        assert resp.status_code != 404, (method, path)
