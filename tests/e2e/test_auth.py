"""Registration, login, refresh-token rotation, logout, the profile and the audit log."""

import uuid

import pytest
import requests

import sb


# --- register ---------------------------------------------------------------------------


def test_register_returns_201_with_the_user(register):
    email = sb.unique_email("reg")
    resp = register(email, "correct horse battery", "Ada Lovelace")
    user = sb.expect_ok(resp, 201)
    sb.assert_user_shape(user)
    assert user["email"] == email
    assert user["name"] == "Ada Lovelace"
    assert set(user) == {"id", "email", "name", "created_at", "updated_at"}


def test_register_boundaries_are_accepted(register):
    # Exactly 10 password characters, exactly 100 name characters (counted as
    # characters, not bytes: 100 two-byte UTF-8 characters).
    user = sb.expect_ok(register(sb.unique_email(), "a" * 10, "n" * 100), 201)
    assert user["name"] == "n" * 100
    user = sb.expect_ok(register(sb.unique_email(), "b" * 10, "é" * 100), 201)
    assert user["name"] == "é" * 100


def test_register_duplicate_email_is_409(register):
    email = sb.unique_email("dup")
    sb.expect_ok(register(email), 201)
    sb.expect_error(register(email), 409, "email_taken")


def test_register_duplicate_email_differing_in_case_is_409(register):
    local = "Dup-" + uuid.uuid4().hex
    sb.expect_ok(register(f"{local}@Example.COM"), 201)
    sb.expect_error(register(f"{local.lower()}@example.com"), 409, "email_taken")
    sb.expect_error(register(f"{local.upper()}@EXAMPLE.com"), 409, "email_taken")


@pytest.mark.parametrize(
    "body, bad_fields",
    [
        ({"email": "not-an-email", "password": "long enough pw", "name": "X"}, {"email"}),
        ({"email": "a@b", "password": "long enough pw", "name": "X"}, {"email"}),
        ({"email": "two@@example.com", "password": "long enough pw", "name": "X"}, {"email"}),
        ({"email": "sp ace@example.com", "password": "long enough pw", "name": "X"}, {"email"}),
        ({"email": "EMAIL", "password": "123456789", "name": "X"}, {"email", "password"}),
        ({"email": "USER", "password": "short", "name": "X"}, {"password"}),
        ({"email": "USER", "password": "", "name": "X"}, {"password"}),
        ({"email": "USER", "password": "long enough pw", "name": ""}, {"name"}),
        ({"email": "USER", "password": "long enough pw", "name": "   "}, {"name"}),
        ({"email": "USER", "password": "long enough pw", "name": "\t\n "}, {"name"}),
        ({"email": "USER", "password": "long enough pw", "name": "n" * 101}, {"name"}),
        ({"email": "USER", "password": "long enough pw", "name": "é" * 101}, {"name"}),
        ({"email": 12345, "password": "long enough pw", "name": "X"}, {"email"}),
        ({"email": "USER", "password": 1234567890123, "name": "X"}, {"password"}),
        ({"email": "USER", "password": "long enough pw", "name": ["X"]}, {"name"}),
        ({"email": "USER", "password": "long enough pw", "name": None}, {"name"}),
        ({"email": True, "password": {"a": 1}, "name": 7}, {"email", "password", "name"}),
        ({"password": "long enough pw", "name": "X"}, {"email"}),
        ({"email": "USER", "name": "X"}, {"password"}),
        ({"email": "USER", "password": "long enough pw"}, {"name"}),
        ({}, {"email", "password", "name"}),
        ({"email": "nope", "password": "short", "name": " "}, {"email", "password", "name"}),
    ],
    ids=[
        "email-no-at",
        "email-no-dot-in-domain",
        "email-two-ats",
        "email-with-space",
        "password-9-chars-and-bad-email",
        "password-short",
        "password-empty",
        "name-empty",
        "name-blank",
        "name-whitespace",
        "name-101-chars",
        "name-101-multibyte-chars",
        "email-number",
        "password-number",
        "name-array",
        "name-null",
        "all-wrong-types",
        "missing-email",
        "missing-password",
        "missing-name",
        "missing-everything",
        "all-invalid-at-once",
    ],
)
def test_register_validation_reports_every_bad_field(api, body, bad_fields):
    body = dict(body)
    if body.get("email") == "USER":
        body["email"] = sb.unique_email("val")
    elif body.get("email") == "EMAIL":
        body["email"] = "bad-address"
    resp = requests.post(api + "/auth/register", json=body, timeout=sb.TIMEOUT)
    err = sb.expect_error(resp, 422, "validation_failed")
    fields = err.get("fields")
    assert isinstance(fields, dict), err
    assert set(fields) == bad_fields, err
    for name, message in fields.items():
        assert isinstance(message, str) and message.strip(), (name, err)


def test_rejected_registration_creates_no_account(register):
    # A rejected registration must not leave a half-made account behind.
    email = sb.unique_email("nope")
    sb.expect_error(register(email, "short", "X"), 422, "validation_failed")
    sb.expect_ok(register(email, "long enough pw", "X"), 201)


# --- login ------------------------------------------------------------------------------


def test_login_returns_a_token_pair(register, login, secrets):
    email, password = sb.unique_email("login"), "correct horse battery"
    user = sb.expect_ok(register(email, password, "Login User"), 201)
    data = sb.expect_ok(login(email, password))
    assert set(data) >= {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in", "user"}
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] == 900
    assert isinstance(data["refresh_expires_in"], int) and data["refresh_expires_in"] > data["expires_in"]
    assert isinstance(data["refresh_token"], str) and len(data["refresh_token"]) >= 32
    assert data["refresh_token"].count(".") == 0, "the refresh token is opaque, not a JWT"
    assert data["user"] == user

    # The access token is an HS256 JWT for this user, with our issuer and audience.
    header, claims = sb.decode_jwt_unverified(data["access_token"])
    assert header["alg"] == "HS256"
    assert sb.jwt_signature_ok(data["access_token"], secrets["JWT_SECRET"])
    assert claims["sub"] == user["id"]
    assert claims["iss"] == secrets["JWT_ISSUER"]
    assert claims["aud"] in (secrets["JWT_AUDIENCE"], [secrets["JWT_AUDIENCE"]])
    assert claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 900


def test_login_email_is_case_insensitive(new_user, login):
    u = new_user(email="Case-" + uuid.uuid4().hex + "@Example.com")
    for variant in (u.email.lower(), u.email.upper(), u.email.swapcase()):
        data = sb.expect_ok(login(variant, u.password))
        assert data["user"]["id"] == u.id
        assert data["user"]["email"] == u.email


def test_login_failures_are_indistinguishable(new_user, login):
    u = new_user()
    wrong_password = login(u.email, u.password + "x")
    unknown_email = login(sb.unique_email("ghost"), u.password)
    e1 = sb.expect_error(wrong_password, 401, "invalid_credentials")
    e2 = sb.expect_error(unknown_email, 401, "invalid_credentials")
    assert e1 == e2
    assert e1["message"]
    for resp in (wrong_password, unknown_email):
        assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer"), resp.headers
    # Password comparison is exact.
    sb.expect_error(login(u.email, u.password.upper()), 401, "invalid_credentials")


def test_login_validation(api):
    resp = requests.post(api + "/auth/login", json={}, timeout=sb.TIMEOUT)
    err = sb.expect_error(resp, 422, "validation_failed")
    assert set(err["fields"]) == {"email", "password"}
    resp = requests.post(api + "/auth/login", json={"email": 5, "password": ""}, timeout=sb.TIMEOUT)
    err = sb.expect_error(resp, 422, "validation_failed")
    assert set(err["fields"]) == {"email", "password"}


# --- refresh ----------------------------------------------------------------------------


def test_refresh_rotates_the_refresh_token(api, new_user, refresh):
    u = new_user()
    data = sb.expect_ok(refresh(u.refresh_token))
    assert set(data) >= {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] == 900
    assert data["refresh_token"] != u.refresh_token
    assert data["access_token"] != u.access_token
    if "user" in data:
        assert data["user"]["id"] == u.id

    # The new access token works; the old refresh token does not any more.
    me = sb.expect_ok(requests.get(api + "/users/me", headers=sb.bearer(data["access_token"]), timeout=sb.TIMEOUT))
    assert me["id"] == u.id
    sb.expect_error(refresh(u.refresh_token), 401, "invalid_refresh_token")


def test_refresh_chain_keeps_working(new_user, refresh):
    u = new_user()
    token = u.refresh_token
    seen = {token}
    for _ in range(3):
        token = sb.expect_ok(refresh(token))["refresh_token"]
        assert token not in seen
        seen.add(token)


def test_reusing_a_rotated_refresh_token_revokes_the_family(new_user, refresh, login):
    u = new_user()
    other_session = sb.expect_ok(login(u.email, u.password))["refresh_token"]

    r2 = sb.expect_ok(refresh(u.refresh_token))["refresh_token"]
    r3 = sb.expect_ok(refresh(r2))["refresh_token"]
    # r2 was rotated: presenting it again is theft.
    sb.expect_error(refresh(r2), 401, "invalid_refresh_token")
    # The newest token of that family is dead too.
    sb.expect_error(refresh(r3), 401, "invalid_refresh_token")
    sb.expect_error(refresh(u.refresh_token), 401, "invalid_refresh_token")
    # Another login (another family) is not affected.
    sb.expect_ok(refresh(other_session))


def test_refresh_with_unknown_token_is_401(refresh, api):
    sb.expect_error(refresh("not-a-token-" + uuid.uuid4().hex), 401, "invalid_refresh_token")
    resp = requests.post(api + "/auth/refresh", json={}, timeout=sb.TIMEOUT)
    err = sb.expect_error(resp, 422, "validation_failed")
    assert set(err["fields"]) == {"refresh_token"}
    resp = requests.post(api + "/auth/refresh", json={"refresh_token": ""}, timeout=sb.TIMEOUT)
    err = sb.expect_error(resp, 422, "validation_failed")
    assert set(err["fields"]) == {"refresh_token"}


def test_an_access_token_is_not_a_refresh_token(new_user, refresh):
    u = new_user()
    sb.expect_error(refresh(u.access_token), 401, "invalid_refresh_token")


# --- logout -----------------------------------------------------------------------------


def logout(api, token):
    return requests.post(
        api + "/auth/logout", json={"refresh_token": token}, headers={"User-Agent": sb.USER_AGENT}, timeout=sb.TIMEOUT
    )


def test_logout_revokes_the_refresh_token(api, new_user, refresh):
    u = new_user()
    resp = logout(api, u.refresh_token)
    assert sb.expect_ok(resp) is None
    sb.expect_error(refresh(u.refresh_token), 401, "invalid_refresh_token")


def test_logout_twice_is_200(api, new_user):
    u = new_user()
    assert sb.expect_ok(logout(api, u.refresh_token)) is None
    assert sb.expect_ok(logout(api, u.refresh_token)) is None
    # Unknown tokens too: signing out is idempotent.
    assert sb.expect_ok(logout(api, "never-issued-" + uuid.uuid4().hex)) is None


def test_logout_revokes_the_whole_family(api, new_user, refresh):
    u = new_user()
    r2 = sb.expect_ok(refresh(u.refresh_token))["refresh_token"]
    # Signing out with the (already rotated) first token ends the session: r2 dies too.
    assert sb.expect_ok(logout(api, u.refresh_token)) is None
    sb.expect_error(refresh(r2), 401, "invalid_refresh_token")


def test_logout_leaves_other_sessions_alone(api, new_user, login, refresh):
    u = new_user()
    other = sb.expect_ok(login(u.email, u.password))["refresh_token"]
    sb.expect_ok(logout(api, u.refresh_token))
    sb.expect_ok(refresh(other))


def test_logout_validation(api):
    resp = requests.post(api + "/auth/logout", json={"token": "x"}, timeout=sb.TIMEOUT)
    err = sb.expect_error(resp, 422, "validation_failed")
    # "token" is not a member of the logout body (refresh_token, or the session cookie):
    # named as unknown, not ignored.
    assert err["fields"] == {"token": "unknown field"}, err


# --- users/me ---------------------------------------------------------------------------


def test_users_me_returns_the_signed_in_user(api, new_user):
    u = new_user()
    me = sb.expect_ok(requests.get(api + "/users/me", headers=u.headers, timeout=sb.TIMEOUT))
    sb.assert_user_shape(me)
    assert me == u.user


def test_access_token_stays_valid_after_logout(api, new_user):
    # Documented: access tokens are stateless and live until they expire.
    u = new_user()
    sb.expect_ok(logout(api, u.refresh_token))
    me = sb.expect_ok(requests.get(api + "/users/me", headers=u.headers, timeout=sb.TIMEOUT))
    assert me["id"] == u.id


# --- audit log --------------------------------------------------------------------------


def audit_log(api, user, **params):
    return requests.get(api + "/users/me/audit-log", headers=user.headers, params=params, timeout=sb.TIMEOUT)


def all_events(api, user):
    data = sb.expect_ok(audit_log(api, user, limit=100))
    assert data["total"] == len(data["items"]), data
    return data["items"]


def test_audit_log_records_events_newest_first(api, new_user, login, refresh):
    u = new_user()
    sb.expect_error(login(u.email, "wrong password!"), 401, "invalid_credentials")
    r2 = sb.expect_ok(refresh(u.refresh_token))["refresh_token"]
    sb.expect_ok(logout(api, r2))

    data = sb.expect_ok(audit_log(api, u))
    assert set(data) >= {"items", "page", "limit", "total"}
    assert data["page"] == 1 and data["limit"] == 20
    actions = [e["action"] for e in data["items"]]
    assert actions == ["user.logout", "token.refreshed", "user.login_failed", "user.login", "user.registered"], actions
    assert data["total"] == 5

    for e in data["items"]:
        assert set(e) >= {"id", "action", "provider", "ip", "user_agent", "details", "created_at"}, e
        assert sb.UUID_RE.match(e["id"]), e
        assert sb.RFC3339_UTC_RE.match(e["created_at"]), e
        assert e["provider"] is None, e
        assert e["ip"] == "127.0.0.1", e
        assert e["user_agent"] == sb.USER_AGENT, e
        assert isinstance(e["details"], dict), e
        assert "password" not in str(e["details"]).lower(), e
    stamps = [e["created_at"] for e in data["items"]]
    assert stamps == sorted(stamps, reverse=True)
    assert len({e["id"] for e in data["items"]}) == len(data["items"])


def test_audit_log_records_token_reuse(api, new_user, refresh):
    u = new_user()
    sb.expect_ok(refresh(u.refresh_token))
    sb.expect_error(refresh(u.refresh_token), 401, "invalid_refresh_token")
    actions = [e["action"] for e in all_events(api, u)]
    assert actions[0] == "token.reuse_detected", actions


def test_audit_log_pagination(api, new_user, login):
    u = new_user()
    for _ in range(3):
        sb.expect_error(login(u.email, "definitely wrong"), 401, "invalid_credentials")
    everything = all_events(api, u)
    assert len(everything) == 5  # registered, login, 3 x login_failed

    pages = []
    for page in (1, 2, 3):
        data = sb.expect_ok(audit_log(api, u, page=page, limit=2))
        assert data["page"] == page and data["limit"] == 2 and data["total"] == 5, data
        pages.append(data["items"])
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [e["id"] for p in pages for e in p] == [e["id"] for e in everything]

    beyond = sb.expect_ok(audit_log(api, u, page=4, limit=2))
    assert beyond["items"] == [] and beyond["total"] == 5 and beyond["page"] == 4

    full = sb.expect_ok(audit_log(api, u, page=1, limit=100))
    assert full["limit"] == 100 and len(full["items"]) == 5


@pytest.mark.parametrize(
    "params, field",
    [
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"page": ""}, "page"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"page": "99999999999999999999999"}, "page"),
    ],
)
def test_audit_log_rejects_bad_paging(api, new_user_once, params, field):
    resp = audit_log(api, new_user_once, **params)
    err = sb.expect_error(resp, 422, "validation_failed")
    assert set(err["fields"]) == {field}, err


def test_audit_log_reports_both_bad_paging_fields(api, new_user_once):
    err = sb.expect_error(audit_log(api, new_user_once, page=0, limit=101), 422, "validation_failed")
    assert set(err["fields"]) == {"page", "limit"}, err


@pytest.fixture(scope="module")
def new_user_once(new_user):
    return new_user()


def test_audit_log_is_private_to_its_user(api, new_user, login):
    a = new_user()
    b = new_user()
    sb.expect_error(login(a.email, "wrong password a"), 401, "invalid_credentials")
    a_events = all_events(api, a)
    b_events = all_events(api, b)
    assert [e["action"] for e in b_events] == ["user.login", "user.registered"]
    assert not {e["id"] for e in a_events} & {e["id"] for e in b_events}
    # Failed logins for unknown emails belong to nobody.
    sb.expect_error(login(sb.unique_email("ghost"), "whatever pw"), 401, "invalid_credentials")
    assert len(all_events(api, b)) == 2


def test_audit_log_requires_a_token(api):
    resp = requests.get(api + "/users/me/audit-log", timeout=sb.TIMEOUT)
    sb.expect_error(resp, 401, "unauthorized")
    assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer")
