"""Twilio SMS (Messages API) against a fake speaking its shapes (tests/e2e/fakes/twilio_fake.py,
Basic auth checked): config with a write-only sealed auth token, a test message (201)
the fake received, a wrong token, an invalid number and a From the account does not own
as clear 502s, field checks, health, isolation."""

import os

import pytest
import requests

import sb

SID, TOKEN, NUMBER = "AC" + "a" * 32, "twilio-e2e-token", "+15005550006"
FAKE = f"http://127.0.0.1:{os.environ.get('SB_FAKE_TWILIO_PORT', '0')}"


def url(api, suffix=""):
    return api + "/users/me/integrations/twilio" + suffix


def put(api, u, body):
    return requests.put(url(api), json=body, headers=u.headers, timeout=sb.TIMEOUT)


def send(api, u, to):
    return requests.post(url(api, "/test"), json={"to": to}, headers=u.headers, timeout=30)


def config(**over):
    body = {"account_sid": SID, "auth_token": TOKEN, "from_number": NUMBER}
    body.update(over)
    return body


def received(to):
    return [m for m in requests.get(FAKE + "/_fake/messages", timeout=sb.TIMEOUT).json() if m["to"] == to]


def test_save_and_token_is_write_only(api, new_user):
    u = new_user()
    resp = put(api, u, config())
    v = sb.expect_ok(resp)
    assert v["account_sid"] == SID and v["from_number"] == NUMBER and v["has_auth_token"] is True
    assert TOKEN not in resp.text
    assert sb.expect_ok(put(api, u, {"account_sid": SID, "from_number": NUMBER}))["has_auth_token"] is True
    stored = sb.psql(f"SELECT config::text FROM user_integrations WHERE user_id = '{sb.sql_uuid(u.id)}' "
                     "AND provider = 'twilio'")
    assert TOKEN not in stored and "auth_token_encrypted" in stored


@pytest.mark.parametrize("body,field", [
    ({"account_sid": SID, "from_number": NUMBER}, "auth_token"),
    ({"account_sid": "AC123", "auth_token": TOKEN, "from_number": NUMBER}, "account_sid"),
    ({"account_sid": "XX" + "a" * 32, "auth_token": TOKEN, "from_number": NUMBER}, "account_sid"),
    ({"account_sid": SID, "auth_token": TOKEN, "from_number": "5550006"}, "from_number"),
    ({"account_sid": SID, "auth_token": TOKEN}, "from_number"),
    ({"account_sid": SID, "auth_token": TOKEN, "from_number": NUMBER, "region": "ie1"}, "region"),
])
def test_invalid_config(api, new_user, body, field):
    err = sb.expect_error(put(api, new_user(), body), 422, "validation_failed")
    assert field in err["fields"], err


def test_test_message_arrives(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config()))
    to = "+1555" + str(int.from_bytes(os.urandom(3), "big")).zfill(7)[:7]
    d = sb.expect_ok(send(api, u, to))
    assert d["sent"] is True and d["sid"].startswith("SM") and d["status"] == "queued"
    got = received(to)
    assert len(got) == 1 and got[0]["from"] == NUMBER and "Switchboard test message" in got[0]["body"], got
    assert sb.expect_ok(requests.get(url(api), headers=u.headers, timeout=sb.TIMEOUT))["status"] == "connected"
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=30))
    assert h["healthy"] is True, h


@pytest.mark.parametrize("body", [None, {}, {"to": "12345"}, {"to": "+1555"}, {"to": "+15550100", "cc": "x"}])
def test_test_body_is_checked(api, new_user, body):
    u = new_user()
    sb.expect_ok(put(api, u, config()))
    kwargs = {"json": body} if body is not None else {}
    resp = requests.post(url(api, "/test"), headers=u.headers, timeout=30, **kwargs)
    assert resp.status_code in (400, 422), resp.text


def test_wrong_token_is_a_clear_502(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config(auth_token="wrong-token")))
    resp = send(api, u, "+15550100")
    err = sb.expect_error(resp, 502, "provider_unavailable")
    assert "401" in err["message"] and "20003" in err["message"], err
    assert "wrong-token" not in resp.text
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=30))
    assert h["healthy"] is False, h


@pytest.mark.parametrize("to,from_,code", [("+15005550001", NUMBER, "21211"), ("+15550100", "+15550199", "21606")])
def test_refusals_are_clear_502s(api, new_user, to, from_, code):
    u = new_user()
    sb.expect_ok(put(api, u, config(from_number=from_)))
    err = sb.expect_error(send(api, u, to), 502, "provider_unavailable")
    assert code in err["message"], err


def test_other_user_cannot_see_or_use_it(api, new_user):
    owner, other = new_user(), new_user()
    sb.expect_ok(put(api, owner, config()))
    sb.expect_error(requests.get(url(api), headers=other.headers, timeout=sb.TIMEOUT), 404, "not_found")
    sb.expect_error(send(api, other, "+15550100"), 404, "not_found")
