"""API key creation with expires_at or expires_in_days (issue 12), and the audit log
filtered by provider, action, from and to."""

import datetime
import uuid

import pytest
import requests

import sb


def create_key(api, user, **body):
    body.setdefault("name", "exp " + uuid.uuid4().hex[:6])
    return requests.post(api + "/api-keys", json=body, headers=user.headers, timeout=sb.TIMEOUT)


def parse(ts):
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module")
def owner(new_user):
    return new_user()


@pytest.mark.parametrize("days", [1, 30, 3650])
def test_expires_in_days(api, owner, days):
    k = sb.expect_ok(create_key(api, owner, expires_in_days=days), 201)
    left = parse(k["expires_at"]) - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(days=days, minutes=-10) < left <= datetime.timedelta(days=days, minutes=10), k
    assert k["expired"] is False
    resp = requests.get(api + "/users/me", headers={"X-API-Key": k["key"]}, timeout=sb.TIMEOUT)
    sb.expect_ok(resp)


def test_expires_at_still_works(api, owner):
    k = sb.expect_ok(create_key(api, owner, expires_at="2030-01-01T00:00:00+02:00"), 201)
    assert k["expires_at"] == "2029-12-31T22:00:00Z"


@pytest.mark.parametrize("body,fields", [
    ({"expires_at": "2030-01-01T00:00:00Z", "expires_in_days": 5}, {"expires_at", "expires_in_days"}),
    ({"expires_in_days": 0}, {"expires_in_days"}),
    ({"expires_in_days": 3651}, {"expires_in_days"}),
    ({"expires_in_days": "7"}, {"expires_in_days"}),
    ({"expires_in_days": 1.5}, {"expires_in_days"}),
    ({"expires_at": "2020-01-01T00:00:00Z"}, {"expires_at"}),
    ({"expires_at": "2999-01-01T00:00:00Z"}, {"expires_at"}),
    ({"expires_at": "2030-02-30T00:00:00Z"}, {"expires_at"}),
    ({"expires_at": "tomorrow"}, {"expires_at"}),
    ({"expires_in_day": 5}, {"expires_in_day"}),
])
def test_expiry_errors(api, owner, body, fields):
    err = sb.expect_error(create_key(api, owner, **body), 422, "validation_failed")
    assert set(err["fields"]) == fields, err


def audit(api, user, **query):
    return requests.get(api + "/users/me/audit-log", params=query, headers=user.headers, timeout=sb.TIMEOUT)


@pytest.fixture(scope="module")
def audited(api, new_user):
    """A user with its own events (user.registered, user.login, api_key.created) and two
    provider events placed in time."""
    u = new_user()
    sb.expect_ok(create_key(api, u), 201)
    uid = sb.sql_uuid(sb.expect_ok(requests.get(api + "/users/me", headers=u.headers, timeout=sb.TIMEOUT))["id"])
    sb.psql("INSERT INTO audit_events (user_id, action, provider, created_at) VALUES "
            f"('{uid}', 'integration.connected', 'github', '2025-03-01T10:00:00Z'), "
            f"('{uid}', 'integration.disconnected', 'github', '2025-03-02T10:00:00Z'), "
            f"('{uid}', 'integration.connected', 'mqtt', '2025-03-03T10:00:00Z')")
    return u


def test_audit_filters(api, audited):
    def items(**q):
        return sb.expect_ok(audit(api, audited, limit=100, **q))["items"]
    everything = items()
    assert len(everything) >= 5
    gh = items(provider="github")
    assert [(e["action"], e["provider"]) for e in gh] == [("integration.disconnected", "github"),
                                                           ("integration.connected", "github")]
    assert [e["provider"] for e in items(action="integration.connected")] == ["mqtt", "github"]
    assert [e["action"] for e in items(action="api_key.created")] == ["api_key.created"]
    assert items(provider="github", action="integration.connected")[0]["created_at"] == "2025-03-01T10:00:00Z"
    window = items(**{"from": "2025-03-02T00:00:00Z", "to": "2025-03-03T10:00:00Z"})
    assert [e["provider"] for e in window] == ["mqtt", "github"]
    assert len(items(to="2025-12-31T23:59:59+01:00")) == 3
    assert len(items(**{"from": "2025-12-31T23:59:59-01:00"})) == len(everything) - 3
    assert items(provider="nope") == []
    d = sb.expect_ok(audit(api, audited, provider="github", limit=1, page=2))
    assert d["total"] == 2 and d["items"][0]["action"] == "integration.connected"


@pytest.mark.parametrize("query,fields", [
    ({"from": "2025-03-01"}, {"from"}),
    ({"to": "2025-13-01T00:00:00Z"}, {"to"}),
    ({"from": "now", "to": "later"}, {"from", "to"}),
    ({"provider": ""}, {"provider"}),
    ({"action": "x" * 101}, {"action"}),
    ({"provider": "a\tb", "from": "x"}, {"provider", "from"}),
])
def test_audit_filter_errors(api, audited, query, fields):
    err = sb.expect_error(audit(api, audited, **query), 422, "validation_failed")
    assert set(err["fields"]) == fields, err
