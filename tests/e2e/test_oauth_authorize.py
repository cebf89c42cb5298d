"""The authorization-code flow of our OAuth2 provider (RFC 6749 §4.1 with PKCE, RFC 7636):
GET /oauth/authorize -> the console's sign-in or consent page -> POST /oauth/consent/{id}
-> the client's redirect URI with a single-use code -> /oauth/token -> the user's token;
the §4.1.2.1 errors (shown to the user for a bad client or redirect_uri, redirected for
the rest), code reuse, authorized apps and public clients."""

import base64
import hashlib
import re
import secrets as pysecrets
import urllib.parse
import uuid

import pytest
import requests

import sb

CB = "http://127.0.0.1:9/callback"


def create_client(api, owner, **body):
    body.setdefault("name", "App " + uuid.uuid4().hex[:6])
    body.setdefault("redirect_uris", [CB])
    body.setdefault("scopes", ["read", "write", "offline_access"])
    return sb.expect_ok(requests.post(api + "/oauth/clients", json=body, headers=owner.headers, timeout=sb.TIMEOUT),
                        201)


def basic(client):
    raw = client["client_id"] + ":" + client["client_secret"]
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def pkce():
    verifier = pysecrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(api, params, signed_in=True):
    """GET /oauth/authorize as a browser: signed in means it carries the sb_csrf cookie."""
    headers = {"Cookie": "sb_csrf=" + "c" * 43} if signed_in else {}
    return requests.get(api + "/oauth/authorize", params=params, headers=headers, allow_redirects=False,
                        timeout=sb.TIMEOUT)


def query_of(url):
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, keep_blank_values=True)
    return {k: v[0] for k, v in q.items()}


def request_id(resp):
    assert resp.status_code == 302, resp.text
    loc = resp.headers["Location"]
    assert loc.startswith("/console/#/consent?request="), loc
    rid = loc.split("request=", 1)[1]
    assert sb.UUID_RE.match(rid), loc
    return rid


def csrf(token="t" * 43):
    return {"X-CSRF-Token": token, "Cookie": "sb_csrf=" + token}


def consent(api, user, rid, approve=True, headers=None):
    h = dict(user.headers)
    h.update(csrf() if headers is None else headers)
    return requests.post(api + f"/oauth/consent/{rid}", json={"approve": approve}, headers=h, timeout=sb.TIMEOUT)


def approve(api, user, client, state="st-1", **extra):
    """The whole browser part; returns the query of the redirect (code, state)."""
    params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": CB, "state": state}
    params.update(extra)
    rid = request_id(authorize(api, params))
    to = sb.expect_ok(consent(api, user, rid))["redirect_to"]
    assert to.startswith(CB + "?"), to
    return query_of(to)


def exchange(api, client, code, redirect_uri=CB, verifier=None, auth="basic", **extra):
    data = {"grant_type": "authorization_code", "code": code}
    if redirect_uri is not None:
        data["redirect_uri"] = redirect_uri
    if verifier is not None:
        data["code_verifier"] = verifier
    data.update(extra)
    headers = {}
    if auth == "basic":
        headers = basic(client)
    elif auth == "public":
        data["client_id"] = client["client_id"]
    return requests.post(api + "/oauth/token", data=data, headers=headers, timeout=sb.TIMEOUT)


def oauth_error(resp, status, error):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body.get("error") == error, body
    return body


def error_redirect(resp, error, state="st-1"):
    assert resp.status_code == 302, resp.text
    loc = resp.headers["Location"]
    assert loc.startswith(CB + "?"), loc
    q = query_of(loc)
    assert q["error"] == error, q
    assert q.get("error_description")
    # RFC 9207: errors name the issuer too (our origin, never the client's).
    assert re.fullmatch(r"https?://127\.0\.0\.1:\d+", q["iss"]) and q["iss"] != "http://127.0.0.1:9", q
    if state is None:
        assert "state" not in q
    else:
        assert q["state"] == state
    return q


def error_page(resp):
    assert resp.status_code == 400, resp.text
    assert "Location" not in resp.headers
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "Authorization failed" in resp.text
    return resp.text


@pytest.fixture(scope="module")
def owner(new_user):
    return new_user()


@pytest.fixture(scope="module")
def client(api, owner):
    return create_client(api, owner)


# --- metadata -----------------------------------------------------------------------------------


def test_metadata_names_the_authorization_endpoint(base_url):
    m = requests.get(base_url + "/.well-known/oauth-authorization-server", timeout=sb.TIMEOUT).json()
    assert m["authorization_endpoint"] == base_url + "/api/v1/oauth/authorize"
    assert m["response_types_supported"] == ["code"]
    assert m["code_challenge_methods_supported"] == ["S256"]
    assert "authorization_code" in m["grant_types_supported"]
    assert "none" in m["token_endpoint_auth_methods_supported"]
    assert m["authorization_response_iss_parameter_supported"] is True
    assert m["issuer"] == base_url


# --- the whole flow -----------------------------------------------------------------------------


def test_signed_out_browser_goes_to_the_console_sign_in_first(api, client):
    params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": CB, "state": "x"}
    resp = authorize(api, params, signed_in=False)
    assert resp.status_code == 302, resp.text
    loc = resp.headers["Location"]
    assert loc.startswith("/console/#/login?next="), loc
    nxt = urllib.parse.unquote(loc.split("next=", 1)[1])
    assert nxt.startswith("/console/#/consent?request=")


def test_code_flow_gives_the_user_a_token(api, owner, client, new_user):
    user = new_user()
    params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": CB,
              "scope": "read offline_access", "state": "opaque state/with?chars"}
    rid = request_id(authorize(api, params))
    # The consent page's data.
    c = sb.expect_ok(requests.get(api + f"/oauth/consent/{rid}", headers=user.headers, timeout=sb.TIMEOUT))
    assert c["client"] == {"name": client["name"], "client_id": client["client_id"]}
    assert c["scopes"] == ["read", "offline_access"] and c["redirect_uri"] == CB
    assert c["previously_granted"] is False
    to = sb.expect_ok(consent(api, user, rid))["redirect_to"]
    q = query_of(to)
    assert q["state"] == "opaque state/with?chars" and q["code"].startswith("sbac_")
    # RFC 9207: the response names its issuer, the metadata's.
    assert set(q) == {"code", "state", "iss"}
    assert q["iss"] == api[: -len("/api/v1")], q
    # The code is stored hashed only.
    assert sb.psql(f"SELECT count(*) FROM oauth_authorization_codes WHERE code_hash = '{q['code']}'") == "0"
    resp = exchange(api, client, q["code"])
    assert resp.status_code == 200, resp.text
    assert resp.headers.get("Cache-Control") == "no-store"
    t = resp.json()
    assert t["token_type"] == "Bearer" and t["scope"] == "read offline_access" and t["refresh_token"]
    # The token is the user's, not the client owner's.
    info = requests.get(api + "/oauth/userinfo", headers=sb.bearer(t["access_token"]), timeout=sb.TIMEOUT).json()
    assert info["sub"] == user.id and info["email"] == user.email
    me = sb.expect_ok(requests.get(api + "/users/me", headers=sb.bearer(t["access_token"]), timeout=sb.TIMEOUT))
    assert me["id"] == user.id
    # Scopes hold: read only.
    resp = requests.post(api + "/oauth/clients", json={"name": "x"}, headers=sb.bearer(t["access_token"]),
                         timeout=sb.TIMEOUT)
    sb.expect_error(resp, 403, "insufficient_scope")
    # Introspection by the client names the user.
    i = requests.post(api + "/oauth/introspect", data={"token": t["access_token"]}, headers=basic(client),
                      timeout=sb.TIMEOUT).json()
    assert i["active"] is True and i["sub"] == user.id
    # The refresh continues the grant for the user.
    r = requests.post(api + "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
                      headers=basic(client), timeout=sb.TIMEOUT)
    assert r.status_code == 200, r.text
    info = requests.get(api + "/oauth/userinfo", headers=sb.bearer(r.json()["access_token"]),
                        timeout=sb.TIMEOUT).json()
    assert info["sub"] == user.id
    # The consent request is spent, and now remembered.
    sb.expect_error(consent(api, user, rid), 404, "not_found")
    rid2 = request_id(authorize(api, params))
    c = sb.expect_ok(requests.get(api + f"/oauth/consent/{rid2}", headers=user.headers, timeout=sb.TIMEOUT))
    assert c["previously_granted"] is True
    # The audit log has the consent.
    log = sb.expect_ok(requests.get(api + "/users/me/audit-log", headers=user.headers, timeout=sb.TIMEOUT))
    assert "oauth.consent_granted" in [e["action"] for e in log["items"]]


def test_without_scope_the_client_scopes_but_offline_access_are_asked(api, client, new_user):
    user = new_user()
    params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": CB}
    rid = request_id(authorize(api, params))
    c = sb.expect_ok(requests.get(api + f"/oauth/consent/{rid}", headers=user.headers, timeout=sb.TIMEOUT))
    assert c["scopes"] == ["read", "write"]
    q = query_of(sb.expect_ok(consent(api, user, rid))["redirect_to"])
    assert set(q) == {"code", "iss"}  # no state asked, none returned
    t = exchange(api, client, q["code"]).json()
    assert t["scope"] == "read write" and "refresh_token" not in t


def test_deny_redirects_access_denied(api, client, new_user):
    user = new_user()
    params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": CB, "state": "st-1"}
    rid = request_id(authorize(api, params))
    to = sb.expect_ok(consent(api, user, rid, approve=False))["redirect_to"]
    q = query_of(to)
    assert q["error"] == "access_denied" and q["state"] == "st-1" and "code" not in q
    assert q["iss"] == api[: -len("/api/v1")], q
    sb.expect_error(consent(api, user, rid), 404, "not_found")
    apps = sb.expect_ok(requests.get(api + "/users/me/authorized-apps", headers=user.headers, timeout=sb.TIMEOUT))
    assert apps == []


def test_redirect_uri_query_is_kept(api, owner, new_user):
    uri = "https://app.example.com/cb?tenant=a%20b"
    c = create_client(api, owner, redirect_uris=[uri])
    user = new_user()
    rid = request_id(authorize(api, {"response_type": "code", "client_id": c["client_id"], "redirect_uri": uri,
                                     "state": "s"}))
    to = sb.expect_ok(consent(api, user, rid))["redirect_to"]
    assert to.startswith(uri + "&code="), to
    q = query_of(to)
    assert q["tenant"] == "a b" and q["state"] == "s"


# --- errors shown to the user (never redirected) -----------------------------------------------


def test_unknown_or_missing_client_is_an_error_page(api, client):
    error_page(authorize(api, {"response_type": "code", "client_id": "sbc_" + "0" * 43, "redirect_uri": CB}))
    error_page(authorize(api, {"response_type": "code", "redirect_uri": CB}))
    error_page(authorize(api, {"response_type": "code", "client_id": "", "redirect_uri": CB}))


def test_deleted_client_is_an_error_page(api, owner):
    c = create_client(api, owner)
    sb.expect_ok(requests.delete(api + f"/oauth/clients/{c['id']}", headers=owner.headers, timeout=sb.TIMEOUT))
    error_page(authorize(api, {"response_type": "code", "client_id": c["client_id"], "redirect_uri": CB}))


@pytest.mark.parametrize("uri", [
    "http://127.0.0.1:9/other",
    CB + "/",
    CB + "?x=1",
    "http://127.0.0.1:9/CALLBACK",
    "https://evil.example/callback",
    CB[:-1],
])
def test_unregistered_redirect_uri_is_an_error_page(api, client, uri):
    html = error_page(authorize(api, {"response_type": "code", "client_id": client["client_id"],
                                      "redirect_uri": uri, "state": "s"}))
    assert "evil" not in html


def test_repeated_client_id_or_redirect_uri_is_an_error_page(api, client):
    q = [("response_type", "code"), ("client_id", client["client_id"]), ("client_id", client["client_id"]),
         ("redirect_uri", CB)]
    error_page(authorize(api, q))
    q = [("response_type", "code"), ("client_id", client["client_id"]), ("redirect_uri", CB), ("redirect_uri", CB)]
    error_page(authorize(api, q))


def test_redirect_uri_may_be_left_out_only_with_one_registered(api, owner, new_user):
    two = create_client(api, owner, redirect_uris=[CB, "http://127.0.0.1:9/two"])
    error_page(authorize(api, {"response_type": "code", "client_id": two["client_id"]}))
    none = create_client(api, owner, redirect_uris=[])
    error_page(authorize(api, {"response_type": "code", "client_id": none["client_id"]}))
    error_page(authorize(api, {"response_type": "code", "client_id": none["client_id"], "redirect_uri": CB}))
    # One registered: it is used, and the token request must then not name another.
    one = create_client(api, owner)
    user = new_user()
    rid = request_id(authorize(api, {"response_type": "code", "client_id": one["client_id"], "state": "s"}))
    to = sb.expect_ok(consent(api, user, rid))["redirect_to"]
    assert to.startswith(CB + "?")
    code = query_of(to)["code"]
    oauth_error(exchange(api, one, code, redirect_uri="http://127.0.0.1:9/two"), 400, "invalid_grant")
    assert exchange(api, one, code, redirect_uri=None).status_code == 200


# --- errors redirected to the client (§4.1.2.1) ------------------------------------------------


def base(client, **kw):
    p = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": CB, "state": "st-1"}
    p.update(kw)
    return {k: v for k, v in p.items() if v is not None}


def test_missing_response_type_is_invalid_request(api, client):
    error_redirect(authorize(api, base(client, response_type=None)), "invalid_request")


@pytest.mark.parametrize("rt", ["token", "code token", "id_token", "CODE"])
def test_other_response_types_are_unsupported(api, client, rt):
    error_redirect(authorize(api, base(client, response_type=rt)), "unsupported_response_type")


@pytest.mark.parametrize("scope", ["nonsense", "read nonsense", "admin", "read admin", "   "])
def test_bad_or_excessive_scope_is_invalid_scope(api, client, scope):
    error_redirect(authorize(api, base(client, scope=scope)), "invalid_scope")


def test_repeated_parameter_is_invalid_request(api, client):
    q = list(base(client).items()) + [("scope", "read"), ("scope", "write")]
    error_redirect(authorize(api, q), "invalid_request")
    q = list(base(client).items()) + [("state", "again")]
    error_redirect(authorize(api, q), "invalid_request", state=None)


def test_overlong_state_is_invalid_request_without_echo(api, client):
    error_redirect(authorize(api, base(client, state="s" * 1025)), "invalid_request", state=None)


@pytest.mark.parametrize("method, challenge", [
    ("plain", "c" * 43),   # plain is not supported
    (None, "c" * 43),      # no method means plain (RFC 7636 §4.3)
    ("S256", None),        # a method without a challenge
    ("S256", "short"),     # not a base64url SHA-256
    ("S256", "c" * 42 + "="),
    ("S512", "c" * 43),
])
def test_bad_pkce_parameters_are_invalid_request(api, client, method, challenge):
    error_redirect(authorize(api, base(client, code_challenge=challenge, code_challenge_method=method)),
                   "invalid_request")


# --- the token request ----------------------------------------------------------------------------


def test_code_is_single_use_and_reuse_revokes_its_tokens(api, client, new_user):
    user = new_user()
    code = approve(api, user, client, scope="read offline_access")["code"]
    t = exchange(api, client, code).json()
    h = sb.bearer(t["access_token"])
    sb.expect_ok(requests.get(api + "/users/me", headers=h, timeout=sb.TIMEOUT))
    oauth_error(exchange(api, client, code), 400, "invalid_grant")
    # The tokens issued from the code are revoked, the refresh token too.
    sb.expect_error(requests.get(api + "/users/me", headers=h, timeout=sb.TIMEOUT), 401)
    r = requests.post(api + "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
                      headers=basic(client), timeout=sb.TIMEOUT)
    oauth_error(r, 400, "invalid_grant")
    log = sb.expect_ok(requests.get(api + "/users/me/audit-log", headers=user.headers, timeout=sb.TIMEOUT))
    assert "oauth.code_reuse_detected" in [e["action"] for e in log["items"]]


def test_reuse_also_revokes_tokens_refreshed_from_the_code(api, client, new_user):
    user = new_user()
    code = approve(api, user, client, scope="read offline_access")["code"]
    t = exchange(api, client, code).json()
    r = requests.post(api + "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
                      headers=basic(client), timeout=sb.TIMEOUT).json()
    h = sb.bearer(r["access_token"])
    sb.expect_ok(requests.get(api + "/users/me", headers=h, timeout=sb.TIMEOUT))
    oauth_error(exchange(api, client, code), 400, "invalid_grant")
    sb.expect_error(requests.get(api + "/users/me", headers=h, timeout=sb.TIMEOUT), 401)


def test_concurrent_redemptions_one_wins_and_is_then_revoked(api, client, new_user):
    from concurrent.futures import ThreadPoolExecutor

    user = new_user()
    code = approve(api, user, client)["code"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: exchange(api, client, code), range(2)))
    assert sorted(r.status_code for r in answers) == [200, 400], [r.text for r in answers]
    winner = next(r for r in answers if r.status_code == 200).json()
    assert next(r for r in answers if r.status_code == 400).json()["error"] == "invalid_grant"
    # The code's row lock made the second a reuse: the winner's token is revoked too.
    sb.expect_error(requests.get(api + "/users/me", headers=sb.bearer(winner["access_token"]), timeout=sb.TIMEOUT),
                    401)


def test_expired_code_is_invalid_grant(api, client, new_user):
    user = new_user()
    code = approve(api, user, client)["code"]
    hashed = hashlib.sha256(code.encode()).hexdigest()
    # A 60-second code, aged past its life (the test does not sleep a minute).
    assert sb.psql(f"SELECT extract(epoch FROM expires_at - created_at)::int FROM oauth_authorization_codes "
                   f"WHERE code_hash = '{hashed}'") == "60"
    sb.psql(f"UPDATE oauth_authorization_codes SET expires_at = now() - interval '1 second' "
            f"WHERE code_hash = '{hashed}'")
    oauth_error(exchange(api, client, code), 400, "invalid_grant")


def test_unknown_or_malformed_code_is_invalid_grant(api, client):
    oauth_error(exchange(api, client, "sbac_" + "1" * 43), 400, "invalid_grant")
    oauth_error(exchange(api, client, "not-a-code"), 400, "invalid_grant")
    oauth_error(exchange(api, client, ""), 400, "invalid_request")
    r = requests.post(api + "/oauth/token", data={"grant_type": "authorization_code"}, headers=basic(client),
                      timeout=sb.TIMEOUT)
    oauth_error(r, 400, "invalid_request")


def test_another_clients_code_is_refused_and_left_alone(api, owner, client, new_user):
    other = create_client(api, owner)
    user = new_user()
    code = approve(api, user, client)["code"]
    oauth_error(exchange(api, other, code), 400, "invalid_grant")
    assert exchange(api, client, code).status_code == 200


def test_redirect_uri_must_be_repeated_exactly(api, client, new_user):
    user = new_user()
    code = approve(api, user, client)["code"]
    oauth_error(exchange(api, client, code, redirect_uri=None), 400, "invalid_grant")
    oauth_error(exchange(api, client, code, redirect_uri=CB + "/"), 400, "invalid_grant")
    # A refused attempt does not spend the code.
    assert exchange(api, client, code).status_code == 200


def test_confidential_client_may_use_pkce(api, client, new_user):
    user = new_user()
    verifier, challenge = pkce()
    code = approve(api, user, client, code_challenge=challenge, code_challenge_method="S256")["code"]
    oauth_error(exchange(api, client, code), 400, "invalid_grant")  # the verifier is then required
    oauth_error(exchange(api, client, code, verifier=pkce()[0]), 400, "invalid_grant")
    assert exchange(api, client, code, verifier=verifier).status_code == 200


def test_verifier_without_challenge_is_invalid_grant(api, client, new_user):
    user = new_user()
    code = approve(api, user, client)["code"]
    oauth_error(exchange(api, client, code, verifier=pkce()[0]), 400, "invalid_grant")
    assert exchange(api, client, code).status_code == 200


def test_confidential_client_must_authenticate(api, client, new_user):
    user = new_user()
    code = approve(api, user, client)["code"]
    oauth_error(exchange(api, client, code, auth="public"), 401, "invalid_client")
    assert exchange(api, client, code).status_code == 200


# --- public clients ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def public(api, owner):
    c = create_client(api, owner, client_type="public", scopes=["read", "offline_access"])
    return c


def test_public_client_has_no_secret(api, owner, public):
    assert public["client_type"] == "public" and "client_secret" not in public
    listed = sb.expect_ok(requests.get(api + "/oauth/clients", headers=owner.headers, timeout=sb.TIMEOUT))
    assert {c["client_id"]: c["client_type"] for c in listed}[public["client_id"]] == "public"
    assert sb.psql(f"SELECT client_secret_hash IS NULL FROM api_clients WHERE client_id = '{public['client_id']}'") == "t"


def test_client_type_is_validated(api, owner):
    resp = requests.post(api + "/oauth/clients", json={"name": "x", "client_type": "spa"}, headers=owner.headers,
                         timeout=sb.TIMEOUT)
    err = sb.expect_error(resp, 422, "validation_failed")
    assert set(err["fields"]) == {"client_type"}
    c = create_client(api, owner, client_type="confidential")
    assert c["client_type"] == "confidential" and c["client_secret"]


def test_public_client_requires_pkce(api, public):
    error_redirect(authorize(api, base(public)), "invalid_request")


def test_public_client_flow_with_pkce(api, public, new_user):
    user = new_user()
    verifier, challenge = pkce()
    code = approve(api, user, public, scope="read offline_access", code_challenge=challenge,
                   code_challenge_method="S256")["code"]
    oauth_error(exchange(api, public, code, auth="public"), 400, "invalid_grant")
    wrong = verifier[:-1] + ("A" if verifier[-1] != "A" else "B")
    oauth_error(exchange(api, public, code, auth="public", verifier=wrong), 400, "invalid_grant")
    oauth_error(exchange(api, public, code, auth="public", verifier="short"), 400, "invalid_grant")
    resp = exchange(api, public, code, auth="public", verifier=verifier)
    assert resp.status_code == 200, resp.text
    t = resp.json()
    info = requests.get(api + "/oauth/userinfo", headers=sb.bearer(t["access_token"]), timeout=sb.TIMEOUT).json()
    assert info["sub"] == user.id
    # A public client refreshes by its id alone, and may revoke.
    r = requests.post(api + "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": t["refresh_token"],
                                                 "client_id": public["client_id"]}, timeout=sb.TIMEOUT)
    assert r.status_code == 200, r.text
    new = r.json()
    rv = requests.post(api + "/oauth/revoke", data={"token": new["refresh_token"], "client_id": public["client_id"]},
                       timeout=sb.TIMEOUT)
    assert rv.status_code == 200, rv.text
    sb.expect_error(requests.get(api + "/users/me", headers=sb.bearer(new["access_token"]), timeout=sb.TIMEOUT), 401)


def test_public_client_cannot_use_client_credentials_nor_introspect(api, public):
    r = requests.post(api + "/oauth/token", data={"grant_type": "client_credentials", "client_id": public["client_id"]},
                      timeout=sb.TIMEOUT)
    oauth_error(r, 400, "unauthorized_client")
    r = requests.post(api + "/oauth/introspect", data={"token": "x", "client_id": public["client_id"]},
                      timeout=sb.TIMEOUT)
    oauth_error(r, 401, "invalid_client")
    # A secret sent for a public client is refused: it has none.
    r = requests.post(api + "/oauth/token", data={"grant_type": "client_credentials", "client_id": public["client_id"],
                                                 "client_secret": "sbcs_" + "x" * 43}, timeout=sb.TIMEOUT)
    oauth_error(r, 401, "invalid_client")


# --- the consent API ------------------------------------------------------------------------------


def test_consent_needs_the_csrf_header(api, client, new_user):
    user = new_user()
    rid = request_id(authorize(api, base(client)))
    for h in ({}, {"X-CSRF-Token": "a" * 43, "Cookie": "sb_csrf=" + "b" * 43}, {"X-CSRF-Token": "a" * 43},
              {"Cookie": "sb_csrf=" + "a" * 43}, {"X-CSRF-Token": "", "Cookie": "sb_csrf="}):
        sb.expect_error(consent(api, user, rid, headers=h), 403, "csrf_failed")
    # Still undecided: the right header decides it.
    sb.expect_ok(consent(api, user, rid))


def test_consent_is_the_users_own_jwt_only(api, owner, client, new_user):
    user = new_user()
    rid = request_id(authorize(api, base(client)))
    key = sb.expect_ok(requests.post(api + "/api-keys", json={"name": "k", "scopes": ["admin"]},
                                     headers=user.headers, timeout=sb.TIMEOUT), 201)["key"]
    h = {"X-API-Key": key}
    h.update(csrf())
    resp = requests.post(api + f"/oauth/consent/{rid}", json={"approve": True}, headers=h, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 403, "forbidden")
    sb.expect_error(requests.get(api + f"/oauth/consent/{rid}", headers={"X-API-Key": key}, timeout=sb.TIMEOUT),
                    403, "forbidden")
    # Without any credential: 401.
    sb.expect_error(requests.get(api + f"/oauth/consent/{rid}", timeout=sb.TIMEOUT), 401)
    sb.expect_ok(consent(api, user, rid))


def test_consent_request_validation_and_unknown_ids(api, client, new_user):
    user = new_user()
    rid = request_id(authorize(api, base(client)))
    h = dict(user.headers)
    h.update(csrf())
    resp = requests.post(api + f"/oauth/consent/{rid}", json={"approve": "yes"}, headers=h, timeout=sb.TIMEOUT)
    assert set(sb.expect_error(resp, 422, "validation_failed")["fields"]) == {"approve"}
    resp = requests.post(api + f"/oauth/consent/{rid}", json={}, headers=h, timeout=sb.TIMEOUT)
    assert set(sb.expect_error(resp, 422, "validation_failed")["fields"]) == {"approve"}
    for bad in (str(uuid.uuid4()), "not-a-uuid"):
        sb.expect_error(consent(api, user, bad), 404, "not_found")
        sb.expect_error(requests.get(api + f"/oauth/consent/{bad}", headers=user.headers, timeout=sb.TIMEOUT),
                        404, "not_found")


def test_expired_consent_request_is_404(api, client, new_user):
    user = new_user()
    rid = request_id(authorize(api, base(client)))
    sb.psql(f"UPDATE oauth_consent_requests SET expires_at = now() - interval '1 second' WHERE id = '{rid}'")
    sb.expect_error(consent(api, user, rid), 404, "not_found")


# --- authorized apps ----------------------------------------------------------------------------


def test_authorized_apps_list_and_revoke(api, owner, new_user):
    app = create_client(api, owner, name="Listed App " + uuid.uuid4().hex[:4])
    user = new_user()
    t = exchange(api, app, approve(api, user, app, scope="read offline_access")["code"]).json()
    own = requests.post(api + "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(app),
                        timeout=sb.TIMEOUT).json()["access_token"]
    apps = sb.expect_ok(requests.get(api + "/users/me/authorized-apps", headers=user.headers, timeout=sb.TIMEOUT))
    assert [a["client_id"] for a in apps] == [app["client_id"]]
    assert apps[0]["name"] == app["name"] and apps[0]["scopes"] == ["read", "offline_access"]
    assert sb.RFC3339_UTC_RE.match(apps[0]["created_at"])
    # Another user sees none of it and cannot revoke it.
    other = new_user()
    assert sb.expect_ok(requests.get(api + "/users/me/authorized-apps", headers=other.headers,
                                     timeout=sb.TIMEOUT)) == []
    sb.expect_error(requests.delete(api + f"/users/me/authorized-apps/{app['client_id']}", headers=other.headers,
                                    timeout=sb.TIMEOUT), 404, "not_found")
    sb.expect_ok(requests.get(api + "/users/me", headers=sb.bearer(t["access_token"]), timeout=sb.TIMEOUT))
    # Revoking ends every token the user delegated, not the client's own.
    sb.expect_ok(requests.delete(api + f"/users/me/authorized-apps/{app['client_id']}", headers=user.headers,
                                 timeout=sb.TIMEOUT))
    sb.expect_error(requests.get(api + "/users/me", headers=sb.bearer(t["access_token"]), timeout=sb.TIMEOUT), 401)
    r = requests.post(api + "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
                      headers=basic(app), timeout=sb.TIMEOUT)
    oauth_error(r, 400, "invalid_grant")
    sb.expect_ok(requests.get(api + "/users/me", headers=sb.bearer(own), timeout=sb.TIMEOUT))
    assert sb.expect_ok(requests.get(api + "/users/me/authorized-apps", headers=user.headers,
                                     timeout=sb.TIMEOUT)) == []
    sb.expect_error(requests.delete(api + f"/users/me/authorized-apps/{app['client_id']}", headers=user.headers,
                                    timeout=sb.TIMEOUT), 404, "not_found")
    log = sb.expect_ok(requests.get(api + "/users/me/audit-log", headers=user.headers, timeout=sb.TIMEOUT))
    assert "oauth.app_revoked" in [e["action"] for e in log["items"]]


def test_revoking_an_app_kills_its_unredeemed_codes(api, owner, new_user):
    app = create_client(api, owner)
    user = new_user()
    first = approve(api, user, app)["code"]
    pending = approve(api, user, app)["code"]
    assert exchange(api, app, first).status_code == 200
    sb.expect_ok(requests.delete(api + f"/users/me/authorized-apps/{app['client_id']}", headers=user.headers,
                                 timeout=sb.TIMEOUT))
    oauth_error(exchange(api, app, pending), 400, "invalid_grant")


def test_openapi_lists_the_new_routes(base_url):
    doc = requests.get(base_url + "/api/docs/openapi.json", timeout=sb.TIMEOUT).json()
    listed = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    for route in [("get", "/oauth/authorize"), ("get", "/oauth/consent/{request}"),
                  ("post", "/oauth/consent/{request}"), ("get", "/users/me/authorized-apps"),
                  ("delete", "/users/me/authorized-apps/{client_id}")]:
        assert route in listed, route


# --- housekeeping -------------------------------------------------------------------------------


def test_worker_prunes_long_expired_consent_requests_and_codes(api, client, new_user, stack):
    user = new_user()
    old_rid = request_id(authorize(api, base(client)))
    live_rid = request_id(authorize(api, base(client)))
    old_code = hashlib.sha256(approve(api, user, client)["code"].encode()).hexdigest()
    live_code = hashlib.sha256(approve(api, user, client)["code"].encode()).hexdigest()
    sb.psql(f"UPDATE oauth_consent_requests SET expires_at = now() - interval '2 hours' WHERE id = '{old_rid}'")
    sb.psql(f"UPDATE oauth_authorization_codes SET expires_at = now() - interval '2 days' "
            f"WHERE code_hash = '{old_code}'")
    # The worker runs its housekeeping when it starts.
    stack("restart", "worker")
    gone = lambda: sb.psql(f"SELECT count(*) FROM oauth_consent_requests WHERE id = '{old_rid}'") == "0" and \
        sb.psql(f"SELECT count(*) FROM oauth_authorization_codes WHERE code_hash = '{old_code}'") == "0"
    assert sb.retry_until(gone, timeout=30)
    assert sb.psql(f"SELECT count(*) FROM oauth_consent_requests WHERE id = '{live_rid}'") == "1"
    assert sb.psql(f"SELECT count(*) FROM oauth_authorization_codes WHERE code_hash = '{live_code}'") == "1"
