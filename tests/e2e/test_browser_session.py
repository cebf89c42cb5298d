"""Browser sessions: "session": "cookie" at login and register puts the refresh token in
the HttpOnly cookie sb_refresh (Path=/api/v1/auth) with the CSRF cookie sb_csrf; refresh
and logout by cookie need X-CSRF-Token equal to sb_csrf. Over the https port, as a
browser would (both cookies are Secure)."""

import uuid

import pytest
import requests

import sb


class Browser(requests.Session):
    """A cookie-keeping client of the https port. The dev certificate is self-signed;
    verify is passed per request because REQUESTS_CA_BUNDLE would override Session.verify."""

    def request(self, method, url, **kw):
        kw.setdefault("verify", False)
        return super().request(method, url, **kw)


@pytest.fixture
def browser(https_url):
    s = Browser()
    s.headers["User-Agent"] = sb.USER_AGENT
    s.base = https_url + "/api/v1"
    yield s
    s.close()


def set_cookies(resp):
    """{name: (value, {attribute-lower: value-or-True})} of every Set-Cookie header."""
    out = {}
    for line in resp.raw.headers.getlist("Set-Cookie"):
        parts = [p.strip() for p in line.split(";")]
        name, _, value = parts[0].partition("=")
        attrs = {}
        for p in parts[1:]:
            k, eq, v = p.partition("=")
            attrs[k.lower()] = v if eq else True
        out[name] = (value, attrs)
    return out


def account(register):
    email, password = sb.unique_email("browser"), "pw-" + uuid.uuid4().hex[:16]
    sb.expect_ok(register(email, password, "Browser User"), 201)
    return email, password


def cookie_login(browser, email, password):
    return browser.post(
        browser.base + "/auth/login",
        json={"email": email, "password": password, "session": "cookie"},
        timeout=sb.TIMEOUT,
    )


def csrf(browser):
    return {"X-CSRF-Token": browser.cookies.get("sb_csrf", path="/")}


def cookie_refresh(browser, headers=None):
    return browser.post(browser.base + "/auth/refresh", json={}, headers=headers, timeout=sb.TIMEOUT)


def test_cookie_login_sets_both_cookies_and_keeps_the_token_out_of_the_body(browser, register):
    email, password = account(register)
    resp = cookie_login(browser, email, password)
    d = sb.expect_ok(resp)
    assert "refresh_token" not in d
    assert d["session"] == "cookie" and d["token_type"] == "Bearer"
    assert d["user"]["email"] == email
    assert d["expires_in"] > 0 and d["refresh_expires_in"] > 0
    c = set_cookies(resp)
    value, a = c["sb_refresh"]
    assert len(value) >= 40
    assert a["path"] == "/api/v1/auth" and a["httponly"] is True and a["secure"] is True
    assert a["samesite"] == "Strict" and int(a["max-age"]) == d["refresh_expires_in"]
    token, a = c["sb_csrf"]
    assert len(token) >= 40 and token != value
    assert a["path"] == "/" and a["secure"] is True and a["samesite"] == "Strict"
    assert "httponly" not in a  # the page reads it to send X-CSRF-Token
    me = sb.expect_ok(browser.get(browser.base + "/users/me", headers=sb.bearer(d["access_token"]), timeout=sb.TIMEOUT))
    assert me["email"] == email


def test_body_login_is_unchanged(browser, register):
    email, password = account(register)
    resp = browser.post(browser.base + "/auth/login", json={"email": email, "password": password}, timeout=sb.TIMEOUT)
    d = sb.expect_ok(resp)
    assert d["refresh_token"] and "session" not in d
    assert set_cookies(resp) == {}


def test_cookie_refresh_rotates_the_cookie_and_answers_the_access_token(browser, register):
    email, password = account(register)
    sb.expect_ok(cookie_login(browser, email, password))
    first = browser.cookies.get("sb_refresh", path="/api/v1/auth")
    resp = cookie_refresh(browser, csrf(browser))
    d = sb.expect_ok(resp)
    assert d["access_token"] and d["session"] == "cookie" and "refresh_token" not in d
    assert d["user"]["email"] == email
    second = browser.cookies.get("sb_refresh", path="/api/v1/auth")
    assert second and second != first
    assert set_cookies(resp)["sb_refresh"][1]["httponly"] is True
    sb.expect_ok(browser.get(browser.base + "/users/me", headers=sb.bearer(d["access_token"]), timeout=sb.TIMEOUT))
    # And again with the new pair of cookies.
    sb.expect_ok(cookie_refresh(browser, csrf(browser)))


def test_a_replayed_refresh_cookie_ends_the_session(browser, register, https_url):
    email, password = account(register)
    sb.expect_ok(cookie_login(browser, email, password))
    stolen = browser.cookies.get("sb_refresh", path="/api/v1/auth")
    token = browser.cookies.get("sb_csrf", path="/")
    sb.expect_ok(cookie_refresh(browser, csrf(browser)))
    # Someone replays the rotated cookie: the whole login ends, the holder's new one too.
    thief = requests.post(
        https_url + "/api/v1/auth/refresh",
        json={},
        headers={"X-CSRF-Token": token, "Cookie": f"sb_refresh={stolen}; sb_csrf={token}"},
        verify=False,
        timeout=sb.TIMEOUT,
    )
    sb.expect_error(thief, 401, "invalid_refresh_token")
    expired = set_cookies(thief)
    assert expired["sb_refresh"][0] == "" and expired["sb_refresh"][1]["max-age"] == "0"
    assert expired["sb_csrf"][1]["max-age"] == "0"
    sb.expect_error(cookie_refresh(browser, csrf(browser)), 401, "invalid_refresh_token")


@pytest.mark.parametrize("how", ["no header", "wrong header", "empty header", "no csrf cookie"])
def test_cookie_refresh_without_the_csrf_token_is_403(browser, register, how):
    email, password = account(register)
    sb.expect_ok(cookie_login(browser, email, password))
    before = browser.cookies.get("sb_refresh", path="/api/v1/auth")
    good = csrf(browser)
    if how == "no header":
        headers = {}
    elif how == "wrong header":
        headers = {"X-CSRF-Token": good["X-CSRF-Token"][:-2] + "xx"}
    elif how == "empty header":
        headers = {"X-CSRF-Token": ""}
    else:
        browser.cookies.clear(domain="127.0.0.1", path="/", name="sb_csrf")
        headers = good
    for path in ("/auth/refresh", "/auth/logout"):
        resp = browser.post(browser.base + path, json={}, headers=headers, timeout=sb.TIMEOUT)
        sb.expect_error(resp, 403, "csrf_failed")
        assert "sb_refresh" not in set_cookies(resp)
    # Nothing was rotated or revoked: the session still refreshes with the right token.
    assert browser.cookies.get("sb_refresh", path="/api/v1/auth") == before
    if how == "no csrf cookie":
        browser.cookies.set("sb_csrf", good["X-CSRF-Token"], domain="127.0.0.1", path="/")
    sb.expect_ok(cookie_refresh(browser, good))


def test_refresh_without_body_token_or_cookie_is_422(browser):
    err = sb.expect_error(cookie_refresh(browser, {"X-CSRF-Token": "x"}), 422, "validation_failed")
    assert set(err["fields"]) == {"refresh_token"}


def test_an_unknown_refresh_cookie_is_401_and_clears_the_cookies(https_url):
    resp = requests.post(
        https_url + "/api/v1/auth/refresh",
        json={},
        headers={"X-CSRF-Token": "abc", "Cookie": "sb_refresh=never-issued; sb_csrf=abc"},
        verify=False,
        timeout=sb.TIMEOUT,
    )
    sb.expect_error(resp, 401, "invalid_refresh_token")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert set_cookies(resp)["sb_refresh"][1]["max-age"] == "0"


def test_a_body_token_wins_over_the_cookie(browser, register, login):
    email, password = account(register)
    sb.expect_ok(cookie_login(browser, email, password))
    cookie_before = browser.cookies.get("sb_refresh", path="/api/v1/auth")
    body_token = sb.expect_ok(login(email, password))["refresh_token"]
    resp = browser.post(browser.base + "/auth/refresh", json={"refresh_token": body_token}, timeout=sb.TIMEOUT)
    d = sb.expect_ok(resp)
    assert d["refresh_token"] and "session" not in d  # API-client answer, no CSRF needed
    assert set_cookies(resp) == {}
    assert browser.cookies.get("sb_refresh", path="/api/v1/auth") == cookie_before


def test_cookie_logout_ends_the_session_and_expires_the_cookies(browser, register):
    email, password = account(register)
    sb.expect_ok(cookie_login(browser, email, password))
    cookie = browser.cookies.get("sb_refresh", path="/api/v1/auth")
    token = browser.cookies.get("sb_csrf", path="/")
    resp = browser.post(browser.base + "/auth/logout", json={}, headers=csrf(browser), timeout=sb.TIMEOUT)
    assert sb.expect_ok(resp) is None
    c = set_cookies(resp)
    assert c["sb_refresh"][1]["max-age"] == "0" and c["sb_refresh"][1]["path"] == "/api/v1/auth"
    assert c["sb_csrf"][1]["max-age"] == "0" and c["sb_csrf"][1]["path"] == "/"
    assert browser.cookies.get("sb_refresh", path="/api/v1/auth") is None
    # The old cookie no longer refreshes.
    sb.expect_error(
        requests.post(
            browser.base + "/auth/refresh",
            json={},
            headers={"X-CSRF-Token": token, "Cookie": f"sb_refresh={cookie}; sb_csrf={token}"},
            verify=False,
            timeout=sb.TIMEOUT,
        ),
        401,
        "invalid_refresh_token",
    )


def test_cookie_register_signs_the_new_account_in(browser):
    email = sb.unique_email("browser-reg")
    resp = browser.post(
        browser.base + "/auth/register",
        json={"email": email, "password": "pw-" + uuid.uuid4().hex, "name": "New", "session": "cookie"},
        timeout=sb.TIMEOUT,
    )
    d = sb.expect_ok(resp, 201)
    assert d["session"] == "cookie" and d["user"]["email"] == email and "refresh_token" not in d
    assert set_cookies(resp)["sb_refresh"][1]["httponly"] is True
    sb.expect_ok(browser.get(browser.base + "/users/me", headers=sb.bearer(d["access_token"]), timeout=sb.TIMEOUT))
    sb.expect_ok(cookie_refresh(browser, csrf(browser)))
    # The audit log has the registration and the sign-in.
    log = sb.expect_ok(browser.get(browser.base + "/users/me/audit-log", headers=sb.bearer(d["access_token"]),
                                   timeout=sb.TIMEOUT))
    actions = [e["action"] for e in log["items"]]
    assert "user.registered" in actions and "user.login" in actions


def test_register_without_session_still_answers_the_user(browser):
    resp = browser.post(
        browser.base + "/auth/register",
        json={"email": sb.unique_email(), "password": "pw-" + uuid.uuid4().hex, "name": "Plain"},
        timeout=sb.TIMEOUT,
    )
    d = sb.expect_ok(resp, 201)
    assert "access_token" not in d and sb.UUID_RE.match(d["id"])
    assert set_cookies(resp) == {}


@pytest.mark.parametrize("value", ["body", "Cookie", "", 1, True])
def test_session_must_be_cookie(browser, register, value):
    email, password = account(register)
    resp = browser.post(
        browser.base + "/auth/login", json={"email": email, "password": password, "session": value},
        timeout=sb.TIMEOUT,
    )
    err = sb.expect_error(resp, 422, "validation_failed")
    assert set(err["fields"]) == {"session"}
    resp = browser.post(
        browser.base + "/auth/register",
        json={"email": sb.unique_email(), "password": "pw-" + uuid.uuid4().hex, "name": "X", "session": value},
        timeout=sb.TIMEOUT,
    )
    err = sb.expect_error(resp, 422, "validation_failed")
    assert set(err["fields"]) == {"session"}
