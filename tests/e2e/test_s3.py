"""S3-compatible object storage: the config (secret write-only and sealed), the test
action that writes, reads back and deletes a probe object, path-style and virtual-hosted
addressing, bad credentials, a missing bucket, an unreachable endpoint, the private-
address guard, health, isolation between users and validation. The server is a real
s3rver behind a front that verifies SigV4 the way S3 does (tests/e2e/fakes/s3_server.js,
SB_FAKE_S3_PORT): s3rver alone does not check V4 signatures."""

import json
import os

import pytest
import requests

import sb
from test_mqtt import set_env_value

KEY_ID = "SBTESTKEY00000000"
SECRET = "sb-test-secret-key/0000000000000000000000"
BUCKET = "sb-exports"
VIEW_KEYS = {"enabled", "endpoint", "region", "bucket", "access_key_id", "addressing", "prefix",
             "has_secret_access_key", "status", "last_error", "last_checked_at", "updated_at"}


@pytest.fixture(scope="session")
def s3():
    port = os.environ.get("SB_FAKE_S3_PORT")
    if not port:
        pytest.skip("SB_FAKE_S3_PORT not set: run the suite through scripts/test-e2e")
    return f"http://127.0.0.1:{port}"


def config(endpoint, **extra):
    body = {"endpoint": endpoint, "region": "us-east-1", "bucket": BUCKET, "access_key_id": KEY_ID,
            "secret_access_key": SECRET, "addressing": "path"}
    body.update(extra)
    return body


def url(api, rest=""):
    return api + "/users/me/integrations/s3" + rest


def put(api, user, body):
    return requests.put(url(api), json=body, headers=user.headers, timeout=sb.TIMEOUT)


def get(api, user):
    return requests.get(url(api), headers=user.headers, timeout=sb.TIMEOUT)


def probe(api, user):
    return requests.post(url(api, "/test"), headers=user.headers, timeout=30)


def fake_log(s3):
    return requests.get(s3 + "/_fake/requests", timeout=sb.TIMEOUT).json()


def fake_object(s3, bucket, key):
    return requests.get(f"{s3}/_fake/object/{bucket}/{key}", timeout=sb.TIMEOUT)


def db_config(user):
    out = sb.psql(f"SELECT config::text FROM user_integrations WHERE user_id = '{sb.sql_uuid(user.id)}' "
                  "AND provider = 's3'")
    return json.loads(out) if out else None


def test_save_view_and_sealed_secret(api, new_user, s3):
    u = new_user()
    r = put(api, u, config(s3, prefix="team/"))
    v = sb.expect_ok(r)
    assert set(v) == VIEW_KEYS, v
    assert v["has_secret_access_key"] is True and v["bucket"] == BUCKET and v["prefix"] == "team/"
    assert SECRET not in r.text
    assert SECRET not in get(api, u).text
    stored = db_config(u)
    assert stored["secret_access_key_encrypted"].startswith("sb1."), stored
    assert SECRET not in json.dumps(stored)
    # A save without the secret keeps the stored one.
    body = config(s3, prefix="other/")
    del body["secret_access_key"]
    assert sb.expect_ok(put(api, u, body))["has_secret_access_key"] is True
    assert db_config(u)["secret_access_key_encrypted"] == stored["secret_access_key_encrypted"]
    catalog = requests.get(api + "/integrations", timeout=sb.TIMEOUT)
    assert catalog.status_code == 200 and '"s3"' in catalog.text, catalog.text[:300]


def test_probe_writes_reads_and_deletes(api, new_user, s3):
    u = new_user()
    sb.expect_ok(put(api, u, config(s3, prefix="probe-test/")))
    before = len(fake_log(s3))
    d = sb.expect_ok(probe(api, u))
    assert d["connected"] is True and d["bucket"] == BUCKET
    assert [(s["step"], s["ok"]) for s in d["steps"]] == [("write", True), ("read", True), ("delete", True)], d
    calls = fake_log(s3)[before:]
    assert [c["method"] for c in calls] == ["PUT", "GET", "DELETE"], calls
    assert all(c["verified"] for c in calls), calls
    key = calls[0]["path"].split("/", 2)[2]
    assert key.startswith("probe-test/.switchboard-probe-"), key
    assert fake_object(s3, BUCKET, key).status_code == 404  # nothing left behind
    v = sb.expect_ok(get(api, u))
    assert v["status"] == "connected" and v["last_error"] is None and v["last_checked_at"], v
    audit = sb.expect_ok(requests.get(api + "/users/me/audit-log", params={"limit": 50}, headers=u.headers,
                                      timeout=sb.TIMEOUT))
    actions = [e["action"] for e in (audit["items"] if isinstance(audit, dict) else audit)]
    assert "integration.tested" in actions and "integration.connected" in actions, actions


def test_virtual_hosted_addressing(api, new_user, s3):
    u = new_user()
    port = s3.rsplit(":", 1)[1]
    sb.expect_ok(put(api, u, config(f"http://localhost:{port}", addressing="virtual")))
    before = len(fake_log(s3))
    sb.expect_ok(probe(api, u))
    calls = fake_log(s3)[before:]
    assert calls and all(c["host"] == f"{BUCKET}.localhost:{port}" and c["verified"] for c in calls), calls


def test_wrong_secret_is_a_clear_502(api, new_user, s3):
    u = new_user()
    sb.expect_ok(put(api, u, config(s3, secret_access_key="not-the-secret")))
    err = sb.expect_error(probe(api, u), 502)
    assert "write failed" in err["message"] and "SignatureDoesNotMatch" in err["message"], err
    assert "not-the-secret" not in json.dumps(err)
    v = sb.expect_ok(get(api, u))
    assert v["status"] == "error" and "SignatureDoesNotMatch" in v["last_error"], v


def test_unknown_key_id_and_missing_bucket(api, new_user, s3):
    u = new_user()
    sb.expect_ok(put(api, u, config(s3, access_key_id="AKIANOTKNOWN")))
    assert "InvalidAccessKeyId" in sb.expect_error(probe(api, u), 502)["message"]
    sb.expect_ok(put(api, u, config(s3, bucket="no-such-bucket")))
    assert "NoSuchBucket" in sb.expect_error(probe(api, u), 502)["message"]


def test_unreachable_endpoint(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config(f"http://127.0.0.1:{sb.free_port()}")))
    r = probe(api, u)
    assert r.status_code in (502, 504), r.text
    assert "write failed" in r.json()["error"]["message"], r.text


def test_health(api, new_user, s3):
    u = new_user()
    sb.expect_ok(put(api, u, config(s3)))
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=sb.TIMEOUT))
    assert h["status"] in ("connected", "active"), h
    sb.expect_ok(put(api, u, config(s3, secret_access_key="wrong")))
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=sb.TIMEOUT))
    assert h["status"] == "error", h


def test_other_user_sees_nothing(api, new_user, s3):
    owner, other = new_user(), new_user()
    sb.expect_ok(put(api, owner, config(s3)))
    sb.expect_error(get(api, other), 404)
    sb.expect_error(probe(api, other), 404)
    sb.expect_error(requests.delete(url(api), headers=other.headers, timeout=sb.TIMEOUT), 404)
    assert sb.expect_ok(get(api, owner))["bucket"] == BUCKET


def test_delete(api, new_user, s3):
    u = new_user()
    sb.expect_ok(put(api, u, config(s3)))
    sb.expect_ok(requests.delete(url(api), headers=u.headers, timeout=sb.TIMEOUT))
    sb.expect_error(get(api, u), 404)
    sb.expect_error(probe(api, u), 404)


@pytest.mark.parametrize("field,value", [
    ("endpoint", "ftp://example.org"),
    ("endpoint", "http://example.org/some/path"),
    ("region", "US East"),
    ("bucket", "Bad_Bucket"),
    ("bucket", "ab"),
    ("addressing", "dns"),
    ("prefix", "../escape/"),
    ("prefix", "with space/"),
    ("access_key_id", ""),
])
def test_validation(api, new_user, s3, field, value):
    u = new_user()
    body = config(s3)
    body[field] = value
    err = sb.expect_error(put(api, u, body), 422)
    assert field in err["fields"], err


def test_secret_required_on_first_save_and_unknown_members(api, new_user, s3):
    u = new_user()
    body = config(s3)
    del body["secret_access_key"]
    err = sb.expect_error(put(api, u, body), 422)
    assert "secret_access_key" in json.dumps(err), err
    err = sb.expect_error(put(api, u, config(s3, session_token="x")), 422)
    assert "session_token" in json.dumps(err), err
    sb.expect_ok(put(api, u, config(s3)))
    sb.expect_error(requests.post(url(api, "/test"), json={"bucket": "x"}, headers=u.headers,
                                  timeout=sb.TIMEOUT), 422)


def test_private_address_guard(api, new_user, s3, stack):
    u = new_user()
    sb.expect_ok(put(api, u, config(s3)))
    env_file = os.path.join(os.environ["SB_VAR"], "switchboard.env")
    try:
        set_env_value(env_file, "SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "0")
        stack("restart", "integrations")
        r = sb.retry_until(lambda: (lambda x: x if x.status_code == 502 else None)(probe(api, u)), timeout=10)
        assert r is not None, "the probe still reaches 127.0.0.1 after the guard was switched on"
        err = sb.expect_error(r, 502, "address_blocked")
        assert "private" in err["message"], err
    finally:
        set_env_value(env_file, "SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "1")
        stack("restart", "integrations")
    assert sb.retry_until(lambda: probe(api, u).status_code == 200, timeout=10)


def test_untrusted_certificate_is_refused(api, new_user):
    # The stack's own https port serves a self-signed certificate nobody trusts.
    port = os.environ.get("SB_HTTPS_PORT")
    if not port:
        pytest.skip("SB_HTTPS_PORT not set")
    u = new_user()
    sb.expect_ok(put(api, u, config(f"https://127.0.0.1:{port}")))
    err = sb.expect_error(probe(api, u), 502)
    assert "write failed" in err["message"] and ("certificate" in err["message"] or "SSL" in err["message"]), err
