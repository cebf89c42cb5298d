"""Blynk: the server URL and device tokens (write-only, sealed per device), the view with
each device's live online status, virtual-pin writes through the server's external API,
validation, isolation between users, the health check and the private-address guard.
The server is tests/e2e/fakes/blynk_fake.py (SB_FAKE_BLYNK_PORT)."""

import json
import os
import secrets
import subprocess

import pytest
import requests

import sb
from test_mqtt import ROOT, key_versions, set_env_value

VIEW_KEYS = {"enabled", "server_url", "devices", "devices_error", "status", "last_error", "last_checked_at",
             "updated_at", "connected", "connected_at"}


@pytest.fixture(scope="session")
def blynk():
    port = os.environ.get("SB_FAKE_BLYNK_PORT")
    if not port:
        pytest.skip("SB_FAKE_BLYNK_PORT not set: run the suite through scripts/test-e2e")
    return f"http://127.0.0.1:{port}"


def token():
    return secrets.token_hex(16)  # 32 characters, like a Blynk IoT token


def fake_device(blynk, tok, online=False, mode="ok"):
    r = requests.post(blynk + "/_fake/devices", json={"token": tok, "online": online, "mode": mode},
                      timeout=sb.TIMEOUT)
    assert r.status_code == 200, r.text
    return tok


def fake_writes(blynk, tok):
    r = requests.get(f"{blynk}/_fake/writes/{tok}", timeout=sb.TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def url(api, rest=""):
    return api + "/users/me/integrations/blynk" + rest


def get(api, user):
    return requests.get(url(api), headers=user.headers, timeout=sb.TIMEOUT)


def put(api, user, body):
    return requests.put(url(api), json=body, headers=user.headers, timeout=sb.TIMEOUT)


def delete(api, user):
    return requests.delete(url(api), headers=user.headers, timeout=sb.TIMEOUT)


def write(api, user, body):
    return requests.post(url(api, "/virtual-pin"), json=body, headers=user.headers, timeout=sb.TIMEOUT)


def config(server, *devices, **extra):
    body = {"server_url": server, "devices": [{"name": n, "auth_token": t} for n, t in devices]}
    body.update(extra)
    return body


def db_config(user):
    out = sb.psql(f"SELECT config::text FROM user_integrations WHERE user_id = '{sb.sql_uuid(user.id)}' "
                  "AND provider = 'blynk'")
    return json.loads(out) if out else None


def audit_actions(api, user):
    data = sb.expect_ok(requests.get(api + "/users/me/audit-log", params={"limit": 100}, headers=user.headers,
                                     timeout=sb.TIMEOUT))
    return [e["action"] for e in data["items"]]


def closed_server():
    return f"http://127.0.0.1:{sb.free_port()}"


# --- save, get, delete ---------------------------------------------------------------------------


def test_save_get_delete(api, new_user, blynk):
    u = new_user()
    t1, t2 = fake_device(blynk, token(), online=True), fake_device(blynk, token(), online=False)
    saved = sb.expect_ok(put(api, u, config(blynk + "/", ("Greenhouse", t1), ("Garage", t2))))
    assert set(saved) == VIEW_KEYS, saved
    assert saved["server_url"] == blynk  # trailing slash dropped
    assert saved["enabled"] is True
    assert [d["name"] for d in saved["devices"]] == ["Greenhouse", "Garage"]
    assert all(d["has_token"] for d in saved["devices"])

    v = sb.expect_ok(get(api, u))
    assert set(v) == VIEW_KEYS, v
    assert {d["name"]: d["online"] for d in v["devices"]} == {"Greenhouse": True, "Garage": False}
    assert v["devices_error"] is None
    for d in v["devices"]:
        assert set(d) == {"name", "online", "has_token", "error"}, d

    assert "integration.connected" in audit_actions(api, u)
    sb.expect_ok(delete(api, u))
    sb.expect_error(get(api, u), 404, "not_found")
    sb.expect_error(delete(api, u), 404, "not_found")
    assert db_config(u) is None
    assert "integration.disconnected" in audit_actions(api, u)


def test_get_says_connected_like_the_other_providers_and_its_event_is_not_disconnected(api, new_user, blynk):
    u = new_user()
    t = fake_device(blynk, token(), online=True)
    resp = put(api, u, config(blynk, ("Lab", t)))
    saved = sb.expect_ok(resp)
    # Saved, not checked yet: pending, the word /health uses, never "disconnected".
    assert saved["connected"] is False and saved["status"] == "pending", saved
    assert sb.RFC3339_UTC_RE.match(saved["connected_at"]), saved
    status = sb.psql(f"SELECT data->>'status' FROM events WHERE user_id = '{sb.sql_uuid(u.id)}' "
                     f"AND type = 'integration.connected'")
    assert status == "pending", status
    h = sb.expect_ok(requests.get(api + "/users/me/integrations/blynk/health", headers=u.headers,
                                  timeout=sb.TIMEOUT))
    assert h["status"] == "active", h
    resp = get(api, u)
    v = sb.expect_ok(resp)
    assert v["connected"] is True and v["status"] in ("connected", "active"), v
    assert resp.json()["message"], resp.json()


def test_default_server_is_blynk_cloud(api, new_user):
    u = new_user()
    saved = sb.expect_ok(put(api, u, {"devices": [{"name": "d", "auth_token": token()}], "enabled": False}))
    assert saved["server_url"] == "https://blynk.cloud"
    assert saved["enabled"] is False
    # A disabled integration is not contacted: online unknown, no error.
    v = sb.expect_ok(get(api, u))
    assert v["devices"][0]["online"] is None and v["devices_error"] is None, v


def test_catalog_lists_blynk(api):
    data = sb.expect_ok(requests.get(api + "/integrations", timeout=sb.TIMEOUT))
    e = [x for x in data if x["provider"] == "blynk"]
    assert len(e) == 1, data
    assert e[0]["auth_type"] == "config" and e[0]["default_server_url"] == "https://blynk.cloud"


# --- tokens are write-only and sealed -----------------------------------------------------------------


def test_tokens_never_returned_and_not_plaintext_in_db(api, new_user, blynk):
    u = new_user()
    t1 = fake_device(blynk, token(), online=True)
    responses = [put(api, u, config(blynk, ("Lamp", t1))), get(api, u),
                 requests.get(api + "/users/me/integrations", headers=u.headers, timeout=sb.TIMEOUT),
                 requests.get(url(api, "/health"), headers=u.headers, timeout=sb.TIMEOUT)]
    for r in responses:
        assert r.status_code == 200, r.text
        assert t1 not in r.text
        assert "auth_token" not in r.text and "_encrypted" not in r.text
    stored = db_config(u)
    assert t1 not in json.dumps(stored)
    sealed = stored["devices/Lamp/auth_token_encrypted"]
    assert sealed.startswith("sb1."), stored
    everything = sb.psql(f"SELECT row_to_json(ui)::text FROM user_integrations ui WHERE user_id = '{u.id}'")
    assert t1 not in everything


def test_put_without_token_keeps_stored_token_and_new_device_needs_one(api, new_user, blynk):
    u = new_user()
    t1 = fake_device(blynk, token(), online=True)
    sb.expect_ok(put(api, u, config(blynk, ("Lamp", t1))))
    sealed = db_config(u)["devices/Lamp/auth_token_encrypted"]
    # Named again without a token: kept (and still works).
    sb.expect_ok(put(api, u, {"server_url": blynk, "devices": [{"name": "Lamp"}]}))
    assert db_config(u)["devices/Lamp/auth_token_encrypted"] == sealed
    assert sb.expect_ok(get(api, u))["devices"][0]["online"] is True
    # A new (or renamed) device without a token: 422, nothing changed.
    err = sb.expect_error(put(api, u, {"server_url": blynk, "devices": [{"name": "Lamp"}, {"name": "Fan"}]}), 422)
    assert "devices[1].auth_token" in err["fields"], err
    assert [d["name"] for d in sb.expect_ok(get(api, u))["devices"]] == ["Lamp"]
    # A device left out is dropped with its token.
    t2 = fake_device(blynk, token())
    sb.expect_ok(put(api, u, config(blynk, ("Fan", t2))))
    assert "devices/Lamp/auth_token_encrypted" not in db_config(u)


def test_sealed_token_bound_to_user_and_device(api, new_user, blynk):
    a, b = new_user(), new_user()
    ta, tb = fake_device(blynk, token(), online=True), fake_device(blynk, token(), online=True)
    sb.expect_ok(put(api, a, config(blynk, ("One", ta), ("Two", ta))))
    sb.expect_ok(put(api, b, config(blynk, ("One", tb))))
    # The planted ciphertexts would make scripts/rotate-key (other tests) fail: removed after.
    try:
        sealed_a = db_config(a)["devices/One/auth_token_encrypted"]
        # a's ciphertext copied into b's row does not open there.
        sb.psql(f"UPDATE user_integrations SET config = jsonb_set(config, '{{devices/One/auth_token_encrypted}}', "
                f"'\"{sealed_a}\"') WHERE user_id = '{b.id}' AND provider = 'blynk'")
        v = sb.expect_ok(get(api, b))
        assert v["devices"][0]["online"] is None and "decrypted" in v["devices"][0]["error"], v
        sb.expect_error(write(api, b, {"device": "One", "pin": "V1", "value": "1"}), 500, "secret_unavailable")
        # ... nor under another device's name of the same user.
        sealed_two = db_config(a)["devices/Two/auth_token_encrypted"]
        sb.psql(f"UPDATE user_integrations SET config = jsonb_set(config, '{{devices/One/auth_token_encrypted}}', "
                f"'\"{sealed_two}\"') WHERE user_id = '{a.id}' AND provider = 'blynk'")
        sb.expect_error(write(api, a, {"device": "One", "pin": "V1", "value": "1"}), 500, "secret_unavailable")
        sb.expect_ok(write(api, a, {"device": "Two", "pin": "V1", "value": "1"}))
    finally:
        sb.expect_ok(delete(api, a))
        sb.expect_ok(delete(api, b))


# --- online status -----------------------------------------------------------------------------------


def test_online_status_follows_the_server(api, new_user, blynk):
    u = new_user()
    t1 = fake_device(blynk, token(), online=False)
    sb.expect_ok(put(api, u, config(blynk, ("Lamp", t1))))
    assert sb.expect_ok(get(api, u))["devices"][0]["online"] is False
    fake_device(blynk, t1, online=True)
    assert sb.expect_ok(get(api, u))["devices"][0]["online"] is True


def test_invalid_token_shows_on_its_device_only(api, new_user, blynk):
    u = new_user()
    good = fake_device(blynk, token(), online=True)
    sb.expect_ok(put(api, u, config(blynk, ("Good", good), ("Bad", token()))))
    v = sb.expect_ok(get(api, u))
    d = {x["name"]: x for x in v["devices"]}
    assert d["Good"]["online"] is True and d["Good"]["error"] is None
    assert d["Bad"]["online"] is None and "Invalid token" in d["Bad"]["error"]
    assert v["devices_error"] is None


def test_server_down_gives_null_online_and_devices_error(api, new_user, blynk):
    u = new_user()
    sb.expect_ok(put(api, u, config(closed_server(), ("A", token()), ("B", token()))))
    v = sb.expect_ok(get(api, u))
    assert [d["online"] for d in v["devices"]] == [None, None]
    assert v["devices_error"] and "Blynk server" in v["devices_error"], v


def test_server_hanging_gives_null_online(api, new_user, blynk):
    u = new_user()
    t = fake_device(blynk, token(), mode="hang")
    sb.expect_ok(put(api, u, config(blynk, ("Slow", t), ("Other", token()))))
    v = sb.expect_ok(get(api, u))
    assert [d["online"] for d in v["devices"]] == [None, None]
    assert "in time" in v["devices_error"], v


# --- virtual pin -----------------------------------------------------------------------------------


def test_virtual_pin_write_is_recorded(api, new_user, blynk):
    u = new_user()
    t = fake_device(blynk, token(), online=True)
    sb.expect_ok(put(api, u, config(blynk, ("Lamp", t))))
    r = sb.expect_ok(write(api, u, {"device": "Lamp", "pin": "V3", "value": "on & 100%"}))
    assert r == {"device": "Lamp", "pin": "V3", "value": "on & 100%", "written": True}
    r = sb.expect_ok(write(api, u, {"device": "Lamp", "pin": 255, "value": 42.5}))
    assert r["pin"] == "V255" and r["value"] == "42.5"
    sb.expect_ok(write(api, u, {"device": "Lamp", "pin": "v0", "value": 7}))
    assert fake_writes(blynk, t) == [{"pin": "V3", "value": "on & 100%"}, {"pin": "V255", "value": "42.5"},
                                     {"pin": "V0", "value": "7"}]
    actions = audit_actions(api, u)
    assert actions.count("integration.blynk_pin_written") == 3
    assert t not in json.dumps(sb.expect_ok(requests.get(api + "/users/me/audit-log", headers=u.headers,
                                                         timeout=sb.TIMEOUT)))


def test_virtual_pin_unknown_device_and_not_configured(api, new_user, blynk):
    u = new_user()
    sb.expect_error(write(api, u, {"device": "Lamp", "pin": "V1", "value": "1"}), 404, "not_found")
    sb.expect_ok(put(api, u, config(blynk, ("Lamp", fake_device(blynk, token())))))
    sb.expect_error(write(api, u, {"device": "lamp", "pin": "V1", "value": "1"}), 404, "device_not_found")


def test_virtual_pin_validation(api, new_user, blynk):
    u = new_user()
    t = fake_device(blynk, token())
    sb.expect_ok(put(api, u, config(blynk, ("Lamp", t))))
    bad = [
        ({"pin": "V1", "value": "1"}, "device"),
        ({"device": "Lamp", "value": "1"}, "pin"),
        ({"device": "Lamp", "pin": "V256", "value": "1"}, "pin"),
        ({"device": "Lamp", "pin": "D1", "value": "1"}, "pin"),
        ({"device": "Lamp", "pin": "V01", "value": "1"}, "pin"),
        ({"device": "Lamp", "pin": -1, "value": "1"}, "pin"),
        ({"device": "Lamp", "pin": True, "value": "1"}, "pin"),
        ({"device": "Lamp", "pin": "V1"}, "value"),
        ({"device": "Lamp", "pin": "V1", "value": "x" * 256}, "value"),
        ({"device": "Lamp", "pin": "V1", "value": True}, "value"),
        ({"device": "Lamp", "pin": "V1", "value": ["a"]}, "value"),
        ({"device": "Lamp", "pin": "V1", "value": "a\nb"}, "value"),
        ({"device": 5, "pin": "V1", "value": "1"}, "device"),
    ]
    for body, field in bad:
        err = sb.expect_error(write(api, u, body), 422, "validation_failed")
        assert field in err["fields"], (body, err)
    sb.expect_ok(write(api, u, {"device": "Lamp", "pin": "V1", "value": "é" * 255}))
    assert len(fake_writes(blynk, t)) == 1
    r = requests.post(url(api, "/virtual-pin"), data="{", headers={**u.headers, "Content-Type": "application/json"},
                      timeout=sb.TIMEOUT)
    assert r.status_code == 400, r.text


def test_virtual_pin_invalid_token_is_400(api, new_user, blynk):
    u = new_user()
    sb.expect_ok(put(api, u, config(blynk, ("Lamp", token()))))
    err = sb.expect_error(write(api, u, {"device": "Lamp", "pin": "V1", "value": "1"}), 400, "blynk_invalid_token")
    assert "Invalid token" in err["message"]


def test_virtual_pin_server_down_502_and_nothing_written(api, new_user, blynk):
    u = new_user()
    sb.expect_ok(put(api, u, config(closed_server(), ("Lamp", token()))))
    before = audit_actions(api, u)
    sb.expect_error(write(api, u, {"device": "Lamp", "pin": "V1", "value": "1"}), 502, "provider_unavailable")
    t = fake_device(blynk, token(), mode="error")
    sb.expect_ok(put(api, u, config(blynk, ("Lamp", t))))
    sb.expect_error(write(api, u, {"device": "Lamp", "pin": "V1", "value": "1"}), 502, "provider_unavailable")
    assert fake_writes(blynk, t) == []
    assert "integration.blynk_pin_written" not in before + audit_actions(api, u)


def test_virtual_pin_server_slow_504(api, new_user, blynk):
    u = new_user()
    t = fake_device(blynk, token(), mode="hang")
    sb.expect_ok(put(api, u, config(blynk, ("Lamp", t))))
    sb.expect_error(write(api, u, {"device": "Lamp", "pin": "V1", "value": "1"}), 504, "provider_timeout")
    assert "integration.blynk_pin_written" not in audit_actions(api, u)


def test_virtual_pin_on_disabled_integration_is_409(api, new_user, blynk):
    u = new_user()
    t = fake_device(blynk, token())
    sb.expect_ok(put(api, u, config(blynk, ("Lamp", t), enabled=False)))
    sb.expect_error(write(api, u, {"device": "Lamp", "pin": "V1", "value": "1"}), 409, "integration_disabled")
    assert fake_writes(blynk, t) == []


# --- validation of the config -------------------------------------------------------------------------


def test_config_validation(api, new_user, blynk):
    u = new_user()
    t = token()
    bad = [
        ({}, "devices"),
        ({"devices": []}, "devices"),
        ({"devices": [{"name": f"d{i}", "auth_token": t} for i in range(51)]}, "devices"),
        ({"devices": "x"}, "devices"),
        ({"devices": ["x"]}, "devices[0]"),
        ({"devices": [{"auth_token": t}]}, "devices[0].name"),
        ({"devices": [{"name": "", "auth_token": t}]}, "devices[0].name"),
        ({"devices": [{"name": "x" * 101, "auth_token": t}]}, "devices[0].name"),
        ({"devices": [{"name": "a\tb", "auth_token": t}]}, "devices[0].name"),
        ({"devices": [{"name": " a", "auth_token": t}]}, "devices[0].name"),
        ({"devices": [{"name": 3, "auth_token": t}]}, "devices[0].name"),
        ({"devices": [{"name": "a", "auth_token": t}, {"name": "a", "auth_token": t}]}, "devices[1].name"),
        ({"devices": [{"name": "a", "auth_token": "short"}]}, "devices[0].auth_token"),
        ({"devices": [{"name": "a", "auth_token": "x" * 65}]}, "devices[0].auth_token"),
        ({"devices": [{"name": "a", "auth_token": "bad token with spaces!!"}]}, "devices[0].auth_token"),
        ({"devices": [{"name": "a", "auth_token": 12345678901234567890}]}, "devices[0].auth_token"),
        ({"devices": [{"name": "a"}]}, "devices[0].auth_token"),
        ({"server_url": "ftp://blynk.cloud", "devices": [{"name": "a", "auth_token": t}]}, "server_url"),
        ({"server_url": "https://", "devices": [{"name": "a", "auth_token": t}]}, "server_url"),
        ({"server_url": "https://u:p@blynk.cloud", "devices": [{"name": "a", "auth_token": t}]}, "server_url"),
        ({"server_url": "https://blynk.cloud/external/api", "devices": [{"name": "a", "auth_token": t}]},
         "server_url"),
        ({"server_url": "https://blynk.cloud?x=1", "devices": [{"name": "a", "auth_token": t}]}, "server_url"),
        ({"server_url": "https://blynk.cloud:99999", "devices": [{"name": "a", "auth_token": t}]}, "server_url"),
        ({"server_url": "https://blynk .cloud", "devices": [{"name": "a", "auth_token": t}]}, "server_url"),
        ({"server_url": 5, "devices": [{"name": "a", "auth_token": t}]}, "server_url"),
        ({"enabled": "yes", "devices": [{"name": "a", "auth_token": t}]}, "enabled"),
    ]
    for body, field in bad:
        err = sb.expect_error(put(api, u, body), 422, "validation_failed")
        assert field in err["fields"], (body, err)
    assert db_config(u) is None
    # Every failing field at once.
    err = sb.expect_error(put(api, u, {"server_url": "ftp://x", "devices": [{"name": ""}, {"name": "b",
                                                                                         "auth_token": "?"}]}), 422)
    assert {"server_url", "devices[0].name", "devices[1].auth_token"} <= set(err["fields"]), err
    # The limits themselves are fine: 50 devices, 100-character names, the https default.
    ok = {"devices": [{"name": f"{i:03d}" + "n" * 97, "auth_token": t} for i in range(50)], "enabled": False}
    assert len(sb.expect_ok(put(api, u, ok))["devices"]) == 50
    sb.expect_ok(put(api, u, {"server_url": "https://fra1.blynk.cloud:443/", "devices": [{"name": "a",
                                                                                         "auth_token": t}],
                              "enabled": False}))


def test_invalid_put_changes_nothing(api, new_user, blynk):
    u = new_user()
    t = fake_device(blynk, token())
    sb.expect_ok(put(api, u, config(blynk, ("Lamp", t))))
    before = db_config(u)
    sb.expect_error(put(api, u, {"server_url": blynk, "devices": [{"name": "Lamp", "auth_token": "?"}]}), 422)
    assert db_config(u) == before


# --- isolation ---------------------------------------------------------------------------------------


def test_users_are_isolated(api, new_user, blynk):
    a, b = new_user(), new_user()
    ta = fake_device(blynk, token(), online=True)
    sb.expect_ok(put(api, a, config(blynk, ("Lamp", ta))))
    sb.expect_error(get(api, b), 404, "not_found")
    sb.expect_error(write(api, b, {"device": "Lamp", "pin": "V1", "value": "1"}), 404, "not_found")
    # b's own device of the same name does not use a's token.
    sb.expect_ok(put(api, b, config(blynk, ("Lamp", token()))))
    sb.expect_error(write(api, b, {"device": "Lamp", "pin": "V1", "value": "1"}), 400, "blynk_invalid_token")
    sb.expect_ok(delete(api, b))
    assert sb.expect_ok(get(api, a))["devices"][0]["online"] is True
    assert fake_writes(blynk, ta) == []


def test_requires_authentication_and_scope(api, new_user, blynk):
    r = requests.get(url(api), timeout=sb.TIMEOUT)
    sb.expect_error(r, 401)
    r = requests.post(url(api, "/virtual-pin"), json={"device": "a", "pin": 1, "value": 1}, timeout=sb.TIMEOUT)
    sb.expect_error(r, 401)
    u = new_user()
    key = sb.expect_ok(requests.post(api + "/api-keys", json={"name": "ro", "scopes": ["integrations:read"]},
                                     headers=u.headers, timeout=sb.TIMEOUT), 201)
    h = {"Authorization": f"Bearer {key['key']}"}
    sb.expect_error(requests.post(url(api, "/virtual-pin"), json={"device": "a", "pin": 1, "value": 1}, headers=h,
                                  timeout=sb.TIMEOUT), 403)


# --- health ------------------------------------------------------------------------------------------


def test_health_route(api, new_user, blynk):
    u = new_user()
    good, other = fake_device(blynk, token(), online=True), fake_device(blynk, token(), online=False)
    sb.expect_ok(put(api, u, config(blynk, ("A", good), ("B", other))))
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=sb.TIMEOUT))
    assert h["provider"] == "blynk" and h["status"] == "active" and h["healthy"] is True, h
    assert sb.expect_ok(get(api, u))["status"] == "active"
    # One token the server refuses: error, naming the device, never the token.
    bad = token()
    sb.expect_ok(put(api, u, {"server_url": blynk, "devices": [{"name": "A"}, {"name": "C", "auth_token": bad}]}))
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=sb.TIMEOUT))
    assert h["status"] == "error" and "device C" in h["error"] and bad not in h["error"], h
    v = sb.expect_ok(get(api, u))
    assert v["status"] == "error" and "device C" in v["last_error"], v
    # Server down: error.
    sb.expect_ok(put(api, u, config(closed_server(), ("A", good))))
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=sb.TIMEOUT))
    assert h["status"] == "error" and "Blynk server" in h["error"], h
    listed = sb.expect_ok(requests.get(api + "/users/me/integrations/health", headers=u.headers, timeout=sb.TIMEOUT))
    assert [x["status"] for x in listed if x["provider"] == "blynk"] == ["error"]


# --- private-address guard ---------------------------------------------------------------------------


def test_private_address_guard_blocks_loopback_server(api, new_user, blynk, stack):
    u = new_user()
    t = fake_device(blynk, token(), online=True)
    sb.expect_ok(put(api, u, config(blynk, ("Lamp", t))))
    env_file = os.path.join(os.environ["SB_VAR"], "switchboard.env")

    def blocked():
        # A probe value: until the old responder processes retire, a probe may still
        # get through; only what is written after the guard is on must be blocked.
        r = write(api, u, {"device": "Lamp", "pin": "V9", "value": "probe"})
        return r if r.status_code == 502 else None

    try:
        set_env_value(env_file, "SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "0")
        stack("restart", "integrations")
        assert sb.retry_until(blocked, timeout=10) is not None, \
            "Blynk calls still reach 127.0.0.1 after the guard was switched on"
        r = write(api, u, {"device": "Lamp", "pin": "V9", "value": "guarded"})
        err = sb.expect_error(r, 502, "address_blocked")
        assert "private" in err["message"]
        v = sb.expect_ok(get(api, u))
        assert v["devices"][0]["online"] is None and "private" in v["devices_error"], v
        h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=sb.TIMEOUT))
        assert h["status"] == "error", h
    finally:
        set_env_value(env_file, "SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "1")
        stack("restart", "integrations")
    assert {"pin": "V9", "value": "guarded"} not in fake_writes(blynk, t)
    ok = sb.retry_until(lambda: write(api, u, {"device": "Lamp", "pin": "V9", "value": "ok"}).status_code == 200,
                        timeout=10)
    assert ok, "still blocked after the guard was switched off again"


def test_patch_disables_and_enables(api, new_user, blynk):
    u = new_user()
    t = fake_device(blynk, token(), online=True)
    sb.expect_ok(put(api, u, config(blynk, ("Lamp", t))))
    off = sb.expect_ok(requests.patch(url(api), json={"enabled": False}, headers=u.headers, timeout=sb.TIMEOUT))
    assert off["enabled"] is False and off["devices"][0]["has_token"] is True, off
    sb.expect_error(write(api, u, {"device": "Lamp", "pin": "V1", "value": "1"}), 409, "integration_disabled")
    sb.expect_ok(requests.patch(url(api), json={"enabled": True}, headers=u.headers, timeout=sb.TIMEOUT))
    sb.expect_ok(write(api, u, {"device": "Lamp", "pin": "V1", "value": "1"}))
    assert sb.expect_ok(get(api, u))["devices"][0]["online"] is True


def test_key_rotation_reseals_device_tokens(api, new_user, blynk):
    u = new_user()
    t = fake_device(blynk, token(), online=True)
    sb.expect_ok(put(api, u, config(blynk, ("Lamp", t), ("Fan", t))))
    old = db_config(u)
    new_version = max(key_versions()) + 1
    proc = subprocess.run([os.path.join(ROOT, "scripts", "rotate-key"), "--add-key"], env=os.environ.copy(),
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"rotate-key exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    now = db_config(u)
    for name in ("Lamp", "Fan"):
        key = f"devices/{name}/auth_token_encrypted"
        assert now[key].startswith(f"sb1.{new_version}.") and now[key] != old[key], now
    assert t not in json.dumps(now)
    ok = sb.retry_until(lambda: write(api, u, {"device": "Fan", "pin": "V2", "value": "r"}).status_code == 200,
                        timeout=10)
    assert ok, "the re-sealed token does not open after rotation"
    assert {"pin": "V2", "value": "r"} in fake_writes(blynk, t)
