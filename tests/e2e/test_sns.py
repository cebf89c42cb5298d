"""AWS SNS SMS (Query API Publish, SigV4) against a fake that verifies the signature the way
AWS does and answers SNS's XML (tests/e2e/fakes/aws_fake.js): config with a write-only
sealed secret, a test message the fake received, a wrong secret and a bad number as clear
502s with AWS's error code, an unreachable endpoint, health, isolation."""

import os
import socket

import pytest
import requests

import sb

KEY_ID = "AKIASBTESTAWS0000001"
SECRET = "sb-test-aws-secret/00000000000000000000000"
FAKE = f"http://127.0.0.1:{os.environ.get('SB_FAKE_AWS_PORT', '0')}"


def url(api, suffix=""):
    return api + "/users/me/integrations/sns" + suffix


def put(api, u, body):
    return requests.put(url(api), json=body, headers=u.headers, timeout=sb.TIMEOUT)


def send_test(api, u, to):
    return requests.post(url(api, "/test"), json={"to": to}, headers=u.headers, timeout=30)


def received(to):
    return [m for m in requests.get(FAKE + "/_fake/sms", timeout=sb.TIMEOUT).json() if m["to"] == to]


def config(**over):
    body = {"region": "eu-west-1", "access_key_id": KEY_ID, "secret_access_key": SECRET, "endpoint": FAKE}
    body.update(over)
    return body


def number(u):
    return "+4915" + str(abs(hash(u.id)) % 10**9).zfill(9)


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
    assert v["has_secret_access_key"] is True and v["region"] == "eu-west-1" and v["access_key_id"] == KEY_ID
    assert SECRET not in resp.text
    again = put(api, u, {k: val for k, val in config().items() if k != "secret_access_key"})
    assert sb.expect_ok(again)["has_secret_access_key"] is True
    got = requests.get(url(api), headers=u.headers, timeout=sb.TIMEOUT)
    assert SECRET not in got.text
    stored = sb.psql(f"SELECT config::text FROM user_integrations WHERE user_id = '{sb.sql_uuid(u.id)}' "
                     "AND provider = 'sns'")
    assert SECRET not in stored and "secret_access_key_encrypted" in stored


@pytest.mark.parametrize("drop,over,field", [
    ("secret_access_key", {}, "secret_access_key"),
    ("region", {}, "region"),
    ("access_key_id", {}, "access_key_id"),
    (None, {"region": "EU West"}, "region"),
    (None, {"endpoint": "ftp://example.org"}, "endpoint"),
    (None, {"from_number": "+15005550006"}, "from_number"),
])
def test_invalid_config(api, new_user, drop, over, field):
    body = config(**over)
    body.pop(drop, None)
    err = sb.expect_error(put(api, new_user(), body), 422, "validation_failed")
    assert field in err["fields"], err


def test_test_message_arrives(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config()))
    to = number(u)
    d = sb.expect_ok(send_test(api, u, to))
    assert d["to"] == to and d["message_id"], d
    got = received(to)
    assert len(got) == 1 and "Switchboard test message" in got[0]["message"], got
    assert got[0]["id"] == d["message_id"]
    assert sb.expect_ok(requests.get(url(api), headers=u.headers, timeout=sb.TIMEOUT))["status"] == "connected"
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=30))
    assert h["healthy"] is True, h


def test_to_is_required_and_checked(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config()))
    for body in ({}, {"to": "12345"}):
        err = sb.expect_error(requests.post(url(api, "/test"), json=body, headers=u.headers, timeout=30), 422,
                              "validation_failed")
        assert "to" in err["fields"], err


def test_wrong_secret_is_a_clear_502(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config(secret_access_key="not-the-secret")))
    resp = send_test(api, u, number(u))
    err = sb.expect_error(resp, 502, "provider_unavailable")
    assert "403" in err["message"] and "SignatureDoesNotMatch" in err["message"], err
    assert "not-the-secret" not in resp.text and received(number(u)) == []
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=30))
    assert h["healthy"] is False, h


def test_unknown_key_and_bad_number(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config(access_key_id="AKIAUNKNOWN000000000")))
    err = sb.expect_error(send_test(api, u, number(u)), 502, "provider_unavailable")
    assert "InvalidClientTokenId" in err["message"], err
    sb.expect_ok(put(api, u, config()))
    err = sb.expect_error(send_test(api, u, "+15550000000"), 502, "provider_unavailable")
    assert "InvalidParameter" in err["message"] and "not valid to publish" in err["message"], err


def test_unreachable_endpoint(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config(endpoint=f"http://127.0.0.1:{closed_port()}")))
    resp = send_test(api, u, number(u))
    assert resp.status_code in (502, 504), resp.text
    assert resp.json()["error"]["message"].startswith("SNS:"), resp.text


def test_other_user_cannot_see_or_use_it(api, new_user):
    owner, other = new_user(), new_user()
    sb.expect_ok(put(api, owner, config()))
    sb.expect_error(requests.get(url(api), headers=other.headers, timeout=sb.TIMEOUT), 404, "not_found")
    sb.expect_error(send_test(api, other, number(other)), 404, "not_found")
    sb.expect_error(requests.delete(url(api), headers=other.headers, timeout=sb.TIMEOUT), 404, "not_found")
    assert received(number(other)) == []
