"""Amazon SES (API v2 SendEmail, SigV4) against a fake that verifies the signature the way
AWS does and speaks SES v2's shapes (tests/e2e/fakes/aws_fake.js): config with a write-only
sealed secret, a test send the fake received, a wrong secret and an unverified sender as
clear 502s with AWS's error code, an unreachable endpoint, health, isolation."""

import os
import socket

import pytest
import requests

import sb

KEY_ID = "AKIASBTESTAWS0000001"
SECRET = "sb-test-aws-secret/00000000000000000000000"
FAKE = f"http://127.0.0.1:{os.environ.get('SB_FAKE_AWS_PORT', '0')}"


def url(api, suffix=""):
    return api + "/users/me/integrations/ses" + suffix


def put(api, u, body):
    return requests.put(url(api), json=body, headers=u.headers, timeout=sb.TIMEOUT)


def received(to):
    return [m for m in requests.get(FAKE + "/_fake/emails", timeout=sb.TIMEOUT).json() if to in m["to"]]


def config(**over):
    body = {"region": "eu-west-1", "access_key_id": KEY_ID, "secret_access_key": SECRET,
            "from_address": "switchboard@example.org", "endpoint": FAKE}
    body.update(over)
    return body


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_save_and_secret_is_write_only(api, new_user):
    u = new_user()
    resp = put(api, u, config())
    v = sb.expect_ok(resp)
    assert v["has_secret_access_key"] is True and v["from_address"] == "switchboard@example.org"
    assert v["region"] == "eu-west-1" and v["access_key_id"] == KEY_ID and v["endpoint"] == FAKE
    assert SECRET not in resp.text
    again = put(api, u, {k: val for k, val in config().items() if k != "secret_access_key"})
    assert sb.expect_ok(again)["has_secret_access_key"] is True, "a PUT without the secret keeps the stored one"
    got = requests.get(url(api), headers=u.headers, timeout=sb.TIMEOUT)
    assert SECRET not in got.text and sb.expect_ok(got)["has_secret_access_key"] is True
    stored = sb.psql(f"SELECT config::text FROM user_integrations WHERE user_id = '{sb.sql_uuid(u.id)}' "
                     "AND provider = 'ses'")
    assert SECRET not in stored and "secret_access_key_encrypted" in stored


@pytest.mark.parametrize("drop,over,field", [
    ("secret_access_key", {}, "secret_access_key"),
    ("region", {}, "region"),
    ("from_address", {}, "from_address"),
    ("access_key_id", {}, "access_key_id"),
    (None, {"from_address": "nope"}, "from_address"),
    (None, {"region": "EU West"}, "region"),
    (None, {"endpoint": "ftp://example.org"}, "endpoint"),
    (None, {"endpoint": "http://127.0.0.1:1/path"}, "endpoint"),
    (None, {"secret_access_key": "a\nb"}, "secret_access_key"),
    (None, {"bucket": "x"}, "bucket"),
])
def test_invalid_config(api, new_user, drop, over, field):
    body = config(**over)
    body.pop(drop, None)
    err = sb.expect_error(put(api, new_user(), body), 422, "validation_failed")
    assert field in err["fields"], err


def test_test_send_arrives(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config()))
    resp = requests.post(url(api, "/test"), headers=u.headers, timeout=30)
    assert sb.expect_ok(resp)["to"] == u.email
    got = received(u.email)
    assert len(got) == 1 and got[0]["to"] == [u.email] and got[0]["subject"] == "Switchboard test email", got
    assert got[0]["from"] == "switchboard@example.org" and "Amazon SES" in got[0]["text"]
    view = sb.expect_ok(requests.get(url(api), headers=u.headers, timeout=sb.TIMEOUT))
    assert view["status"] == "connected"
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=30))
    assert h["healthy"] is True, h


def test_test_send_to_given_address(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config()))
    to = f"other-{u.id}@example.net"
    assert sb.expect_ok(requests.post(url(api, "/test"), json={"to": to}, headers=u.headers, timeout=30))["to"] == to
    assert len(received(to)) == 1
    err = sb.expect_error(requests.post(url(api, "/test"), json={"to": "x"}, headers=u.headers, timeout=30),
                          422, "validation_failed")
    assert "to" in err["fields"]


def test_wrong_secret_is_a_clear_502(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config(secret_access_key="not-the-secret")))
    resp = requests.post(url(api, "/test"), headers=u.headers, timeout=30)
    err = sb.expect_error(resp, 502, "provider_unavailable")
    assert "403" in err["message"] and "SignatureDoesNotMatch" in err["message"], err
    assert "not-the-secret" not in resp.text
    assert received(u.email) == []
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=30))
    assert h["healthy"] is False, h


def test_unknown_key_id_is_a_clear_502(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config(access_key_id="AKIAUNKNOWN000000000")))
    err = sb.expect_error(requests.post(url(api, "/test"), headers=u.headers, timeout=30), 502,
                          "provider_unavailable")
    assert "UnrecognizedClientException" in err["message"], err


def test_unverified_sender_is_a_clear_502(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config(from_address="someone@elsewhere.org")))
    err = sb.expect_error(requests.post(url(api, "/test"), headers=u.headers, timeout=30), 502,
                          "provider_unavailable")
    assert "MessageRejected" in err["message"] and "not verified" in err["message"], err
    assert received(u.email) == []


def test_unreachable_endpoint(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config(endpoint=f"http://127.0.0.1:{closed_port()}")))
    resp = requests.post(url(api, "/test"), headers=u.headers, timeout=60)
    assert resp.status_code in (502, 504), resp.text
    assert resp.json()["error"]["message"].startswith("SES:"), resp.text


def test_other_user_cannot_see_or_use_it(api, new_user):
    owner, other = new_user(), new_user()
    sb.expect_ok(put(api, owner, config()))
    sb.expect_error(requests.get(url(api), headers=other.headers, timeout=sb.TIMEOUT), 404, "not_found")
    sb.expect_error(requests.post(url(api, "/test"), headers=other.headers, timeout=30), 404, "not_found")
    sb.expect_error(requests.delete(url(api), headers=other.headers, timeout=sb.TIMEOUT), 404, "not_found")
    assert received(other.email) == []
    assert sb.expect_ok(requests.get(url(api), headers=owner.headers, timeout=sb.TIMEOUT))["has_secret_access_key"]
