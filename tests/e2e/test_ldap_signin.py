"""POST /auth/ldap/login against a real OpenLDAP (slapd, LDAPS with the stack's dev CA):
tokens for a good password, one generic 401 for everything else, filter injection that
finds nobody, groups mapped to scopes, a refused certificate, and the account created on
first sight and reused after."""

import uuid

import pytest
import requests

import oauthflow as of
import sb
from ldap_directory import ODD_UID, USERS, Directory


@pytest.fixture(scope="module")
def directory():
    d = Directory().start()
    yield d
    d.stop()


@pytest.fixture
def ldap_login(api, directory):
    def _login(username, password, **extra):
        return requests.post(api + "/auth/ldap/login", json={"username": username, "password": password, **extra},
                             headers={"User-Agent": sb.USER_AGENT}, timeout=sb.TIMEOUT)

    return _login


def pw(uid):
    return USERS[uid][0]


def me(api, token):
    return requests.get(api + "/users/me", headers=sb.bearer(token), timeout=sb.TIMEOUT)


def test_good_password_gives_tokens_and_me_works(api, ldap_login):
    data = sb.expect_ok(ldap_login("ann", pw("ann")))
    assert data["token_type"] == "Bearer" and data["access_token"] and data["refresh_token"]
    assert data["scope"] == "admin"
    sb.assert_user_shape(data["user"])
    assert data["user"]["email"] == "ann@ldap.test"
    assert data["user"]["name"] == "Ann Directory"
    who = sb.expect_ok(me(api, data["access_token"]))
    assert who["id"] == data["user"]["id"]


def test_first_sign_in_creates_the_account_and_the_next_reuses_it(ldap_login):
    first = sb.expect_ok(ldap_login("ben", pw("ben")))["user"]
    second = sb.expect_ok(ldap_login("ben", pw("ben")))["user"]
    assert first["id"] == second["id"]
    ident = sb.psql("SELECT count(*), min(subject) FROM user_identities WHERE provider = 'ldap' AND user_id = '"
                    + sb.sql_uuid(first["id"]) + "'")
    count, subject = ident.split("|")
    assert count == "1"
    uuid.UUID(subject)  # the entry's entryUUID, not its (renamable) DN
    assert sb.psql("SELECT count(*) FROM users WHERE id = '" + sb.sql_uuid(first["id"])
                   + "' AND password_hash IS NULL AND oauth_provider = 'ldap'") == "1"
    audit = sb.psql("SELECT string_agg(action, ',' ORDER BY created_at, action) FROM audit_events WHERE user_id = '"
                    + sb.sql_uuid(first["id"]) + "' AND provider = 'ldap'")
    assert audit.split(",").count("user.registered") == 1 and audit.count("user.login") >= 2, audit


def refused(resp):
    err = sb.expect_error(resp, 401, "invalid_credentials")
    assert "access_token" not in resp.text
    return (err["code"], err["message"])


def failed_count():
    return int(sb.psql("SELECT count(*) FROM audit_events WHERE action = 'user.login_failed' AND provider = 'ldap'"))


def test_wrong_password_unknown_user_and_empty_password_get_one_answer(ldap_login):
    before = failed_count()
    wrong = refused(ldap_login("ann", "not-the-password"))
    unknown = refused(ldap_login("nobody-" + uuid.uuid4().hex[:8], "whatever-pw"))
    empty = refused(ldap_login("ann", ""))
    assert wrong == unknown == empty
    assert failed_count() == before + 3  # each audited, with no user attached


@pytest.mark.parametrize("username", ["*", "*)(uid=*", "ann)(|(uid=*", "*)(|(objectClass=*", "a*", "\\2a",
                                      "*)(uid=*))(|(uid=*"])
def test_filter_injection_finds_nobody(ldap_login, username):
    # Any user's password would do if the filter matched someone: try a real one.
    refused(ldap_login(username, pw("ann")))


def test_a_uid_made_of_filter_characters_signs_in_as_itself(ldap_login):
    data = sb.expect_ok(ldap_login(ODD_UID, pw(ODD_UID)))
    assert data["user"]["email"] == "odd@ldap.test"
    assert data["scope"] == "read"
    refused(ldap_login(ODD_UID, pw("ann")))


def test_groups_map_to_scopes_and_refresh_keeps_them(api, ldap_login, refresh):
    ben = sb.expect_ok(ldap_login("ben", pw("ben")))
    assert ben["scope"] == "read"
    _, claims = sb.decode_jwt_unverified(ben["access_token"])
    assert claims["scope"] == "read"
    sb.expect_ok(me(api, ben["access_token"]))
    missing = api + "/integrations/" + str(uuid.uuid4())
    resp = requests.delete(missing, headers=sb.bearer(ben["access_token"]), timeout=sb.TIMEOUT)
    sb.expect_error(resp, 403, "insufficient_scope")
    renewed = sb.expect_ok(refresh(ben["refresh_token"]))
    assert renewed["scope"] == "read"
    resp = requests.delete(missing, headers=sb.bearer(renewed["access_token"]), timeout=sb.TIMEOUT)
    sb.expect_error(resp, 403, "insufficient_scope")
    ann = sb.expect_ok(ldap_login("ann", pw("ann")))
    resp = requests.delete(missing, headers=sb.bearer(ann["access_token"]), timeout=sb.TIMEOUT)
    assert resp.status_code == 404, resp.text


def test_a_user_in_no_mapped_group_is_refused(ldap_login):
    refused(ldap_login("carl", pw("carl")))


def test_directory_email_never_takes_over_a_password_account(ldap_login, register):
    owner = register("dora-ldap@example.com", "a password account")
    assert owner.status_code in (201, 409), owner.text  # 409: a rerun on the same stack
    data = sb.expect_ok(ldap_login("dora", pw("dora")))
    assert data["user"]["email"] is None
    assert sb.psql("SELECT count(*) FROM users WHERE lower(email) = 'dora-ldap@example.com' "
                   "AND password_hash IS NOT NULL") == "1"
    assert sb.psql("SELECT count(*) FROM user_identities i JOIN users u ON u.id = i.user_id "
                   "WHERE i.provider = 'ldap' AND u.password_hash IS NOT NULL") == "0"


def test_cookie_session(ldap_login):
    resp = ldap_login("ann", pw("ann"), session="cookie")
    data = sb.expect_ok(resp)
    assert data["session"] == "cookie" and "refresh_token" not in data
    assert "sb_refresh=" in resp.headers.get("Set-Cookie", "")


def test_untrusted_certificate_is_an_error_not_a_sign_in(ldap_login, directory):
    directory.trust(directory.untrusted)
    try:
        resp = ldap_login("ann", pw("ann"))
        sb.expect_error(resp, 502, "ldap_unavailable")
        assert "access_token" not in resp.text
    finally:
        directory.trust(directory.stack_ca)
    sb.expect_ok(ldap_login("ann", pw("ann")))


def test_certificate_for_another_host_is_refused(ldap_login, directory, tmp_path):
    """Signed by the trusted CA, but for another name than the URL's host."""
    other = directory.cert_for("directory.other.test", str(tmp_path))
    directory.stop()
    try:
        directory.start(server_cert=other)
        resp = ldap_login("ann", pw("ann"))
        sb.expect_error(resp, 502, "ldap_unavailable")
        assert "access_token" not in resp.text
    finally:
        directory.stop()
        directory.start()
    sb.expect_ok(ldap_login("ann", pw("ann")))


def test_unreachable_directory_is_502(ldap_login, directory):
    directory.stop()
    try:
        sb.expect_error(ldap_login("ann", pw("ann")), 502, "ldap_unavailable")
    finally:
        directory.start()
    sb.expect_ok(ldap_login("ann", pw("ann")))


@pytest.mark.parametrize("body,field", [({"password": "x"}, "username"), ({"username": "ann"}, "password"),
                                        ({"username": "", "password": "x"}, "username"),
                                        ({"username": "ann", "password": "x", "email": "a@b"}, "email"),
                                        ({"username": "a" * 257, "password": "x"}, "username"),
                                        ({"username": "ann\u0000", "password": "x"}, "username")])
def test_invalid_bodies_are_422(api, directory, body, field):
    resp = requests.post(api + "/auth/ldap/login", json=body, timeout=sb.TIMEOUT)
    err = sb.expect_error(resp, 422)
    assert field in resp.text, err


def test_sign_in_shares_the_login_rate_limit(api):
    """nginx's per-address login bucket (SB_AUTH_RATE/SB_AUTH_BURST) covers this route too:
    a flood from an address of its own (see test_login_rate_limit) meets 429s."""
    from concurrent.futures import ThreadPoolExecutor

    from test_login_rate_limit import own_address, session_from

    own = session_from(own_address(), 40)
    try:
        with ThreadPoolExecutor(40) as pool:
            answers = list(pool.map(lambda _: own.post(api + "/auth/ldap/login", json={}, timeout=sb.TIMEOUT),
                                    range(400)))
    finally:
        own.close()
    statuses = {r.status_code for r in answers}
    assert 429 in statuses and statuses <= {422, 429}, sorted(statuses)
    sb.expect_error(next(r for r in answers if r.status_code == 429), 429, "rate_limited")


def test_sign_in_with_a_provider_never_reaches_a_directory_account(api, ldap_login):
    """The directory account is narrowed by its groups and ends when the directory drops
    the user: a provider account verifying the same email must not land in it."""
    directory_user = sb.expect_ok(ldap_login("gina", pw("gina")))["user"]
    assert directory_user["email"] == "ldapgina@example.com"
    d = sb.expect_ok(of.start(api, "google", kind="login"))
    resp = of.callback(of.authorize(d["authorization_url"], "ldapgina"), json_mode=True)
    sb.expect_error(resp, 409, "account_exists")
    assert sb.psql("SELECT count(*) FROM user_identities WHERE user_id = '" + sb.sql_uuid(directory_user["id"])
                   + "'") == "1"
