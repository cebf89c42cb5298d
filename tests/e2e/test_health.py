"""Integration health: GET /users/me/integrations/health (the recorded state of all of
the caller's integrations and their last checks, contacting nothing) and
GET /users/me/integrations/{provider}/health (a check now: a real MQTT connection to
the saved broker, or the OAuth token, refreshed when due, and a profile call), each
check recorded with a history row and integration.health_changed published when the
health word changes; and the worker's periodic checks of integrations left unchecked."""

import json
import os
import subprocess
import uuid

import pytest
import requests

import oauthflow as of
import sb

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WORDS = {"active", "inactive", "error", "pending", "expired"}
LIST_KEYS = {"provider", "status", "healthy", "enabled", "last_error", "last_checked_at", "history"}
CHECK_KEYS = {"provider", "status", "healthy", "error", "latency_ms", "checked_at", "history"}
HISTORY_KEYS = {"status", "error", "latency_ms", "checked_at"}


# --- helpers ------------------------------------------------------------------------------------


def H(user):
    return {**user.headers, "User-Agent": sb.USER_AGENT}


def health_list(api, user, headers=None):
    return requests.get(api + "/users/me/integrations/health", headers=H(user) if headers is None else headers,
                        timeout=sb.TIMEOUT)


def health(api, user, provider, headers=None):
    # An MQTT check may wait for the broker (5 s per step in the test stack): roomy timeout.
    return requests.get(f"{api}/users/me/integrations/{provider}/health",
                        headers=H(user) if headers is None else headers, timeout=60)


def put_mqtt(api, user, body):
    return sb.expect_ok(requests.put(api + "/users/me/integrations/mqtt", json=body, headers=H(user),
                                     timeout=sb.TIMEOUT))


def mqtt_config(url, **overrides):
    body = {"broker_url": url, "device_id": "health-device", "topic_prefix": "lab/health"}
    body.update(overrides)
    return body


def good_mqtt(broker, **overrides):
    """The stack's anonymous listener."""
    return mqtt_config(f"mqtt://127.0.0.1:{broker.port}", **overrides)


def closed_mqtt(**overrides):
    """A port nothing listens on: the connection is refused."""
    return mqtt_config(f"mqtt://127.0.0.1:{sb.free_port()}", **overrides)


def check_ok(api, user, provider):
    """A check of provider now: asserts the 200 shape and returns its data."""
    d = sb.expect_ok(health(api, user, provider))
    assert_check_shape(d, provider)
    return d


def assert_history_shape(history):
    assert isinstance(history, list) and len(history) <= 10, history
    for h in history:
        assert set(h) == HISTORY_KEYS, h
        assert h["status"] in WORDS, h
        assert h["error"] is None or (isinstance(h["error"], str) and h["error"]), h
        assert h["latency_ms"] is None or (isinstance(h["latency_ms"], (int, float)) and h["latency_ms"] >= 0), h
        assert sb.RFC3339_UTC_RE.match(h["checked_at"]), h
    stamps = [h["checked_at"] for h in history]
    assert stamps == sorted(stamps, reverse=True), f"history is not newest first: {stamps}"


def assert_check_shape(d, provider):
    assert set(d) == CHECK_KEYS, d
    assert d["provider"] == provider, d
    assert d["status"] in WORDS, d
    assert d["healthy"] is (d["status"] == "active"), d
    assert d["error"] is None or (isinstance(d["error"], str) and d["error"]), d
    assert d["latency_ms"] is None or (isinstance(d["latency_ms"], (int, float)) and d["latency_ms"] >= 0), d
    assert sb.RFC3339_UTC_RE.match(d["checked_at"]), d
    assert_history_shape(d["history"])


def listed(api, user):
    """GET .../integrations/health, shape-checked, as {provider: entry}."""
    items = sb.expect_ok(health_list(api, user))
    assert isinstance(items, list), items
    providers = [i["provider"] for i in items]
    assert providers == sorted(providers) and len(set(providers)) == len(providers), providers
    for i in items:
        assert set(i) == LIST_KEYS, i
        assert i["status"] in WORDS, i
        assert i["healthy"] is (i["status"] == "active"), i
        assert isinstance(i["enabled"], bool), i
        assert i["last_error"] is None or isinstance(i["last_error"], str), i
        assert i["last_checked_at"] is None or sb.RFC3339_UTC_RE.match(i["last_checked_at"]), i
        assert_history_shape(i["history"])
    return {i["provider"]: i for i in items}


def db_row(user, provider):
    out = sb.psql("SELECT row_to_json(ui)::text FROM user_integrations ui "
                  f"WHERE user_id = '{sb.sql_uuid(user.id)}' AND provider = '{provider}'")
    assert out, f"no {provider} row for {user.id}"
    return json.loads(out)


def history_count(user, provider=None):
    extra = f" AND provider = '{provider}'" if provider else ""
    return int(sb.psql(f"SELECT count(*) FROM integration_health_checks WHERE user_id = '{sb.sql_uuid(user.id)}'"
                       + extra))


def health_events(user):
    """data of the user's integration.health_changed events, oldest first."""
    out = sb.psql("SELECT coalesce(json_agg(data ORDER BY created_at, id), '[]')::text FROM events "
                  f"WHERE user_id = '{sb.sql_uuid(user.id)}' AND type = 'integration.health_changed'")
    return json.loads(out)


def connect_github(api, user, login=None, **knobs):
    login = login or of.new_login()
    if knobs:
        of.set_user("github", login, **knobs)
    r = of.connect(api, user, "github", fake_user=login)
    assert r.status_code == 302, r.text
    return login


def restart_worker(**env):
    proc = subprocess.run([os.path.join(ROOT, "scripts", "stack"), "restart", "worker"],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"scripts/stack restart worker: {proc.stdout}\n{proc.stderr}"


# --- MQTT ---------------------------------------------------------------------------------------


def test_mqtt_on_the_anonymous_listener_is_active_and_history_grows(api, new_user, broker):
    u = new_user()
    put_mqtt(api, u, good_mqtt(broker))

    d = check_ok(api, u, "mqtt")
    assert (d["status"], d["healthy"], d["error"]) == ("active", True, None), d
    assert d["latency_ms"] is not None, d
    assert len(d["history"]) == 1, d
    h = d["history"][0]
    assert (h["status"], h["error"]) == ("active", None), h
    assert h["latency_ms"] is not None and h["checked_at"] == d["checked_at"], (h, d)

    # Recorded on the row: the stored status, no error, when it was checked and last used.
    row = db_row(u, "mqtt")
    assert row["status"] in ("connected", "active") and row["last_error"] is None, row
    assert row["last_checked_at"] is not None and row["last_used_at"] is not None, row

    # Each check adds a row, newest first.
    d2 = check_ok(api, u, "mqtt")
    assert d2["status"] == "active" and len(d2["history"]) == 2, d2
    d3 = check_ok(api, u, "mqtt")
    assert d3["status"] == "active" and len(d3["history"]) == 3, d3
    assert d3["history"][0]["checked_at"] == d3["checked_at"], d3
    assert d3["history"][1:] == d2["history"], (d3, d2)
    assert history_count(u, "mqtt") == 3

    # The list shows the same, without contacting anyone.
    entry = listed(api, u)["mqtt"]
    assert (entry["status"], entry["healthy"], entry["enabled"], entry["last_error"]) == (
        "active", True, True, None), entry
    assert entry["last_checked_at"] == d3["checked_at"], (entry, d3)
    assert entry["history"] == d3["history"], entry
    assert history_count(u, "mqtt") == 3


def test_history_keeps_the_last_ten_checks(api, new_user, broker):
    u = new_user()
    put_mqtt(api, u, closed_mqtt())  # a refused connection answers at once
    for _ in range(11):
        d = check_ok(api, u, "mqtt")
    assert d["status"] == "error" and len(d["history"]) == 10, d
    assert history_count(u, "mqtt") == 11
    assert len(listed(api, u)["mqtt"]["history"]) == 10


def test_mqtt_closed_port_is_error_then_active_after_a_good_config(api, new_user, broker):
    u = new_user()
    put_mqtt(api, u, closed_mqtt())

    # A failing broker is a result (200), not an HTTP error.
    d = check_ok(api, u, "mqtt")
    assert (d["status"], d["healthy"]) == ("error", False), d
    assert isinstance(d["error"], str) and d["error"].strip(), d
    assert len(d["history"]) == 1 and d["history"][0]["status"] == "error", d
    assert d["history"][0]["error"] == d["error"], d
    row = db_row(u, "mqtt")
    assert row["status"] == "error" and row["last_error"] == d["error"], row
    assert row["last_checked_at"] is not None, row
    entry = listed(api, u)["mqtt"]
    assert (entry["status"], entry["healthy"], entry["last_error"]) == ("error", False, d["error"]), entry

    # A good config saved: pending until checked, then active, the error gone.
    put_mqtt(api, u, good_mqtt(broker))
    entry = listed(api, u)["mqtt"]
    assert (entry["status"], entry["healthy"], entry["last_error"]) == ("pending", False, None), entry
    assert len(entry["history"]) == 1, entry  # the save adds no check
    d = check_ok(api, u, "mqtt")
    assert (d["status"], d["healthy"], d["error"]) == ("active", True, None), d
    assert [h["status"] for h in d["history"]] == ["active", "error"], d
    row = db_row(u, "mqtt")
    assert row["status"] in ("connected", "active") and row["last_error"] is None, row
    entry = listed(api, u)["mqtt"]
    assert (entry["status"], entry["healthy"], entry["last_error"]) == ("active", True, None), entry


def test_disabled_integration_is_inactive_and_nothing_is_recorded(api, new_user, broker):
    u = new_user()
    put_mqtt(api, u, good_mqtt(broker, enabled=False))
    before = db_row(u, "mqtt")

    d = check_ok(api, u, "mqtt")
    assert (d["status"], d["healthy"], d["error"], d["latency_ms"]) == ("inactive", False, None, None), d
    assert d["history"] == [], d
    d = check_ok(api, u, "mqtt")
    assert d["status"] == "inactive" and d["history"] == [], d

    after = db_row(u, "mqtt")
    for k in ("status", "last_error", "last_checked_at", "last_used_at", "updated_at"):
        assert after[k] == before[k], (k, before, after)
    assert history_count(u) == 0
    assert health_events(u) == []
    entry = listed(api, u)["mqtt"]
    assert (entry["status"], entry["healthy"], entry["enabled"], entry["last_checked_at"]) == (
        "inactive", False, False, None), entry
    assert entry["history"] == [], entry

    # Enabled again: checked and recorded.
    put_mqtt(api, u, good_mqtt(broker))
    d = check_ok(api, u, "mqtt")
    assert d["status"] == "active" and len(d["history"]) == 1, d


def test_unreadable_stored_secret_is_500(api, new_user, broker):
    u = new_user()
    put_mqtt(api, u, {
        "broker_url": f"mqtt://127.0.0.1:{broker.auth_port}", "use_authentication": True, "username": broker.user,
        "password": broker.password, "device_id": "health-device", "topic_prefix": "lab/health",
    })
    assert check_ok(api, u, "mqtt")["status"] == "active"
    # The sealed password moved to another user's row: its associated data no longer matches.
    uid = sb.sql_uuid(u.id)
    other = new_user()
    put_mqtt(api, other, {
        "broker_url": f"mqtt://127.0.0.1:{broker.auth_port}", "use_authentication": True, "username": broker.user,
        "password": "something-else", "device_id": "health-device", "topic_prefix": "lab/health",
    })
    sb.psql("UPDATE user_integrations SET config = jsonb_set(config, '{password_encrypted}', "
            f"(SELECT config->'password_encrypted' FROM user_integrations WHERE user_id = '{sb.sql_uuid(other.id)}' "
            f"AND provider = 'mqtt')) WHERE user_id = '{uid}' AND provider = 'mqtt'")
    try:
        n = history_count(u)
        sb.expect_error(health(api, u, "mqtt"), 500, "secret_unavailable")
        assert history_count(u) == n
        assert listed(api, u)["mqtt"]["status"] == "active"
    finally:
        # A secret no key opens would fail later key rotations (scripts/rotate-key): remove it.
        sb.expect_ok(requests.delete(api + "/users/me/integrations/mqtt", headers=H(u), timeout=sb.TIMEOUT))


# --- the list ------------------------------------------------------------------------------------


def test_list_computes_status_without_contacting_anyone(api, new_user, broker):
    u = new_user()
    assert listed(api, u) == {}

    login = connect_github(api, u)
    put_mqtt(api, u, good_mqtt(broker))
    profiles = of.counter("github", "profile", login)

    by = listed(api, u)
    assert set(by) == {"github", "mqtt"}, by
    # Right after a save: pending, never checked, no history.
    assert (by["mqtt"]["status"], by["mqtt"]["healthy"], by["mqtt"]["enabled"]) == ("pending", False, True), by
    assert (by["mqtt"]["last_error"], by["mqtt"]["last_checked_at"], by["mqtt"]["history"]) == (None, None, []), by
    # Connected through OAuth: active from the connect, not checked yet.
    assert (by["github"]["status"], by["github"]["healthy"], by["github"]["enabled"]) == ("active", True, True), by
    assert by["github"]["history"] == [], by
    # Nothing was contacted: no check recorded, no profile call at the provider.
    assert history_count(u) == 0
    assert of.counter("github", "profile", login) == profiles
    assert db_row(u, "mqtt")["last_checked_at"] is None

    gh = check_ok(api, u, "github")
    mq = check_ok(api, u, "mqtt")
    by = listed(api, u)
    assert by["github"]["history"] == gh["history"] and len(gh["history"]) == 1, (by, gh)
    assert by["mqtt"]["history"] == mq["history"] and len(mq["history"]) == 1, (by, mq)
    assert by["github"]["last_checked_at"] == gh["checked_at"], (by, gh)
    assert by["mqtt"]["last_checked_at"] == mq["checked_at"], (by, mq)
    # Each integration has only its own checks.
    assert history_count(u, "github") == 1 and history_count(u, "mqtt") == 1


# --- OAuth providers -----------------------------------------------------------------------------


def test_github_connected_through_the_fake_is_active(api, new_user):
    u = new_user()
    login = connect_github(api, u)
    profiles = of.counter("github", "profile", login)

    d = check_ok(api, u, "github")
    assert (d["status"], d["healthy"], d["error"]) == ("active", True, None), d
    assert d["latency_ms"] is not None, d
    assert [(h["status"], h["error"]) for h in d["history"]] == [("active", None)], d
    # The provider's profile endpoint was called with the stored token; no refresh was due.
    assert of.counter("github", "profile", login) == profiles + 1
    assert of.counter("github", "refreshes", login) == 0
    row = db_row(u, "github")
    assert row["status"] == "active" and row["last_error"] is None and row["last_checked_at"] is not None, row


def test_github_token_due_is_refreshed_by_the_check(api, new_user):
    u = new_user()
    login = connect_github(api, u)
    uid = sb.sql_uuid(u.id)
    sb.psql(f"UPDATE user_integrations SET token_expires_at = now() + interval '1 minute' "
            f"WHERE user_id = '{uid}' AND provider = 'github'")
    d = check_ok(api, u, "github")
    assert (d["status"], d["healthy"]) == ("active", True), d
    assert of.counter("github", "refreshes", login) == 1
    assert sb.psql(f"SELECT token_expires_at > now() + interval '10 minutes' FROM user_integrations "
                   f"WHERE user_id = '{uid}' AND provider = 'github'") == "t"


def test_github_with_refresh_refused_is_expired(api, new_user):
    u = new_user()
    login = connect_github(api, u)
    of.set_user("github", login, refresh_mode="refuse")
    uid = sb.sql_uuid(u.id)
    sb.psql(f"UPDATE user_integrations SET token_expires_at = now() + interval '1 minute' "
            f"WHERE user_id = '{uid}' AND provider = 'github'")

    d = check_ok(api, u, "github")
    assert (d["status"], d["healthy"]) == ("expired", False), d
    # GitHub answers a refused refresh with its own error word (bad_verification_code).
    assert isinstance(d["error"], str) and "refused" in d["error"] and "revoked" in d["error"], d
    assert of.counter("github", "refreshes", login) == 1
    assert [h["status"] for h in d["history"]] == ["expired"], d
    assert d["history"][0]["error"] == d["error"], d
    row = db_row(u, "github")
    assert row["status"] == "expired" and row["last_error"] == d["error"], row
    entry = listed(api, u)["github"]
    assert (entry["status"], entry["healthy"]) == ("expired", False), entry
    assert entry["last_error"] == d["error"], entry

    # One change of health, one event: active -> expired, with the user and previous status.
    events = health_events(u)
    assert len(events) == 1, f"one integration.health_changed expected for active -> expired, got {events}"
    want = {"provider": "github", "user_id": u.id, "status": "expired", "previous_status": "active"}
    assert {k: events[0].get(k) for k in want} == want, events

    # Still expired at the next check; no new event for the same word.
    d = check_ok(api, u, "github")
    assert d["status"] == "expired" and [h["status"] for h in d["history"]] == ["expired", "expired"], d
    events = health_events(u)
    assert len(events) == 1, f"expired -> expired published integration.health_changed again: {events}"


def test_github_profile_refused_is_error(api, new_user):
    u = new_user()
    login = connect_github(api, u)
    # The provider forgets the access token (revoked there): the profile call is refused.
    r = requests.post(of.fake_url("github") + f"/_fake/revoke-access/{login}", json={}, timeout=sb.TIMEOUT)
    assert r.status_code == 200, r.text
    d = check_ok(api, u, "github")
    assert (d["status"], d["healthy"]) == ("error", False), d
    assert isinstance(d["error"], str) and d["error"], d
    row = db_row(u, "github")
    assert row["status"] == "error" and row["last_error"] == d["error"], row


# --- errors and isolation -----------------------------------------------------------------------


def test_unknown_provider_and_nothing_saved_are_404(api, new_user):
    u = new_user()
    for provider in ("nope", "mqtt", "github", "google"):
        sb.expect_error(health(api, u, provider), 404, "not_found")
    assert sb.expect_ok(health_list(api, u)) == []
    assert history_count(u) == 0


def test_without_a_token_is_401(api, new_user):
    u = new_user()
    for resp in (health_list(api, u, headers={"User-Agent": sb.USER_AGENT}),
                 health(api, u, "mqtt", headers={"User-Agent": sb.USER_AGENT}),
                 health(api, u, "mqtt", headers={"Authorization": "Bearer not-a-token",
                                                 "User-Agent": sb.USER_AGENT})):
        sb.expect_error(resp, 401)


def test_api_key_needs_integrations_read(api, new_user, broker):
    u = new_user()
    put_mqtt(api, u, good_mqtt(broker))

    def key(scopes):
        k = sb.expect_ok(requests.post(api + "/api-keys", json={"name": "k " + uuid.uuid4().hex[:6],
                                                                 "scopes": scopes},
                                       headers=H(u), timeout=sb.TIMEOUT), 201)
        return {"X-API-Key": k["key"], "User-Agent": sb.USER_AGENT}

    reader = key(["integrations:read"])
    assert "mqtt" in {i["provider"] for i in sb.expect_ok(health_list(api, u, headers=reader))}
    assert sb.expect_ok(health(api, u, "mqtt", headers=reader))["status"] == "active"
    other = key(["webhooks:read"])
    sb.expect_error(health_list(api, u, headers=other), 403, "insufficient_scope")
    sb.expect_error(health(api, u, "mqtt", headers=other), 403, "insufficient_scope")


def test_another_users_integrations_never_appear(api, new_user, broker):
    a, b = new_user(), new_user()
    put_mqtt(api, a, good_mqtt(broker))
    connect_github(api, a)
    assert check_ok(api, a, "mqtt")["status"] == "active"
    assert check_ok(api, a, "github")["status"] == "active"

    assert sb.expect_ok(health_list(api, b)) == []
    sb.expect_error(health(api, b, "mqtt"), 404, "not_found")
    sb.expect_error(health(api, b, "github"), 404, "not_found")
    assert history_count(b) == 0

    # b with its own mqtt integration sees only its own, with its own history.
    put_mqtt(api, b, closed_mqtt())
    d = check_ok(api, b, "mqtt")
    assert d["status"] == "error" and len(d["history"]) == 1, d
    by_b = listed(api, b)
    assert set(by_b) == {"mqtt"} and by_b["mqtt"]["status"] == "error", by_b
    assert len(by_b["mqtt"]["history"]) == 1, by_b
    by_a = listed(api, a)
    assert set(by_a) == {"github", "mqtt"}, by_a
    assert by_a["mqtt"]["status"] == "active" and len(by_a["mqtt"]["history"]) == 1, by_a
    assert history_count(a) == 2


# --- events ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("fresh_worker")
def test_health_changed_event_on_a_change_only(api, wh, new_user, receiver, broker):
    u = new_user()
    integ = wh.hook(u, "ok", events=["integration.*"])
    put_mqtt(api, u, good_mqtt(broker))  # integration.connected

    def changes(log):
        return [e for e in log if e["body"]["type"] == "integration.health_changed"]

    # pending -> active: published.
    assert check_ok(api, u, "mqtt")["status"] == "active"
    log = receiver.wait(integ.bucket, lambda l: len(changes(l)) >= 1, what="integration.health_changed")
    first = changes(log)[0]
    assert first["verified"] is True, first
    assert first["body"]["data"] == {"provider": "mqtt", "user_id": u.id, "status": "active",
                                     "previous_status": "pending"}, first["body"]

    # active -> active: nothing.
    assert check_ok(api, u, "mqtt")["status"] == "active"
    assert len(health_events(u)) == 1

    # A broken config saved (pending), checked: pending -> error, published.
    put_mqtt(api, u, closed_mqtt())  # integration.updated
    assert check_ok(api, u, "mqtt")["status"] == "error"
    # error -> error: nothing.
    assert check_ok(api, u, "mqtt")["status"] == "error"
    log = receiver.wait(integ.bucket, lambda l: len(changes(l)) >= 2 and any(
        e["body"]["type"] == "integration.updated" for e in l), what="the second integration.health_changed")
    wh.settled(u, integ.id, 4)
    log = receiver.log(integ.bucket)
    assert sorted(e["body"]["type"] for e in log) == [
        "integration.connected", "integration.health_changed", "integration.health_changed",
        "integration.updated"], [e["body"]["type"] for e in log]
    datas = sorted((e["body"]["data"] for e in changes(log)), key=lambda x: x["status"])
    assert datas == [
        {"provider": "mqtt", "user_id": u.id, "status": "active", "previous_status": "pending"},
        {"provider": "mqtt", "user_id": u.id, "status": "error", "previous_status": "pending"},
    ], datas
    assert all(e["verified"] is True for e in log), log
    assert len(health_events(u)) == 2


# --- the worker's periodic checks -------------------------------------------------------------------


def test_worker_checks_integrations_left_unchecked(api, new_user, broker):
    u = new_user()
    put_mqtt(api, u, good_mqtt(broker))
    uid = sb.sql_uuid(u.id)
    try:
        restart_worker(SB_WORKER_REFRESH_SCAN_SECONDS="1", SB_HEALTH_CHECK_INTERVAL_SECONDS="10")
        # Just saved: not due yet. Aged: due at the next scan.
        sb.psql("UPDATE user_integrations SET last_checked_at = now() - interval '1 hour', "
                f"updated_at = now() - interval '1 hour' WHERE user_id = '{uid}' AND provider = 'mqtt'")
        found = sb.retry_until(lambda: history_count(u, "mqtt") >= 1, timeout=20, interval=0.25)
        assert found, "the worker recorded no check within 20 s"
        row = db_row(u, "mqtt")
        assert row["status"] in ("connected", "active") and row["last_error"] is None, row
        entry = listed(api, u)["mqtt"]
        assert (entry["status"], entry["healthy"]) == ("active", True), entry
        assert len(entry["history"]) >= 1 and entry["history"][-1]["status"] == "active", entry
        assert entry["history"][-1]["latency_ms"] is not None, entry
        # pending -> active, published by the worker's check like by a request's.
        assert {"provider": "mqtt", "user_id": u.id, "status": "active", "previous_status": "pending"} in \
            health_events(u)
    finally:
        restart_worker()


def test_worker_scan_is_not_blocked_by_integrations_it_cannot_check(api, new_user, broker):
    """Rows the scan cannot check (here: a provider since removed from the providers file)
    must not take every slot of every scan: the other due integrations still get checked."""
    u, stale = new_user(), new_user()
    put_mqtt(api, u, good_mqtt(broker))
    uid, sid = sb.sql_uuid(u.id), sb.sql_uuid(stale.id)
    age = ("UPDATE user_integrations SET last_checked_at = now() - interval '1 hour', "
           f"updated_at = now() - interval '1 hour' WHERE user_id = '{uid}' AND provider = 'mqtt'")
    try:
        restart_worker(SB_WORKER_REFRESH_SCAN_SECONDS="1", SB_HEALTH_CHECK_INTERVAL_SECONDS="10",
                       SB_WORKER_HEALTH_BATCH="20")
        sb.psql(age)
        # Once this row is checked, every row due before it (never checked) was too.
        assert sb.retry_until(lambda: history_count(u, "mqtt") >= 1, timeout=20, interval=0.25), \
            "the worker recorded no check within 20 s"

        # A batch worth of rows of providers that no longer exist, due longer than ours.
        sb.psql("INSERT INTO user_integrations (user_id, provider, status, last_checked_at, updated_at) "
                f"SELECT '{sid}', 'retired-' || g, 'active', now() - interval '2 hours', now() - interval '2 hours' "
                "FROM generate_series(1, 20) g")
        n = history_count(u, "mqtt")
        sb.psql(age)
        assert sb.retry_until(lambda: history_count(u, "mqtt") > n, timeout=20, interval=0.25), (
            "the worker did not check a due integration within 20 s: rows it cannot check "
            "(unknown provider) fill every batch; last_checked_at of the retired rows: "
            + sb.psql(f"SELECT string_agg(coalesce(last_checked_at::text, 'null'), ', ') FROM user_integrations "
                      f"WHERE user_id = '{sid}'"))
    finally:
        sb.psql(f"DELETE FROM user_integrations WHERE user_id = '{sid}'")
        restart_worker()
