"""Fixtures of the end-to-end suite. Run it through scripts/test-e2e, which starts a
throwaway stack and exports SB_VAR, SB_HTTP_PORT, SB_HTTPS_PORT and the rate limits."""

import os
import re
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
        # Named after the test that made it: a row left behind says where it came from.
        current = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[-1].split(" ")[0]
        email = email or sb.unique_email(re.sub(r"[^a-z0-9]+", "-", current.lower())[:28].strip("-") or "user")
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


# --- webhooks: the receiver and helpers ------------------------------------------------------


class WebhookReceiver:
    """Client of tests/e2e/fakes/webhook_receiver.js: URLs of its modes, the secrets it
    verifies with, and what each bucket received. A bucket is a fresh name per test."""

    def __init__(self, port):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    @staticmethod
    def bucket():
        return "b" + uuid.uuid4().hex

    def url(self, mode, bucket, **query):
        q = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{self.base}/{mode}/{bucket}" + ("?" + q if q else "")

    def set_secrets(self, bucket, *secrets):
        resp = requests.post(f"{self.base}/_secret/{bucket}", json={"secrets": list(secrets)}, timeout=sb.TIMEOUT)
        assert resp.status_code == 204, resp.text

    def log(self, bucket):
        resp = requests.get(f"{self.base}/_log/{bucket}", timeout=sb.TIMEOUT)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def ids(self, bucket):
        return [e["headers"]["webhook-id"] for e in self.log(bucket)]

    def wait(self, bucket, cond=None, timeout=15.0, what="a request"):
        """Polls the bucket's log until cond(log) holds (default: something arrived), at
        most timeout seconds; returns the log, or fails showing what did arrive."""
        cond = cond or (lambda log: len(log) >= 1)
        deadline = time.monotonic() + timeout
        while True:
            log = self.log(bucket)
            if cond(log):
                return log
            if time.monotonic() >= deadline:
                summary = [(e["n"], e["mode"], e["headers"].get("webhook-id"), (e.get("body") or {}).get("type"),
                            e.get("verified")) for e in log]
                raise AssertionError(f"receiver bucket {bucket}: waited {timeout}s for {what}; got {summary}")
            time.sleep(0.1)

    def wait_count(self, bucket, n, timeout=15.0):
        return self.wait(bucket, lambda log: len(log) >= n, timeout, what=f"{n} request(s)")


@pytest.fixture(scope="session")
def receiver():
    """The webhook receiver, started once for the session on a free port (killed at the
    end): a WebhookReceiver."""
    port = sb.free_port()
    script = os.path.join(ROOT, "tests", "e2e", "fakes", "webhook_receiver.js")
    log_path = os.path.join(os.environ["SB_VAR"], "log", "webhook_receiver.log")
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(["node", script, str(port)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, f"the webhook receiver exited with {proc.returncode}; see {log_path}"
            try:
                if requests.get(f"http://127.0.0.1:{port}/_log/_probe", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"the webhook receiver did not listen on {port}; see {log_path}"
            time.sleep(0.1)
        yield WebhookReceiver(port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def wh(api, receiver):
    """Webhook helpers on the API for a user from new_user():
    create(user, url, events=("*",), **fields) -> the created webhook (with its secret);
    hook(user, mode, events=("*",), query=None, **fields) -> a webhook to a fresh receiver
        bucket whose secret the receiver verifies with: namespace(id, secret, bucket, url, webhook);
    publish(user, type, data=None, key=None, headers=None) -> data of POST /events (202);
    deliveries(user, webhook_id, **params) -> data of GET .../deliveries;
    wait_deliveries(user, webhook_id, cond, timeout=15, **params) -> deliveries data once cond(data) holds;
    settled(user, webhook_id, n, **params) -> deliveries data once n exist and none is pending;
    audit(user) -> the user's audit-log items (first 100)."""

    def _h(user):
        return {**user.headers, "User-Agent": sb.USER_AGENT}

    def create(user, url, events=("*",), name=None, **fields):
        body = {"name": name or "hook " + uuid.uuid4().hex[:8], "url": url, "events": list(events), **fields}
        return sb.expect_ok(requests.post(api + "/webhooks", json=body, headers=_h(user), timeout=sb.TIMEOUT), 201)

    def hook(user, mode, events=("*",), query=None, **fields):
        bucket = receiver.bucket()
        url = receiver.url(mode, bucket, **(query or {}))
        w = create(user, url, events, **fields)
        receiver.set_secrets(bucket, w["secret"])
        return types.SimpleNamespace(id=w["id"], secret=w["secret"], bucket=bucket, url=url, webhook=w)

    def publish(user, type, data=None, key=None, headers=None):
        body = {"type": type}
        if data is not None:
            body["data"] = data
        if key is not None:
            body["idempotency_key"] = key
        resp = requests.post(api + "/events", json=body, headers={**_h(user), **(headers or {})}, timeout=sb.TIMEOUT)
        return sb.expect_ok(resp, 202)

    def deliveries(user, webhook_id, **params):
        resp = requests.get(f"{api}/webhooks/{webhook_id}/deliveries", params=params, headers=_h(user),
                            timeout=sb.TIMEOUT)
        return sb.expect_ok(resp)

    def wait_deliveries(user, webhook_id, cond, timeout=15.0, what="a condition", **params):
        deadline = time.monotonic() + timeout
        while True:
            data = deliveries(user, webhook_id, **params)
            if cond(data):
                return data
            if time.monotonic() >= deadline:
                summary = [(d["event_type"], d["status"], d["attempt_count"], d["last_status_code"], d["last_error"])
                           for d in data["items"]]
                raise AssertionError(f"webhook {webhook_id}: waited {timeout}s for {what}; deliveries: {summary}")
            time.sleep(0.2)

    def settled(user, webhook_id, n=1, timeout=15.0, **params):
        params.setdefault("limit", 100)
        return wait_deliveries(
            user, webhook_id,
            lambda d: d["total"] >= n and all(x["status"] != "pending" for x in d["items"]),
            timeout, what=f"{n} settled deliveries", **params)

    def audit(user):
        resp = requests.get(api + "/users/me/audit-log", params={"limit": 100}, headers=_h(user), timeout=sb.TIMEOUT)
        return sb.expect_ok(resp)["items"]

    return types.SimpleNamespace(create=create, hook=hook, publish=publish, deliveries=deliveries,
                                 wait_deliveries=wait_deliveries, settled=settled, audit=audit)


@pytest.fixture(scope="module")
def fresh_worker(stack):
    """Restarts the webhook worker (SIGTERM, then start) once for the module that asks for
    it, so it runs with the stack's current env file: earlier modules edit that file (a new
    encryption key, switched guards) and the worker reads it only when it starts."""
    stack("restart", "worker")
    yield
