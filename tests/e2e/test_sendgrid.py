"""SendGrid (v3 Mail Send) against a fake speaking its shapes (tests/e2e/fakes/sendgrid_fake.py,
Bearer keys checked): config with a write-only sealed API key, a test send (202) that the
fake received, a revoked key and an unverified sender as clear 502s, health, isolation."""

import os

import pytest
import requests

import sb

KEY = "SG.e2e-valid-key.secret-part"
FAKE = f"http://127.0.0.1:{os.environ.get('SB_FAKE_SENDGRID_PORT', '0')}"


def url(api, suffix=""):
    return api + "/users/me/integrations/sendgrid" + suffix


def put(api, u, body):
    return requests.put(url(api), json=body, headers=u.headers, timeout=sb.TIMEOUT)


def received(to):
    return [m for m in requests.get(FAKE + "/_fake/messages", timeout=sb.TIMEOUT).json() if m["to"] == to]


def config(**over):
    body = {"api_key": KEY, "from_address": "switchboard@example.org"}
    body.update(over)
    return body


def test_save_and_key_is_write_only(api, new_user):
    u = new_user()
    resp = put(api, u, config())
    v = sb.expect_ok(resp)
    assert v["has_api_key"] is True and v["from_address"] == "switchboard@example.org"
    assert KEY not in resp.text
    again = put(api, u, {"from_address": "switchboard@example.org"})
    assert sb.expect_ok(again)["has_api_key"] is True, "a PUT without api_key keeps the stored one"
    got = requests.get(url(api), headers=u.headers, timeout=sb.TIMEOUT)
    assert KEY not in got.text
    stored = sb.psql(f"SELECT config::text FROM user_integrations WHERE user_id = '{sb.sql_uuid(u.id)}' "
                     "AND provider = 'sendgrid'")
    assert KEY not in stored and "api_key_encrypted" in stored


@pytest.mark.parametrize("body,field", [
    ({"from_address": "switchboard@example.org"}, "api_key"),
    ({"api_key": KEY}, "from_address"),
    ({"api_key": KEY, "from_address": "nope"}, "from_address"),
    ({"api_key": "a\nb", "from_address": "switchboard@example.org"}, "api_key"),
    ({"api_key": KEY, "from_address": "switchboard@example.org", "region": "eu"}, "region"),
])
def test_invalid_config(api, new_user, body, field):
    err = sb.expect_error(put(api, new_user(), body), 422, "validation_failed")
    assert field in err["fields"], err


def test_test_send_arrives(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config()))
    resp = requests.post(url(api, "/test"), headers=u.headers, timeout=30)
    assert sb.expect_ok(resp)["to"] == u.email
    got = received(u.email)
    assert len(got) == 1 and got[0]["subject"] == "Switchboard test email", got
    assert got[0]["from"] == "switchboard@example.org" and "SendGrid" in got[0]["text"]
    view = sb.expect_ok(requests.get(url(api), headers=u.headers, timeout=sb.TIMEOUT))
    assert view["status"] == "connected"
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=30))
    assert h["healthy"] is True, h


def test_revoked_key_is_a_clear_502(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config(api_key="SG.revoked.key")))
    resp = requests.post(url(api, "/test"), headers=u.headers, timeout=30)
    err = sb.expect_error(resp, 502, "provider_unavailable")
    assert "401" in err["message"] and "invalid, expired, or revoked" in err["message"], err
    assert "SG.revoked.key" not in resp.text
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=30))
    assert h["healthy"] is False, h


def test_unverified_sender_is_a_clear_502(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config(from_address="someone@elsewhere.org")))
    err = sb.expect_error(requests.post(url(api, "/test"), headers=u.headers, timeout=30), 502,
                          "provider_unavailable")
    assert "verified Sender Identity" in err["message"], err
    assert received(u.email) == []


def test_other_user_cannot_see_or_use_it(api, new_user):
    owner, other = new_user(), new_user()
    sb.expect_ok(put(api, owner, config()))
    sb.expect_error(requests.get(url(api), headers=other.headers, timeout=sb.TIMEOUT), 404, "not_found")
    sb.expect_error(requests.post(url(api, "/test"), headers=other.headers, timeout=30), 404, "not_found")
    assert received(other.email) == []
