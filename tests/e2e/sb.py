"""Helpers shared by the end-to-end tests (imported by conftest.py and the test files).

Everything here talks to the throwaway stack that scripts/test-e2e starts: the ports
come from SB_HTTP_PORT / SB_HTTPS_PORT and the secrets from $SB_VAR/switchboard.env.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import time
import uuid

TIMEOUT = 15  # seconds per HTTP request; generous, never a timing assertion

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RFC3339_UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
USER_AGENT = "switchboard-e2e/1.0"


def env_file_values(path):
    """Parses the stack's KEY=VALUE env file the way lib/config.c does."""
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            if s.startswith("export "):
                s = s[7:].strip()
            if "=" not in s:
                continue
            key, val = s.split("=", 1)
            key, val = key.strip(), val.strip()
            if len(val) >= 2 and val[0] in "\"'" and val[-1] == val[0]:
                val = val[1:-1]
            values[key] = val
    return values


def load_secrets():
    var = os.environ.get("SB_VAR")
    if not var:
        raise RuntimeError("SB_VAR is not set: run the suite through scripts/test-e2e")
    values = env_file_values(os.path.join(var, "switchboard.env"))
    # The responders prefer the process environment over the file (setenv(..., 0)).
    for key in list(values):
        if os.environ.get(key):
            values[key] = os.environ[key]
    return values


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def make_jwt(claims, secret, alg="HS256", header=None, signature=None):
    """Builds a JWT by hand. alg picks the HMAC (HS256/HS384/HS512) or "none" (empty
    signature); header overrides the whole header; signature overrides the signature."""
    hdr = header if header is not None else {"alg": alg, "typ": "JWT"}
    signing_input = b64url(json.dumps(hdr, separators=(",", ":"))) + "." + b64url(
        json.dumps(claims, separators=(",", ":"))
    )
    if signature is None:
        digests = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
        if alg in digests:
            key = secret.encode() if isinstance(secret, str) else secret
            signature = b64url(hmac.new(key, signing_input.encode(), digests[alg]).digest())
        else:
            signature = ""
    return signing_input + "." + signature


def decode_jwt_unverified(token):
    h, p, _ = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p))


def jwt_signature_ok(token, secret):
    h, p, s = token.split(".")
    want = hmac.new(secret.encode(), (h + "." + p).encode(), hashlib.sha256).digest()
    return hmac.compare_digest(want, b64url_decode(s))


def unique_email(prefix="user"):
    return f"{prefix}-{uuid.uuid4().hex}@example.com"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def body_of(resp):
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.startswith("application/json"), (
        f"{resp.request.method} {resp.url} -> {resp.status_code} with Content-Type {ctype!r}: {resp.text[:300]!r}"
    )
    try:
        return resp.json()
    except ValueError as e:  # pragma: no cover - reported as a failure
        raise AssertionError(f"{resp.request.method} {resp.url}: body is not JSON: {resp.text[:300]!r}") from e


def expect_ok(resp, status=200):
    """Asserts a success envelope with the given status and returns its data."""
    assert resp.status_code == status, (
        f"{resp.request.method} {resp.url}: expected {status}, got {resp.status_code}: {resp.text[:500]}"
    )
    body = body_of(resp)
    assert body.get("success") is True, body
    assert "data" in body, body
    assert "error" not in body, body
    return body["data"]


def expect_error(resp, status, code=None):
    """Asserts an error envelope {"success": false, "error": {"code", "message"}} and
    returns the error object."""
    assert resp.status_code == status, (
        f"{resp.request.method} {resp.url}: expected {status}, got {resp.status_code}: {resp.text[:500]}"
    )
    body = body_of(resp)
    assert body.get("success") is False, body
    err = body.get("error")
    assert isinstance(err, dict), body
    assert isinstance(err.get("code"), str) and err["code"], body
    assert isinstance(err.get("message"), str) and err["message"], body
    if code is not None:
        assert err["code"] == code, f"expected code {code!r}, got {err['code']!r}: {body}"
    return err


def assert_user_shape(user):
    assert set(user) >= {"id", "email", "name", "created_at", "updated_at"}, user
    assert UUID_RE.match(user["id"]), user
    assert RFC3339_UTC_RE.match(user["created_at"]), user
    assert RFC3339_UTC_RE.match(user["updated_at"]), user
    for secret in ("password", "password_hash", "external_subject"):
        assert secret not in user, user


def retry_until(fn, timeout=5.0, interval=0.2):
    """Calls fn() until it returns a truthy value or timeout elapses; returns the last
    value. Used only to wait for a reconnection, never to assert on timing."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# --- integrations (MQTT) helpers ------------------------------------------------------------


def psql(sql):
    """Runs one SQL statement on the stack's database as the postgres superuser (the suite
    runs as root) and returns psql's unaligned, tuples-only output, stripped."""
    import subprocess

    var = os.environ["SB_VAR"]
    cmd = ["psql", "-X", "-h", os.path.join(var, "pg", "run"), "-d", "switchboard", "-tA", "-v", "ON_ERROR_STOP=1",
           "-c", sql]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, f"psql {sql!r} exited {proc.returncode}: {proc.stderr}"
    return proc.stdout.strip()


def sql_uuid(value):
    """value checked as a UUID, safe to put inside a SQL literal."""
    assert UUID_RE.match(value), value
    return value


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mqtt_broker():
    """The test stack's broker: the listener ports and the credentials of the password
    listener, from SB_MQTT_* and $SB_VAR/mosquitto/credentials."""
    import types

    creds = env_file_values(os.path.join(os.environ["SB_VAR"], "mosquitto", "credentials"))
    return types.SimpleNamespace(
        port=int(os.environ["SB_MQTT_PORT"]),
        auth_port=int(os.environ["SB_MQTT_AUTH_PORT"]),
        tls_port=int(os.environ["SB_MQTTS_PORT"]),
        untrusted_port=int(os.environ["SB_MQTTS_UNTRUSTED_PORT"]),
        ws_port=int(os.environ["SB_MQTT_WS_PORT"]),
        user=creds["SB_MQTT_TEST_USER"],
        password=creds["SB_MQTT_TEST_PASSWORD"],
    )


def rotate_key_diagnostics(stderr):
    """For a failed scripts/rotate-key run: what each row it could not open is (whose, when
    written, with which key version), so a failure names the test that left the row."""
    import re

    out = []
    for row_id in sorted(set(re.findall(r"row ([0-9a-f-]{36})", stderr))):
        out.append(psql("SELECT u.email || ' created ' || i.created_at || ' updated ' || i.updated_at || ' config ' || "
                        "i.config::text FROM user_integrations i JOIN users u ON u.id = i.user_id "
                        f"WHERE i.id = '{row_id}'"))
    return "\n".join(out)
