"""Fixtures of the end-to-end suite. Run it through scripts/test-e2e, which starts a
throwaway stack and exports SB_VAR, SB_HTTP_PORT, SB_HTTPS_PORT and the rate limits."""

import os
import subprocess
import time
import types
import uuid

import pytest
import requests
import urllib3

import sb

# The stack's TLS certificate is a self-signed dev certificate.
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def pytest_configure(config):
    # pytest resets warning filters per test: disable_warnings() above is not enough.
    config.addinivalue_line("filterwarnings", "ignore::urllib3.exceptions.InsecureRequestWarning")
    missing = [v for v in ("SB_VAR", "SB_HTTP_PORT", "SB_HTTPS_PORT") if not os.environ.get(v)]
    if missing:
        raise pytest.UsageError(
            f"{', '.join(missing)} not set: run the end-to-end tests with scripts/test-e2e"
        )


@pytest.fixture(scope="session")
def secrets():
    """The stack's secrets: JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE, HOST_JWT_*."""
    return sb.load_secrets()


@pytest.fixture(scope="session")
def base_url():
    return f"http://127.0.0.1:{os.environ['SB_HTTP_PORT']}"


@pytest.fixture(scope="session")
def https_url():
    return f"https://127.0.0.1:{os.environ['SB_HTTPS_PORT']}"


@pytest.fixture(scope="session")
def api(base_url):
    """Base URL of the versioned API."""
    return base_url + "/api/v1"


@pytest.fixture
def http():
    """A requests session with the suite's User-Agent (one per test)."""
    s = requests.Session()
    s.headers["User-Agent"] = sb.USER_AGENT
    yield s
    s.close()


@pytest.fixture(scope="session")
def register(api):
    """register(email=None, password=None, name=None) -> response of POST /auth/register."""

    def _register(email=None, password="correct horse battery", name="E2E User", session=None):
        body = {"email": email or sb.unique_email(), "password": password, "name": name}
        return (session or requests).post(
            api + "/auth/register", json=body, headers={"User-Agent": sb.USER_AGENT}, timeout=sb.TIMEOUT
        )

    return _register


@pytest.fixture(scope="session")
def login(api):
    """login(email, password) -> response of POST /auth/login."""

    def _login(email, password, session=None):
        return (session or requests).post(
            api + "/auth/login",
            json={"email": email, "password": password},
            headers={"User-Agent": sb.USER_AGENT},
            timeout=sb.TIMEOUT,
        )

    return _login


@pytest.fixture(scope="session")
def refresh(api):
    """refresh(refresh_token) -> response of POST /auth/refresh."""

    def _refresh(token):
        return requests.post(
            api + "/auth/refresh",
            json={"refresh_token": token},
            headers={"User-Agent": sb.USER_AGENT},
            timeout=sb.TIMEOUT,
        )

    return _refresh


@pytest.fixture(scope="session")
def new_user(register, login):
    """new_user(**overrides) registers a unique user, logs in and returns a namespace:
    email, password, name, id, user (the registered user), access_token, refresh_token,
    tokens (the whole login data) and headers (Authorization: Bearer ...)."""

    def _new_user(email=None, password=None, name=None):
        email = email or sb.unique_email()
        password = password or "pw-" + uuid.uuid4().hex[:16]
        name = name or "User " + uuid.uuid4().hex[:8]
        user = sb.expect_ok(register(email, password, name), 201)
        tokens = sb.expect_ok(login(email, password))
        return types.SimpleNamespace(
            email=email,
            password=password,
            name=name,
            id=user["id"],
            user=user,
            tokens=tokens,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            headers=sb.bearer(tokens["access_token"]),
        )

    return _new_user


@pytest.fixture(scope="session")
def jwt(secrets):
    """Hand-made tokens. jwt.ours(sub, **claims) / jwt.host(sub, **claims) give valid
    claims for our issuer / the host platform, signed with the matching secret; a claim
    set to None is removed. jwt.make(claims, secret, alg=..., header=...) is raw."""

    def claims_for(issuer, audience, sub, extra, typ):
        now = int(time.time())
        c = {"sub": sub, "iss": issuer, "aud": audience, "iat": now, "exp": now + 600}
        if typ:
            c["typ"] = typ
        c.update(extra)
        return {k: v for k, v in c.items() if v is not None}

    def ours_claims(sub, **extra):
        return claims_for(secrets["JWT_ISSUER"], secrets["JWT_AUDIENCE"], sub, extra, "access")

    def host_claims(sub, **extra):
        return claims_for(secrets["HOST_JWT_ISSUER"], secrets.get("HOST_JWT_AUDIENCE"), sub, extra, None)

    def ours(sub, secret=None, alg="HS256", **extra):
        return sb.make_jwt(ours_claims(sub, **extra), secret or secrets["JWT_SECRET"], alg=alg)

    def host(sub, secret=None, alg="HS256", **extra):
        return sb.make_jwt(host_claims(sub, **extra), secret or secrets["HOST_JWT_SECRET"], alg=alg)

    return types.SimpleNamespace(
        make=sb.make_jwt, ours=ours, host=host, ours_claims=ours_claims, host_claims=host_claims
    )


@pytest.fixture(scope="session")
def stack():
    """stack(*args, check=True) runs scripts/stack with the suite's environment."""

    def _stack(*args, check=True, timeout=120):
        proc = subprocess.run(
            [os.path.join(ROOT, "scripts", "stack"), *args],
            env=os.environ.copy(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check:
            assert proc.returncode == 0, (
                f"scripts/stack {' '.join(args)} exited {proc.returncode}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc

    return _stack


@pytest.fixture(scope="session")
def broker():
    """The stack's MQTT broker (see sb.mqtt_broker): ports of every listener and the
    credentials of the password listener. Skips when the stack exports no broker ports."""
    missing = [v for v in ("SB_MQTT_PORT", "SB_MQTT_AUTH_PORT", "SB_MQTTS_PORT", "SB_MQTTS_UNTRUSTED_PORT",
                           "SB_MQTT_WS_PORT") if not os.environ.get(v)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not set: run the suite through scripts/test-e2e")
    return sb.mqtt_broker()
