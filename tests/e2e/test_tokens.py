"""Access-token verification on GET /api/v1/users/me: what is refused (always 401
unauthorized with WWW-Authenticate: Bearer) and the host platform's tokens."""

import time
import uuid

import pytest
import requests

import sb


def me(api, headers=None):
    return requests.get(api + "/users/me", headers=headers or {}, timeout=sb.TIMEOUT)


def expect_unauthorized(resp):
    err = sb.expect_error(resp, 401, "unauthorized")
    www = resp.headers.get("WWW-Authenticate", "")
    assert www.startswith("Bearer"), resp.headers
    body = resp.json()
    assert set(body) == {"success", "error"}, body
    return err


@pytest.fixture(scope="module")
def user(new_user):
    return new_user()


def test_no_authorization_header(api):
    expect_unauthorized(me(api))


def test_valid_token_is_accepted(api, user):
    assert sb.expect_ok(me(api, user.headers))["id"] == user.id


def test_bearer_scheme_is_case_insensitive(api, user):
    assert sb.expect_ok(me(api, {"Authorization": "bearer " + user.access_token}))["id"] == user.id


@pytest.mark.parametrize(
    "value",
    [
        "Basic dXNlcjpwYXNzd29yZA==",
        "Bearer",
        "Bearer ",
        "Token abc.def.ghi",
        "Bearer garbage",
        "Bearer not.a.jwt",
        "Bearer a.b.c.d",
        "Bearer ..",
        "Bearer eyJhbGciOiJIUzI1NiJ9.!!!.abc",
    ],
    ids=["basic", "bearer-alone", "bearer-empty", "other-scheme", "garbage", "not-base64", "four-parts", "dots", "bad-payload"],
)
def test_malformed_authorization_is_refused(api, value):
    expect_unauthorized(me(api, {"Authorization": value}))


def test_each_token_names_its_own_user(api, new_user):
    # Sanity: two users, two tokens, two identities.
    a, b = new_user(), new_user()
    assert sb.expect_ok(me(api, a.headers))["id"] == a.id
    assert sb.expect_ok(me(api, b.headers))["id"] == b.id


def test_hand_made_token_with_our_secret_is_accepted(api, user, jwt):
    # Proves the claim set used by the negative tests below is otherwise valid.
    assert sb.expect_ok(me(api, sb.bearer(jwt.ours(user.id))))["id"] == user.id


def test_expired_token(api, user, jwt):
    now = int(time.time())
    token = jwt.ours(user.id, iat=now - 1000, exp=now - 120)
    expect_unauthorized(me(api, sb.bearer(token)))


def test_token_signed_with_another_secret(api, user, jwt):
    token = jwt.ours(user.id, secret="another-secret-" + uuid.uuid4().hex * 2)
    expect_unauthorized(me(api, sb.bearer(token)))


def test_tampered_payload(api, user, new_user, jwt):
    other = new_user()
    good = jwt.ours(user.id)
    forged_payload = sb.make_jwt(jwt.ours_claims(other.id), "x").split(".")[1]
    h, _, s = good.split(".")
    expect_unauthorized(me(api, sb.bearer(f"{h}.{forged_payload}.{s}")))


def test_alg_none_token(api, user, jwt):
    token = jwt.make(jwt.ours_claims(user.id), None, header={"alg": "none"}, signature="")
    assert token.endswith(".")
    expect_unauthorized(me(api, sb.bearer(token)))
    # Also with a "typ" and with a junk signature.
    token = jwt.make(jwt.ours_claims(user.id), None, header={"alg": "none", "typ": "JWT"}, signature="")
    expect_unauthorized(me(api, sb.bearer(token)))
    token = jwt.make(jwt.ours_claims(user.id), None, header={"alg": "none"}, signature="c2ln")
    expect_unauthorized(me(api, sb.bearer(token)))


@pytest.mark.parametrize("alg", ["HS512", "HS384"])
def test_other_hmac_algorithm_with_the_right_secret(api, user, jwt, alg):
    expect_unauthorized(me(api, sb.bearer(jwt.ours(user.id, alg=alg))))


def test_header_claiming_hs256_but_signed_hs512(api, user, jwt, secrets):
    import hashlib
    import hmac
    import json

    hdr = sb.b64url(json.dumps({"alg": "HS256", "typ": "JWT"}))
    pl = sb.b64url(json.dumps(jwt.ours_claims(user.id)))
    sig = hmac.new(secrets["JWT_SECRET"].encode(), f"{hdr}.{pl}".encode(), hashlib.sha512).digest()
    expect_unauthorized(me(api, sb.bearer(f"{hdr}.{pl}.{sb.b64url(sig)}")))


def test_wrong_issuer(api, user, jwt):
    expect_unauthorized(me(api, sb.bearer(jwt.ours(user.id, iss="someone-else"))))


def test_missing_issuer(api, user, jwt):
    expect_unauthorized(me(api, sb.bearer(jwt.ours(user.id, iss=None))))


def test_wrong_audience(api, user, jwt):
    expect_unauthorized(me(api, sb.bearer(jwt.ours(user.id, aud="another-api"))))


def test_missing_audience(api, user, jwt):
    expect_unauthorized(me(api, sb.bearer(jwt.ours(user.id, aud=None))))


def test_missing_exp(api, user, jwt):
    expect_unauthorized(me(api, sb.bearer(jwt.ours(user.id, exp=None))))


def test_non_numeric_exp(api, user, jwt):
    expect_unauthorized(me(api, sb.bearer(jwt.ours(user.id, exp=str(int(time.time()) + 600)))))


def test_not_yet_valid(api, user, jwt):
    now = int(time.time())
    expect_unauthorized(me(api, sb.bearer(jwt.ours(user.id, nbf=now + 3600))))
    expect_unauthorized(me(api, sb.bearer(jwt.ours(user.id, iat=now + 3600, exp=now + 7200))))


@pytest.mark.parametrize("typ", [None, "refresh", "ACCESS", ""])
def test_our_token_must_say_it_is_an_access_token(api, user, jwt, typ):
    expect_unauthorized(me(api, sb.bearer(jwt.ours(user.id, typ=typ))))


def test_missing_or_bad_subject(api, jwt):
    expect_unauthorized(me(api, sb.bearer(jwt.ours(None))))
    expect_unauthorized(me(api, sb.bearer(jwt.ours(""))))
    expect_unauthorized(me(api, sb.bearer(jwt.ours("not-a-uuid"))))


def test_token_for_an_unknown_user(api, jwt):
    expect_unauthorized(me(api, sb.bearer(jwt.ours(str(uuid.uuid4())))))


def test_our_claims_signed_with_the_host_secret(api, user, jwt, secrets):
    # Key confusion: the issuer picks the key, so our issuer + the host's secret fails.
    expect_unauthorized(me(api, sb.bearer(jwt.ours(user.id, secret=secrets["HOST_JWT_SECRET"]))))


# --- host platform tokens -----------------------------------------------------------------


def host_sub():
    return "host-user-" + uuid.uuid4().hex


def test_host_token_creates_the_user_once(api, jwt):
    sub, email = host_sub(), sb.unique_email("host")
    token = jwt.host(sub, email=email, name="Host Person")
    first = sb.expect_ok(me(api, sb.bearer(token)))
    sb.assert_user_shape(first)
    assert first["email"] == email
    assert first["name"] == "Host Person"
    second = sb.expect_ok(me(api, sb.bearer(jwt.host(sub, email=email, name="Host Person"))))
    assert second["id"] == first["id"]
    assert second["created_at"] == first["created_at"]


def test_host_token_concurrent_first_sight_makes_one_user(api, jwt):
    from concurrent.futures import ThreadPoolExecutor

    sub = host_sub()
    token = jwt.host(sub, email=sb.unique_email("race"), name="Racer")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: me(api, sb.bearer(token)), range(8)))
    ids = {sb.expect_ok(r)["id"] for r in results}
    assert len(ids) == 1, ids


def test_host_token_without_email(api, jwt):
    data = sb.expect_ok(me(api, sb.bearer(jwt.host(host_sub(), name="No Mail"))))
    assert data["email"] is None
    assert data["name"] == "No Mail"


def test_host_token_does_not_take_over_a_local_account(api, new_user, jwt, login):
    local = new_user()
    for email in (local.email, local.email.upper()):
        token = jwt.host(host_sub(), email=email, name="Impostor")
        data = sb.expect_ok(me(api, sb.bearer(token)))
        assert data["id"] != local.id
        assert data["email"] is None
    # The local account is untouched.
    assert sb.expect_ok(me(api, local.headers)) == local.user
    assert sb.expect_ok(login(local.email, local.password))["user"]["id"] == local.id


def test_host_user_cannot_log_in_with_a_password(new_user, jwt, api, login, register):
    email = sb.unique_email("hostonly")
    sb.expect_ok(me(api, sb.bearer(jwt.host(host_sub(), email=email, name="H"))))
    sb.expect_error(login(email, "any password at all"), 401, "invalid_credentials")
    # The host user holds that email: a local registration with it is a conflict.
    sb.expect_error(register(email, "long enough pw", "Local"), 409, "email_taken")


def test_host_token_is_checked_like_ours(api, jwt, secrets):
    sub = host_sub()
    now = int(time.time())
    bad = [
        jwt.host(sub, secret=secrets["JWT_SECRET"]),  # right issuer, wrong secret
        jwt.host(sub, secret="x" * 48),
        jwt.host(sub, exp=now - 120, iat=now - 1000),
        jwt.host(sub, exp=None),
        jwt.host(sub, aud="someone-else"),
        jwt.host(sub, alg="HS512"),
        jwt.host(None),
        jwt.make(jwt.host_claims(sub), None, header={"alg": "none"}, signature=""),
    ]
    if secrets.get("HOST_JWT_AUDIENCE"):
        bad.append(jwt.host(sub, aud=None))
    for token in bad:
        expect_unauthorized(me(api, sb.bearer(token)))
