"""The OAuth connect engine end to end: connect/callback with state and PKCE against a
fake GitHub, a fake Google and a real OAuth2 server (oauth2-mock-server); sealed token
storage; state failures; sign-in; refresh (due, forced, refused, concurrent); revocation."""

import concurrent.futures
import urllib.parse

import pytest
import requests

import oauthflow as of
import sb


def integ(api, user, provider, method="GET", **kw):
    return requests.request(method, f"{api}/users/me/integrations/{provider}", headers=user.headers,
                            timeout=sb.TIMEOUT, **kw)


# --- start -------------------------------------------------------------------------------


def test_connect_redirects_to_the_provider_with_state_and_pkce(api, new_user):
    u = new_user()
    r = requests.get(f"{api}/auth/github/connect", headers=u.headers, allow_redirects=False, timeout=sb.TIMEOUT)
    assert r.status_code == 302, r.text
    loc = urllib.parse.urlsplit(r.headers["Location"])
    q = dict(urllib.parse.parse_qsl(loc.query))
    assert loc.path == "/login/oauth/authorize"
    assert q["client_id"] == "gh-test-client"
    assert q["redirect_uri"].endswith("/api/v1/auth/github/callback")
    assert q["response_type"] == "code"
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert len(q["state"]) == 43
    assert set(q["scope"].split(" ")) == {"read:user", "user:email", "repo"}


def test_connect_json_answers_url_and_state(api, new_user):
    u = new_user()
    d = sb.expect_ok(of.start(api, "google", u.headers))
    assert set(d) >= {"authorization_url", "state", "provider", "expires_in"}
    assert d["expires_in"] == 600
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(d["authorization_url"]).query))
    assert q["state"] == d["state"]
    assert q["access_type"] == "offline"  # Google needs it for a refresh token


def test_connect_requires_a_jwt(api):
    sb.expect_error(of.start(api, "github"), 401, "unauthorized")


def test_connect_unknown_and_unconfigured_providers(api, new_user):
    u = new_user()
    sb.expect_error(of.start(api, "nosuchprovider", u.headers), 404, "not_found")
    sb.expect_error(of.start(api, "unconfigured", u.headers), 409, "provider_not_configured")
    sb.expect_error(of.start(api, "spotify", u.headers), 409, "provider_not_configured")


def test_catalog_lists_oauth_providers_with_availability(api, http):
    items = sb.expect_ok(http.get(f"{api}/integrations", timeout=sb.TIMEOUT))
    by = {i["provider"]: i for i in items}
    for name in ("github", "google", "gitlab", "microsoft", "slack", "discord", "dropbox", "bitbucket", "notion",
                 "spotify", "oidcmock", "mqtt"):
        assert name in by, name
    assert by["github"]["auth_type"] == "oauth2" and by["github"]["available"] is True
    assert by["spotify"]["available"] is False
    assert by["github"]["connect_url"] == "/api/v1/auth/github/connect"
    assert by["github"]["sign_in"] is True


# --- connect and stored tokens -------------------------------------------------------------


def test_github_connect_stores_sealed_tokens_and_redirects_to_frontend(api, new_user):
    u = new_user()
    login = of.new_login()
    r = of.connect(api, u, "github", fake_user=login)
    assert r.status_code == 302, r.text
    assert r.headers["Location"] == of.FRONTEND + "/settings/integrations?connected=github"
    row = sb.psql(f"SELECT access_token, refresh_token, status, token_expires_at IS NOT NULL, metadata->'profile'->>'username' "
                  f"FROM user_integrations WHERE user_id = '{sb.sql_uuid(u.id)}' AND provider = 'github'")
    access, refresh, status, has_exp, username = row.split("|")
    assert access.startswith("sb1.") and refresh.startswith("sb1.")
    assert "at_" not in access and "rt_" not in refresh
    assert status == "active" and has_exp == "t" and username == login
    dump = sb.psql(f"SELECT row_to_json(ui)::text FROM user_integrations ui WHERE user_id = '{sb.sql_uuid(u.id)}'")
    assert "at_" not in dump and "rt_" not in dump
    v = sb.expect_ok(integ(api, u, "github"))
    assert v["connected"] is True and v["username"] == login
    assert v["email"] == f"{login}@example.com"
    assert v["auto_sync"] is False and isinstance(v["repositories"], list)
    assert set(v["scopes"]) >= {"read:user"}
    for secret in ("access_token", "refresh_token"):
        assert secret not in v
    listed = sb.expect_ok(requests.get(f"{api}/users/me/integrations", headers=u.headers, timeout=sb.TIMEOUT))
    gh = next(i for i in listed if i["provider"] == "github")
    assert gh["connected"] is True and gh["status"] == "active"
    audit = sb.psql(f"SELECT count(*) FROM audit_events WHERE user_id = '{sb.sql_uuid(u.id)}' "
                    f"AND action = 'integration.connected' AND provider = 'github'")
    assert audit == "1"
    events = sb.psql(f"SELECT count(*) FROM events WHERE user_id = '{sb.sql_uuid(u.id)}' AND type = 'integration.connected'")
    assert events == "1"


def test_google_connect_json_mode_and_view(api, new_user):
    u = new_user()
    login = of.new_login("gg")
    r = of.connect(api, u, "google", fake_user=login, json_mode=True)
    d = sb.expect_ok(r)
    assert d["provider"] == "google" and d["connected"] is True
    v = sb.expect_ok(integ(api, u, "google"))
    assert v["connected"] is True and v["email"] == f"{login}@example.com"
    assert v["name"] == login.title() and v["avatar_url"].endswith(login)
    assert "openid" in v["scopes"] or "email" in v["scopes"] or v["scopes"]


def test_generic_provider_from_the_providers_file_on_a_real_oauth2_server(api, new_user):
    u = new_user()
    r = of.connect(api, u, "oidcmock", json_mode=True)
    d = sb.expect_ok(r)
    assert d["connected"] is True and d["account"] == "mockuser"
    v = sb.expect_ok(integ(api, u, "oidcmock"))
    assert v["email"] == "mockuser@example.org" and v["connected"] is True
    assert v["token_expires_at"] is not None


def test_another_users_integration_is_not_visible(api, new_user):
    a, b = new_user(), new_user()
    assert of.connect(api, a, "github", fake_user=of.new_login()).status_code == 302
    sb.expect_error(integ(api, b, "github"), 404, "not_found")
    sb.expect_error(integ(api, b, "github", "DELETE"), 404, "not_found")
    sb.expect_ok(integ(api, a, "github"))


# --- state failures -------------------------------------------------------------------------


def _no_row(user, provider):
    return sb.psql(f"SELECT count(*) FROM user_integrations WHERE user_id = '{sb.sql_uuid(user.id)}' "
                   f"AND provider = '{provider}'") == "0"


def test_state_reuse_is_refused(api, new_user):
    u = new_user()
    d = sb.expect_ok(of.start(api, "github", u.headers))
    cb = of.authorize(d["authorization_url"], of.new_login())
    assert of.callback(cb).status_code == 302
    r = of.callback(cb)
    parts, q, _ = of.location_query(r)
    assert q == {"error": "state_reused", "provider": "github"}
    sb.expect_error(of.callback(cb, json_mode=True), 400, "state_reused")


def test_state_expired_is_refused_and_nothing_stored(api, new_user):
    u = new_user()
    d = sb.expect_ok(of.start(api, "github", u.headers))
    sb.psql(f"UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE user_id = '{sb.sql_uuid(u.id)}'")
    cb = of.authorize(d["authorization_url"], of.new_login())
    sb.expect_error(of.callback(cb, json_mode=True), 400, "state_expired")
    assert _no_row(u, "github")


def test_state_unknown_missing_and_mismatched(api, new_user):
    u = new_user()
    sb.expect_error(of.callback(f"{api}/auth/github/callback?code=abc&state={'x' * 43}", json_mode=True), 400,
                    "state_unknown")
    sb.expect_error(of.callback(f"{api}/auth/github/callback?code=abc", json_mode=True), 400, "state_missing")
    # A state issued for Google presented at GitHub's callback.
    d = sb.expect_ok(of.start(api, "google", u.headers))
    r = of.callback(f"{api}/auth/github/callback?code=abc&state={d['state']}")
    assert r.status_code == 302
    _, q, _ = of.location_query(r)
    assert q["error"] == "state_mismatch"
    # ... and it is consumed: it cannot be used at Google afterwards either.
    sb.expect_error(of.callback(f"{api}/auth/google/callback?code=abc&state={d['state']}", json_mode=True), 400,
                    "state_reused")
    assert _no_row(u, "github") and _no_row(u, "google")


def test_access_denied_at_the_provider(api, new_user):
    u = new_user()
    d = sb.expect_ok(of.start(api, "github", u.headers))
    cb = of.authorize(d["authorization_url"], deny=True)
    r = of.callback(cb)
    assert r.status_code == 302
    assert r.headers["Location"] == of.FRONTEND + "/settings/integrations?error=access_denied&provider=github"
    assert _no_row(u, "github")
    # The state was consumed with the denial.
    sb.expect_error(of.callback(cb.replace("error=access_denied", "code=x"), json_mode=True), 400, "state_reused")


def test_tampered_pkce_verifier_fails_the_exchange(api, new_user):
    u = new_user()
    d = sb.expect_ok(of.start(api, "github", u.headers))
    # A code obtained with another challenge than ours: the fake checks S256(verifier).
    url = d["authorization_url"].replace("code_challenge=", "code_challenge=AAAA")
    sb.expect_error(of.callback(of.authorize(url, of.new_login()), json_mode=True), 400, "token_exchange_refused")
    assert _no_row(u, "github")


# --- sign in --------------------------------------------------------------------------------


def test_sign_in_with_github_creates_then_finds_the_user(api):
    login = of.new_login("signin")
    d = sb.expect_ok(of.start(api, "github", kind="login"))
    r = of.callback(of.authorize(d["authorization_url"], login))
    assert r.status_code == 302
    parts, _, frag = of.location_query(r)
    assert parts.path == "/auth/callback" and frag["provider"] == "github"
    me = sb.expect_ok(requests.get(f"{api}/users/me", headers=sb.bearer(frag["access_token"]), timeout=sb.TIMEOUT))
    assert me["email"] == f"{login}@example.com"
    # The refresh token is ours: it rotates at /auth/refresh.
    sb.expect_ok(requests.post(f"{api}/auth/refresh", json={"refresh_token": frag["refresh_token"]}, timeout=sb.TIMEOUT))
    # Second sign-in: the same account.
    d = sb.expect_ok(of.start(api, "github", kind="login"))
    again = sb.expect_ok(of.callback(of.authorize(d["authorization_url"], login), json_mode=True))
    assert again["user"]["id"] == me["id"] and again["created"] is False


def test_sign_in_links_an_account_created_by_sign_in(api):
    login = of.new_login("link")
    d = sb.expect_ok(of.start(api, "github", kind="login"))
    first = sb.expect_ok(of.callback(of.authorize(d["authorization_url"], login), json_mode=True))
    assert first["created"] is True
    # The same verified email through another provider: the same account.
    d = sb.expect_ok(of.start(api, "google", kind="login"))
    data = sb.expect_ok(of.callback(of.authorize(d["authorization_url"], login), json_mode=True))
    assert data["user"]["id"] == first["user"]["id"] and data["created"] is False
    assert data["token_type"] == "Bearer" and data["access_token"] and data["refresh_token"]


def test_sign_in_never_takes_over_a_password_account(api, new_user):
    """Pre-hijacking: someone registers the victim's email with a password first (we never
    verified it); the victim's later "Sign in with Google" must not land in that account."""
    login = of.new_login("prehijack")
    squatter = new_user(email=f"{login}@example.com")
    d = sb.expect_ok(of.start(api, "google", kind="login"))
    sb.expect_error(of.callback(of.authorize(d["authorization_url"], login), json_mode=True), 409, "account_exists")
    uid = sb.sql_uuid(squatter.id)
    assert sb.psql(f"SELECT count(*) FROM user_identities WHERE user_id = '{uid}'") == "0"
    assert sb.psql(f"SELECT count(*) FROM user_integrations WHERE user_id = '{uid}'") == "0"


def test_callback_in_another_browser_is_refused(api, new_user):
    """Connect CSRF: a state started by one user, completed by another browser (the
    victim's, lured to the authorization URL), must store nothing."""
    attacker = new_user()
    d = sb.expect_ok(of.start(api, "github", attacker.headers))
    victim_browser = requests.Session()
    r = of.callback(of.authorize(d["authorization_url"], of.new_login("victim")), json_mode=True, browser=victim_browser)
    sb.expect_error(r, 400, "state_browser_mismatch")
    assert _no_row(attacker, "github")
    # The same for sign-in: a finished login URL handed to someone else signs nobody in.
    d = sb.expect_ok(of.start(api, "github", kind="login"))
    r = of.callback(of.authorize(d["authorization_url"], of.new_login("lured")), json_mode=True,
                    browser=requests.Session())
    sb.expect_error(r, 400, "state_browser_mismatch")


def test_connect_needs_the_integrations_write_scope(api, new_user):
    u = new_user()
    key = sb.expect_ok(requests.post(f"{api}/api-keys", headers=u.headers,
                                     json={"name": "narrow", "scopes": ["events:read"]}, timeout=sb.TIMEOUT), 201)["key"]
    r = of.start(api, "github", {"X-API-Key": key})
    assert r.status_code == 403, r.text


def test_sign_in_refuses_an_unverified_email(api):
    login = of.new_login("unverified")
    of.set_user("github", login, verified=False)
    d = sb.expect_ok(of.start(api, "github", kind="login"))
    sb.expect_error(of.callback(of.authorize(d["authorization_url"], login), json_mode=True), 403, "email_not_verified")
    assert sb.psql(f"SELECT count(*) FROM users WHERE email = '{login}@example.com'") == "0"


def test_sign_in_with_the_generic_provider(api):
    d = sb.expect_ok(of.start(api, "oidcmock", kind="login"))
    data = sb.expect_ok(of.callback(of.authorize(d["authorization_url"]), json_mode=True))
    assert data["user"]["email"] == "mockuser@example.org"


def test_sign_in_unsupported_provider(api):
    sb.expect_error(of.start(api, "unconfigured", kind="login"), 409, "provider_not_configured")


# --- refresh ----------------------------------------------------------------------------------


def _connected(api, new_user, provider="github", **knobs):
    u = new_user()
    login = of.new_login()
    if knobs:
        of.set_user(provider if provider != "oidcmock" else "github", login, **knobs)
    assert of.connect(api, u, provider, fake_user=login).status_code == 302
    return u, login


def _sealed(u, provider, column):
    return sb.psql(f"SELECT {column} FROM user_integrations WHERE user_id = '{sb.sql_uuid(u.id)}' AND provider = '{provider}'")


def test_token_due_within_the_margin_is_refreshed_before_use(api, new_user):
    u, login = _connected(api, new_user)
    before = _sealed(u, "github", "access_token")
    sb.psql(f"UPDATE user_integrations SET token_expires_at = now() + interval '2 minutes' "
            f"WHERE user_id = '{sb.sql_uuid(u.id)}' AND provider = 'github'")
    sb.expect_ok(integ(api, u, "github"))
    assert of.counter("github", "refreshes", login) == 1
    assert _sealed(u, "github", "access_token") != before
    # Not due any more: the next use does not refresh.
    sb.expect_ok(integ(api, u, "github"))
    assert of.counter("github", "refreshes", login) == 1
    assert sb.psql(f"SELECT count(*) FROM events WHERE user_id = '{sb.sql_uuid(u.id)}' "
                   f"AND type = 'integration.token_refreshed'") == "1"


def test_forced_refresh_endpoint(api, new_user):
    u, login = _connected(api, new_user, provider="google")
    old_refresh = _sealed(u, "google", "refresh_token")
    d = sb.expect_ok(integ(api, u, "google/refresh-token", "POST"))
    assert d["refreshed"] is True and d["token_expires_at"]
    assert of.counter("google", "refreshes", login) == 1
    assert _sealed(u, "google", "refresh_token") != old_refresh  # rotated


def test_refresh_without_a_new_refresh_token_keeps_the_old_one(api, new_user):
    u = new_user()
    login = of.new_login()
    of.set_user("google", login, rotate_refresh=False)
    assert of.connect(api, u, "google", fake_user=login).status_code == 302
    old = _sealed(u, "google", "refresh_token")
    sb.expect_ok(integ(api, u, "google/refresh-token", "POST"))
    assert _sealed(u, "google", "refresh_token") == old
    sb.expect_ok(integ(api, u, "google/refresh-token", "POST"))  # the kept one still works
    assert of.counter("google", "refreshes", login) == 2


def test_refused_refresh_marks_the_integration_expired(api, new_user):
    u = new_user()
    login = of.new_login()
    assert of.connect(api, u, "google", fake_user=login).status_code == 302
    of.set_user("google", login, refresh_mode="refuse")
    sb.expect_error(integ(api, u, "google/refresh-token", "POST"), 409, "integration_expired")
    v = sb.expect_ok(integ(api, u, "google"))
    assert v["status"] == "expired" and v["connected"] is False
    assert "invalid_grant" in v["last_error"]
    assert sb.psql(f"SELECT count(*) FROM audit_events WHERE user_id = '{sb.sql_uuid(u.id)}' "
                   f"AND action = 'integration.token_refresh_failed'") == "1"


def test_provider_down_during_refresh_is_502_and_keeps_the_integration(api, new_user):
    u = new_user()
    login = of.new_login()
    assert of.connect(api, u, "google", fake_user=login).status_code == 302
    of.set_user("google", login, refresh_mode="down")
    sb.expect_error(integ(api, u, "google/refresh-token", "POST"), 502, "provider_unavailable")
    assert sb.expect_ok(integ(api, u, "google"))["status"] == "active"


def test_concurrent_refresh_happens_once_at_the_provider(api, new_user):
    u = new_user()
    login = of.new_login()
    of.set_user("github", login, refresh_delay=0.7)
    assert of.connect(api, u, "github", fake_user=login).status_code == 302
    sb.psql(f"UPDATE user_integrations SET token_expires_at = now() + interval '1 minute' "
            f"WHERE user_id = '{sb.sql_uuid(u.id)}' AND provider = 'github'")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: integ(api, u, "github"), range(4)))
    for r in results:
        assert sb.expect_ok(r)["connected"] is True
    assert of.counter("github", "refreshes", login) == 1
    # Forced refreshes at once (as many as a user's slow-call slots, SB_SLOW_CALLS_PER_USER):
    # still one refresh each time the token changes hands.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: integ(api, u, "github/refresh-token", "POST"), range(2)))
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    assert of.counter("github", "refreshes", login) == 2


def test_a_third_slow_call_waits_for_a_slot_instead_of_being_refused(api, new_user):
    """Three forced refreshes at once from one user with two slow-call slots: the third
    waits (SB_SLOW_USER_WAIT_MS) for a slot and is served; a fourth and fifth beyond the one
    waiting turn are refused at once with 429 and Retry-After."""
    u = new_user()
    login = of.new_login()
    of.set_user("github", login, refresh_delay=0.7)
    assert of.connect(api, u, "github", fake_user=login).status_code == 302
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: integ(api, u, "github/refresh-token", "POST"), range(3)))
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        results = list(pool.map(lambda _: integ(api, u, "github/refresh-token", "POST"), range(5)))
    served = [r for r in results if r.status_code == 200]
    refused = [r for r in results if r.status_code != 200]
    assert len(served) >= 3, [r.status_code for r in results]
    for r in refused:
        sb.expect_error(r, 429, "too_many_requests")
        assert r.headers.get("Retry-After", "").isdigit()


def test_refresh_token_for_unconnected_and_non_oauth(api, new_user):
    u = new_user()
    sb.expect_error(integ(api, u, "github/refresh-token", "POST"), 404, "not_found")
    sb.expect_error(integ(api, u, "mqtt/refresh-token", "POST"), 404, "not_found")
    sb.expect_error(integ(api, u, "nope/refresh-token", "POST"), 404, "not_found")


# --- disconnect -------------------------------------------------------------------------------


def test_delete_revokes_at_github_then_removes(api, new_user):
    u, login = _connected(api, new_user)
    d = sb.expect_ok(integ(api, u, "github", "DELETE"))
    assert d["revoked"] is True
    assert of.counter("github", "revocations", login) == 1
    assert _no_row(u, "github")
    sb.expect_error(integ(api, u, "github"), 404)
    assert sb.psql(f"SELECT count(*) FROM events WHERE user_id = '{sb.sql_uuid(u.id)}' "
                   f"AND type = 'integration.disconnected'") == "1"


def test_delete_revokes_at_google(api, new_user):
    u, login = _connected(api, new_user, provider="google")
    assert sb.expect_ok(integ(api, u, "google", "DELETE"))["revoked"] is True
    assert of.counter("google", "revocations", login) == 1


def test_delete_revokes_at_the_generic_provider(api, new_user):
    u = new_user()
    assert of.connect(api, u, "oidcmock").status_code == 302
    before = sum(1 for e in of.mock_events() if e["event"] == "revoke")
    assert sb.expect_ok(integ(api, u, "oidcmock", "DELETE"))["revoked"] is True
    assert sum(1 for e in of.mock_events() if e["event"] == "revoke") == before + 1


def test_patch_github_settings(api, new_user):
    u, _ = _connected(api, new_user)
    v = sb.expect_ok(integ(api, u, "github", "PATCH", json={"auto_sync": True, "selected_repos": [12345, 67890]}))
    assert v["auto_sync"] is True and v["selected_repos"] == [12345, 67890]
    err = sb.expect_error(integ(api, u, "github", "PATCH", json={"auto_sync": "yes", "selected_repos": ["x"]}), 422)
    assert set(err["fields"]) == {"auto_sync", "selected_repos"}
    err = sb.expect_error(integ(api, u, "google", "PATCH", json={"auto_sync": True}), 422)
    assert "auto_sync" in err["fields"]
    # Reconnecting keeps the settings.
    assert of.connect(api, u, "github", fake_user=of.new_login()).status_code == 302
    assert sb.expect_ok(integ(api, u, "github"))["auto_sync"] is True


# --- outside failures -------------------------------------------------------------------------


def test_token_endpoint_down_at_callback_is_502_and_nothing_stored(api, new_user):
    u = new_user()
    login = of.new_login()
    of.set_user("github", login, exchange_mode="down")
    d = sb.expect_ok(of.start(api, "github", u.headers))
    cb = of.authorize(d["authorization_url"], login)
    sb.expect_error(of.callback(cb, json_mode=True), 502, "provider_unavailable")
    assert _no_row(u, "github")
    assert sb.psql(f"SELECT count(*) FROM audit_events WHERE user_id = '{sb.sql_uuid(u.id)}' "
                   f"AND action = 'integration.connect_failed'") == "1"


def test_slow_token_endpoint_is_504(api, new_user):
    u = new_user()
    login = of.new_login()
    assert of.connect(api, u, "google", fake_user=login).status_code == 302
    of.set_user("google", login, refresh_delay=6)  # the test stack's outbound timeout is 4 s
    sb.expect_error(integ(api, u, "google/refresh-token", "POST"), 504, "provider_timeout")
    assert sb.expect_ok(integ(api, u, "google"))["status"] == "active"


def test_delete_when_revocation_fails_still_disconnects(api, new_user):
    u, login = _connected(api, new_user)
    of.set_user("github", login, revoke_mode="down")
    d = sb.expect_ok(integ(api, u, "github", "DELETE"))
    assert d["revoked"] is False and d["revoke_error"]
    assert _no_row(u, "github")
    details = sb.psql(f"SELECT details->>'revoked' FROM audit_events WHERE user_id = '{sb.sql_uuid(u.id)}' "
                      f"AND action = 'integration.disconnected'")
    assert details == "false"


def test_delete_of_a_provider_without_revocation(api, new_user):
    # Bitbucket declares no revocation; a row stored for it is simply removed.
    u = new_user()
    sb.psql(f"INSERT INTO user_integrations (user_id, provider, status, access_token) "
            f"VALUES ('{sb.sql_uuid(u.id)}', 'bitbucket', 'active', 'sb1.x')")
    d = sb.expect_ok(integ(api, u, "bitbucket", "DELETE"))
    assert d["revoked"] is False and d["revocation_supported"] is False and d["revoke_error"] is None


def test_provider_with_a_json_token_endpoint_and_no_pkce(api, new_user):
    u = new_user()
    login = of.new_login("json")
    d = sb.expect_ok(of.start(api, "jsonmock", u.headers))
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(d["authorization_url"]).query))
    assert "code_challenge" not in q
    data = sb.expect_ok(of.callback(of.authorize(d["authorization_url"], login), json_mode=True))
    assert data["connected"] is True and data["account"] == f"{login}@example.com"


def test_refresh_at_the_real_oauth2_server(api, new_user):
    u = new_user()
    assert of.connect(api, u, "oidcmock").status_code == 302
    before = sum(1 for e in of.mock_events() if e.get("grant_type") == "refresh_token")
    d = sb.expect_ok(integ(api, u, "oidcmock/refresh-token", "POST"))
    assert d["refreshed"] is True and d["token_expires_at"]
    assert sum(1 for e in of.mock_events() if e.get("grant_type") == "refresh_token") == before + 1


def test_a_connect_the_console_started_returns_to_the_console(api, new_user):
    """?return_to=console: the callback lands on the console of this origin (a relative
    Location, so never another host), success and failure alike; any other value is a 422
    and nothing is started."""
    u = new_user()
    h = dict(u.headers, Accept="application/json")
    data = sb.expect_ok(of.BROWSER.get(f"{api}/auth/github/connect?return_to=console", headers=h,
                                       timeout=sb.TIMEOUT))
    r = of.callback(of.authorize(data["authorization_url"], of.new_login("console")))
    assert r.status_code == 302, r.text
    assert r.headers["Location"] == "/console/#/integrations?connected=github", r.headers["Location"]
    data = sb.expect_ok(of.BROWSER.get(f"{api}/auth/github/connect?return_to=console", headers=h,
                                       timeout=sb.TIMEOUT))
    r = of.callback(of.authorize(data["authorization_url"], deny=True))
    assert r.headers["Location"] == "/console/#/integrations?error=access_denied&provider=github", r.headers
    for bad in ("https://evil.example/", "/console/", "frontend", ""):
        before = sb.psql(f"SELECT count(*) FROM oauth_states WHERE user_id = '{sb.sql_uuid(u.id)}'")
        resp = of.BROWSER.get(f"{api}/auth/github/connect", params={"return_to": bad}, headers=h,
                              timeout=sb.TIMEOUT)
        err = sb.expect_error(resp, 422, "validation_failed")
        assert "return_to" in err.get("fields", {}), err
        assert sb.psql(f"SELECT count(*) FROM oauth_states WHERE user_id = '{sb.sql_uuid(u.id)}'") == before
    # Sign-in does not take it (its tokens go to the frontend's callback page).
    sb.expect_error(of.BROWSER.get(f"{api}/auth/oidcmock/login?return_to=console",
                                   headers={"Accept": "application/json", "User-Agent": sb.USER_AGENT},
                                   timeout=sb.TIMEOUT), 422, "validation_failed")
