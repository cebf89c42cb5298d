"""The Arduino Cloud integration against the fake Arduino IoT Cloud (fakes/arduino_fake.py):
PUT exchanges client credentials for a token before anything is saved (refused → 422, down
or slow → 502/504, nothing stored either way), the write-only sealed client secret, the
GET view with live devices and things (devices_error when Arduino is down), re-exchange of
an expired token, DELETE, isolation between users, the health check, validation and the
catalog."""

import os
import uuid

import pytest
import requests

import sb

JSON = {"Content-Type": "application/json"}
VIEW_KEYS = {"connected", "enabled", "client_id", "has_client_secret", "status", "last_error", "connected_at",
             "devices", "things"}

DEVICES = [
    {"id": "dev-1", "name": "ESP32 Weather Station", "type": "esp32", "device_status": "ONLINE",
     "last_activity_at": "2026-01-15T10:00:00Z", "serial": "A1"},
    {"id": "dev-2", "name": "Nano Greenhouse", "type": "nano_33_iot", "device_status": "OFFLINE",
     "last_activity_at": "2026-01-10T08:30:00Z"},
]
THINGS = [{"id": "thing-1", "name": "Weather", "device_id": "dev-1", "timezone": "UTC"}]


# --- helpers ------------------------------------------------------------------------------------


class Fake:
    def __init__(self):
        self.base = "http://127.0.0.1:%s" % os.environ["SB_FAKE_ARDUINO_PORT"]

    def client(self, devices=DEVICES, things=THINGS, expires_in=300):
        cid = "cid-" + uuid.uuid4().hex[:12]
        secret = "csecret-" + uuid.uuid4().hex
        r = requests.post(self.base + "/_fake/clients", json={"client_id": cid, "client_secret": secret,
                                                               "devices": devices, "things": things,
                                                               "expires_in": expires_in}, timeout=5)
        assert r.status_code == 201, r.text
        return cid, secret

    def mode(self, cid, **kw):
        r = requests.post(self.base + f"/_fake/clients/{cid}/mode", json=kw, timeout=5)
        assert r.status_code == 200, r.text

    def info(self, cid):
        return requests.get(self.base + f"/_fake/clients/{cid}", timeout=5).json()


@pytest.fixture(scope="module")
def fake():
    return Fake()


def url(api):
    return api + "/users/me/integrations/arduino-cloud"


def get(api, user):
    return requests.get(url(api), headers=user.headers, timeout=30)


def put(api, user, body):
    return requests.put(url(api), json=body, headers=user.headers, timeout=30)


def delete(api, user):
    return requests.delete(url(api), headers=user.headers, timeout=sb.TIMEOUT)


def row(user):
    return sb.psql("SELECT count(*) FROM user_integrations WHERE user_id = '%s' AND provider = 'arduino_cloud'"
                   % sb.sql_uuid(user.id))


def stored(user):
    return sb.psql("SELECT config::text || coalesce(access_token, '') || coalesce(refresh_token, '') "
                   "FROM user_integrations WHERE user_id = '%s' AND provider = 'arduino_cloud'" % sb.sql_uuid(user.id))


def connect(api, user, fake, **kw):
    cid, secret = fake.client(**kw)
    data = sb.expect_ok(put(api, user, {"client_id": cid, "client_secret": secret}))
    return cid, secret, data


# --- PUT --------------------------------------------------------------------------------------------


def test_put_good_credentials_saves_and_shows_devices_and_things(api, new_user, fake):
    u = new_user()
    cid, secret, v = connect(api, u, fake)
    assert VIEW_KEYS <= set(v), v
    assert v["connected"] is True and v["enabled"] is True and v["status"] == "active"
    assert v["client_id"] == cid and v["has_client_secret"] is True
    assert "client_secret" not in v and secret not in str(v)
    assert v["connected_at"] and sb.RFC3339_UTC_RE.match(v["connected_at"])
    assert v["devices"] == [
        {"id": "dev-1", "name": "ESP32 Weather Station", "type": "esp32", "status": "online",
         "last_activity": "2026-01-15T10:00:00Z"},
        {"id": "dev-2", "name": "Nano Greenhouse", "type": "nano_33_iot", "status": "offline",
         "last_activity": "2026-01-10T08:30:00Z"},
    ]
    assert v["things"] == [{"id": "thing-1", "name": "Weather", "device_id": "dev-1"}]
    # The real Arduino token request shape.
    form = fake.info(cid)["last_form"]
    assert form["grant_type"] == "client_credentials" and form["client_id"] == cid
    assert form["audience"] == "https://api2.arduino.cc/iot"
    # GET shows the same.
    g = sb.expect_ok(get(api, u))
    assert g["devices"] == v["devices"] and g["things"] == v["things"] and g["connected"] is True


def test_db_holds_no_plaintext_secret_or_token(api, new_user, fake):
    u = new_user()
    cid, secret, _ = connect(api, u, fake)
    text = stored(u)
    assert secret not in text and "ard_" not in text
    assert "client_secret_encrypted" in text
    exp = sb.psql("SELECT access_token IS NOT NULL AND token_expires_at > now() AND refresh_token IS NULL "
                  "FROM user_integrations WHERE user_id = '%s' AND provider = 'arduino_cloud'" % sb.sql_uuid(u.id))
    assert exp == "t"


def test_stored_token_is_reused_then_exchanged_again_when_expired(api, new_user, fake):
    u = new_user()
    cid, _, _ = connect(api, u, fake)
    n = fake.info(cid)["counters"]["token"]
    sb.expect_ok(get(api, u))
    assert fake.info(cid)["counters"]["token"] == n  # still valid: no new exchange
    sb.psql("UPDATE user_integrations SET token_expires_at = now() - interval '1 minute' "
            "WHERE user_id = '%s' AND provider = 'arduino_cloud'" % sb.sql_uuid(u.id))
    fake.mode(cid, expire_tokens=True)
    v = sb.expect_ok(get(api, u))
    assert len(v["devices"]) == 2 and "devices_error" not in v
    assert fake.info(cid)["counters"]["token"] == n + 1


def test_bad_credentials_422_and_nothing_stored(api, new_user, fake):
    u = new_user()
    cid, secret = fake.client()
    err = sb.expect_error(put(api, u, {"client_id": cid, "client_secret": "wrong-" + secret}), 422)
    assert "client_secret" in err.get("fields", {}), err
    assert row(u) == "0"
    err = sb.expect_error(put(api, u, {"client_id": "cid-unknown-" + uuid.uuid4().hex, "client_secret": secret}), 422)
    assert row(u) == "0"


def test_bad_credentials_on_update_keep_the_old_config(api, new_user, fake):
    u = new_user()
    cid, secret, _ = connect(api, u, fake)
    before = stored(u)
    sb.expect_error(put(api, u, {"client_id": cid, "client_secret": "nope"}), 422)
    assert stored(u) == before


def test_arduino_down_502_and_nothing_stored(api, new_user, fake):
    u = new_user()
    cid, secret = fake.client()
    fake.mode(cid, token="error")
    sb.expect_error(put(api, u, {"client_id": cid, "client_secret": secret}), 502)
    assert row(u) == "0"


def test_arduino_slow_504_and_nothing_stored(api, new_user, fake):
    u = new_user()
    cid, secret = fake.client()
    fake.mode(cid, token="hang")
    sb.expect_error(put(api, u, {"client_id": cid, "client_secret": secret}), 504)
    assert row(u) == "0"


def test_put_without_secret_keeps_the_stored_one(api, new_user, fake):
    u = new_user()
    cid, secret, _ = connect(api, u, fake)
    sealed = sb.psql("SELECT config->>'client_secret_encrypted' FROM user_integrations WHERE user_id = '%s' "
                     "AND provider = 'arduino_cloud'" % sb.sql_uuid(u.id))
    v = sb.expect_ok(put(api, u, {"client_id": cid, "enabled": True}))
    assert v["has_client_secret"] is True and v["connected"] is True
    assert sb.psql("SELECT config->>'client_secret_encrypted' FROM user_integrations WHERE user_id = '%s' "
                   "AND provider = 'arduino_cloud'" % sb.sql_uuid(u.id)) == sealed
    # A first PUT without a secret has nothing to keep.
    other = new_user()
    err = sb.expect_error(put(api, other, {"client_id": cid}), 422)
    assert "client_secret" in err["fields"]


def test_get_when_arduino_down_answers_with_devices_error(api, new_user, fake):
    u = new_user()
    cid, _, _ = connect(api, u, fake)
    fake.mode(cid, api="error")
    v = sb.expect_ok(get(api, u))
    assert v["devices"] == [] and v["things"] == [] and v["devices_error"]
    assert v["client_id"] == cid
    fake.mode(cid, api="ok")
    v = sb.expect_ok(get(api, u))
    assert len(v["devices"]) == 2 and "devices_error" not in v


def test_get_not_configured_404(api, new_user):
    sb.expect_error(get(api, new_user()), 404, "not_found")


def test_delete(api, new_user, fake):
    u = new_user()
    connect(api, u, fake)
    sb.expect_ok(delete(api, u))
    assert row(u) == "0"
    sb.expect_error(get(api, u), 404)
    sb.expect_error(delete(api, u), 404)


def test_isolation_between_users(api, new_user, fake):
    a, b = new_user(), new_user()
    cid_a, _, _ = connect(api, a, fake)
    cid_b, _, _ = connect(api, b, fake, devices=[], things=[])
    va, vb = sb.expect_ok(get(api, a)), sb.expect_ok(get(api, b))
    assert va["client_id"] == cid_a and len(va["devices"]) == 2
    assert vb["client_id"] == cid_b and vb["devices"] == []
    sb.expect_ok(delete(api, b))
    assert sb.expect_ok(get(api, a))["client_id"] == cid_a


def test_requires_authentication(api):
    assert requests.get(url(api), timeout=sb.TIMEOUT).status_code == 401
    assert requests.put(url(api), json={"client_id": "x", "client_secret": "y"}, timeout=sb.TIMEOUT).status_code == 401


# --- health -----------------------------------------------------------------------------------------


def test_health_active_then_error(api, new_user, fake):
    u = new_user()
    cid, _, _ = connect(api, u, fake)
    h = sb.expect_ok(requests.get(url(api) + "/health", headers=u.headers, timeout=30))
    assert h["provider"] == "arduino_cloud" and h["status"] == "active" and h["healthy"] is True
    assert h["history"] and h["history"][0]["status"] == "active"
    # The credentials are revoked at Arduino and the token has expired: error.
    fake.mode(cid, token="refuse", expire_tokens=True)
    sb.psql("UPDATE user_integrations SET token_expires_at = now() - interval '1 minute' "
            "WHERE user_id = '%s' AND provider = 'arduino_cloud'" % sb.sql_uuid(u.id))
    h = sb.expect_ok(requests.get(url(api) + "/health", headers=u.headers, timeout=30))
    assert h["status"] == "error" and h["healthy"] is False and h["error"]
    v = sb.expect_ok(get(api, u))
    assert v["status"] == "error" and v["connected"] is False and v["last_error"]
    listed = sb.expect_ok(requests.get(api + "/users/me/integrations/health", headers=u.headers, timeout=30))
    assert any(e["provider"] == "arduino_cloud" and e["status"] == "error" for e in listed)


# --- validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize("body,field", [
    ({"client_secret": "s"}, "client_id"),
    ({"client_id": "", "client_secret": "s"}, "client_id"),
    ({"client_id": "x" * 129, "client_secret": "s"}, "client_id"),
    ({"client_id": 5, "client_secret": "s"}, "client_id"),
    ({"client_id": "a\nb", "client_secret": "s"}, "client_id"),
    ({"client_id": "x", "client_secret": ""}, "client_secret"),
    ({"client_id": "x", "client_secret": "s" * 257}, "client_secret"),
    ({"client_id": "x", "client_secret": "s", "enabled": "yes"}, "enabled"),
])
def test_validation_422(api, new_user, body, field):
    u = new_user()
    err = sb.expect_error(put(api, u, body), 422)
    assert field in err["fields"], err
    assert row(u) == "0"


# --- catalog ----------------------------------------------------------------------------------------


def test_catalog_lists_arduino_cloud(api):
    cat = sb.expect_ok(requests.get(api + "/integrations", timeout=sb.TIMEOUT))
    e = next(e for e in cat if e["provider"] == "arduino_cloud")
    assert e["url_segment"] == "arduino-cloud" and e["auth_type"] == "config"
    fields = {f["name"]: f for f in e["config_fields"]}
    assert fields["client_secret"]["secret"] is True and fields["client_id"]["required"] is True
    assert fields["client_id"]["max_length"] == 128 and fields["client_secret"]["max_length"] == 256


def test_token_refused_before_expiry_is_exchanged_again(api, new_user, fake):
    u = new_user()
    cid, _, _ = connect(api, u, fake)
    n = fake.info(cid)["counters"]["token"]
    fake.mode(cid, expire_tokens=True)  # Arduino no longer accepts the stored token
    v = sb.expect_ok(get(api, u))
    assert len(v["devices"]) == 2 and "devices_error" not in v, v
    assert fake.info(cid)["counters"]["token"] == n + 1
    fake.mode(cid, expire_tokens=True)
    h = sb.expect_ok(requests.get(url(api) + "/health", headers=u.headers, timeout=30))
    assert h["status"] == "active", h


def test_disabled_saves_and_does_not_list(api, new_user, fake):
    u = new_user()
    cid, secret = fake.client()
    v = sb.expect_ok(put(api, u, {"client_id": cid, "client_secret": secret, "enabled": False}))
    assert v["enabled"] is False and v["devices"] == [] and "devices_error" not in v
    listed = fake.info(cid)["counters"].get("devices", 0)
    v = sb.expect_ok(get(api, u))
    assert v["enabled"] is False and v["devices"] == [] and "devices_error" not in v
    assert fake.info(cid)["counters"].get("devices", 0) == listed
    h = sb.expect_ok(requests.get(url(api) + "/health", headers=u.headers, timeout=30))
    assert h["status"] == "inactive"


def test_refresh_token_exchanges_again(api, new_user, fake):
    u = new_user()
    cid, _, _ = connect(api, u, fake)
    n = fake.info(cid)["counters"]["token"]
    before = stored(u)
    d = sb.expect_ok(requests.post(url(api) + "/refresh-token", headers=u.headers, timeout=30))
    assert d["provider"] == "arduino_cloud" and d["refreshed"] is True and d["token_expires_at"]
    assert fake.info(cid)["counters"]["token"] == n + 1
    assert stored(u) != before
    fake.mode(cid, token="refuse")
    sb.expect_error(requests.post(url(api) + "/refresh-token", headers=u.headers, timeout=30), 409)
    v = sb.expect_ok(get(api, u))
    assert v["status"] == "error" and v["last_error"]
    sb.expect_error(requests.post(url(api) + "/refresh-token", headers=new_user().headers, timeout=30), 404)


def test_refresh_token_of_a_disabled_integration_calls_nobody(api, new_user, fake):
    u = new_user()
    cid, _, _ = connect(api, u, fake)
    n = fake.info(cid)["counters"]["token"]
    sb.expect_ok(requests.patch(url(api), json={"enabled": False}, headers=u.headers, timeout=30))
    sb.expect_error(requests.post(url(api) + "/refresh-token", headers=u.headers, timeout=30), 409,
                    "integration_disabled")
    assert fake.info(cid)["counters"]["token"] == n


def test_audit_log_and_no_secret_in_it(api, new_user, fake):
    u = new_user()
    cid, secret, _ = connect(api, u, fake)
    sb.expect_ok(put(api, u, {"client_id": cid}))
    sb.expect_ok(delete(api, u))
    r = requests.get(api + "/users/me/audit-log", params={"limit": 100}, headers=u.headers, timeout=sb.TIMEOUT)
    assert r.status_code == 200 and secret not in r.text
    events = [e for e in sb.expect_ok(r)["items"] if e.get("provider") == "arduino_cloud"]
    actions = [e["action"] for e in events]
    for a in ("integration.connected", "integration.updated", "integration.disconnected"):
        assert a in actions, actions
