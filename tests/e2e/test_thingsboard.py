"""ThingsBoard against a fake speaking its REST API (tests/e2e/fakes/thingsboard_fake.py,
SB_FAKE_THINGSBOARD_PORT; X-Authorization: Bearer checked, its 401/404 error JSON): config
with a write-only sealed password, the view with devices (active, last activity, latest
telemetry) for a tenant and a customer user, one-way RPC and shared attributes that reach
the fake, a wrong password and a dead server as clear 502s, field checks, isolation, the
health check and the private-address guard."""

import json
import os

import pytest
import requests

import sb
from test_mqtt import set_env_value

TENANT = ("tenant@thingsboard.org", "tenant-e2e-password")
CUSTOMER = ("customer@thingsboard.org", "customer-e2e-password")
THERMOSTAT, PUMP = "784f394c-42b6-435a-983c-b7beff2784f9", "9c1e2d3f-0000-4a5b-8c7d-112233445566"


@pytest.fixture(scope="session")
def tb():
    port = os.environ.get("SB_FAKE_THINGSBOARD_PORT")
    if not port:
        pytest.skip("SB_FAKE_THINGSBOARD_PORT not set: run the suite through scripts/test-e2e")
    return f"http://127.0.0.1:{port}"


def url(api, suffix=""):
    return api + "/users/me/integrations/thingsboard" + suffix


def put(api, u, body):
    return requests.put(url(api), json=body, headers=u.headers, timeout=sb.TIMEOUT)


def get(api, u):
    return requests.get(url(api), headers=u.headers, timeout=30)


def post(api, u, action, body):
    return requests.post(url(api, "/" + action), json=body, headers=u.headers, timeout=30)


def config(server, who=TENANT, **over):
    body = {"server_url": server, "username": who[0], "password": who[1]}
    body.update(over)
    return body


def rpcs(tb):
    return requests.get(tb + "/_fake/rpc", timeout=sb.TIMEOUT).json()


def closed_server():
    return f"http://127.0.0.1:{sb.free_port()}"


def test_save_get_delete_and_password_is_write_only(api, new_user, tb):
    u = new_user()
    resp = put(api, u, config(tb + "/"))
    v = sb.expect_ok(resp)
    assert v["server_url"] == tb and v["username"] == TENANT[0] and v["has_password"] is True, v
    assert TENANT[1] not in resp.text
    got = get(api, u)
    assert TENANT[1] not in got.text
    v = sb.expect_ok(got)
    assert v["devices_error"] is None and v["devices_total"] == 2, v
    assert sb.expect_ok(put(api, u, {"server_url": tb, "username": TENANT[0]}))["has_password"] is True
    stored = sb.psql(f"SELECT config::text FROM user_integrations WHERE user_id = '{sb.sql_uuid(u.id)}' "
                     "AND provider = 'thingsboard'")
    assert TENANT[1] not in stored and "password_encrypted" in json.loads(stored), stored
    sb.expect_ok(requests.delete(url(api), headers=u.headers, timeout=sb.TIMEOUT))
    sb.expect_error(get(api, u), 404, "not_found")


def test_view_lists_devices_with_active_state_and_telemetry(api, new_user, tb):
    u = new_user()
    sb.expect_ok(put(api, u, config(tb)))
    v = sb.expect_ok(get(api, u))
    devices = {d["id"]: d for d in v["devices"]}
    t, p = devices[THERMOSTAT], devices[PUMP]
    assert t["name"] == "Thermostat T1" and t["type"] == "thermostat" and t["active"] is True, t
    assert t["telemetry"]["temperature"]["value"] == "21.5" and t["telemetry"]["temperature"]["ts"].endswith("Z")
    assert t["last_activity_at"] and t["last_activity_at"].endswith("Z") and t["error"] is None, t
    assert p["active"] is False and "flow" in p["telemetry"], p


def test_customer_user_sees_only_the_customers_devices(api, new_user, tb):
    u = new_user()
    sb.expect_ok(put(api, u, config(tb, CUSTOMER)))
    v = sb.expect_ok(get(api, u))
    assert [d["id"] for d in v["devices"]] == [THERMOSTAT] and v["devices_total"] == 1, v
    err = sb.expect_error(post(api, u, "rpc", {"device_id": PUMP, "method": "setValue"}), 404, "device_not_found")
    assert "wasn't found" in err["message"], err


def test_catalog_lists_thingsboard(api):
    data = sb.expect_ok(requests.get(api + "/integrations", timeout=sb.TIMEOUT))
    e = [x for x in data if x["provider"] == "thingsboard"]
    assert len(e) == 1 and e[0]["auth_type"] == "config", data


def test_rpc_reaches_the_device(api, new_user, tb):
    u = new_user()
    sb.expect_ok(put(api, u, config(tb)))
    method = "setGpio" + os.urandom(4).hex()
    d = sb.expect_ok(post(api, u, "rpc", {"device_id": THERMOSTAT, "method": method, "params": {"pin": 23, "value": 1}}))
    assert d == {"device_id": THERMOSTAT, "method": method, "sent": True}, d
    got = [r for r in rpcs(tb) if r["method"] == method]
    assert got == [{"device_id": THERMOSTAT, "user": TENANT[0], "method": method,
                    "params": {"pin": 23, "value": 1}}], got
    sb.expect_ok(post(api, u, "rpc", {"device_id": PUMP, "method": method + "x"}))
    assert [r["params"] for r in rpcs(tb) if r["method"] == method + "x"] == [{}]


def test_attributes_reach_the_device(api, new_user, tb):
    u = new_user()
    sb.expect_ok(put(api, u, config(tb)))
    value = os.urandom(4).hex()
    d = sb.expect_ok(post(api, u, "attributes", {"device_id": PUMP, "attributes": {"targetSpeed": value, "on": True}}))
    assert d["scope"] == "SHARED_SCOPE" and sorted(d["keys"]) == ["on", "targetSpeed"] and d["sent"] is True, d
    attrs = requests.get(tb + "/_fake/attributes", timeout=sb.TIMEOUT).json()
    assert attrs[PUMP]["targetSpeed"] == value and attrs[PUMP]["on"] is True, attrs


def test_unknown_device_is_404(api, new_user, tb):
    u = new_user()
    sb.expect_ok(put(api, u, config(tb)))
    missing = "00000000-0000-4000-8000-000000000000"
    sb.expect_error(post(api, u, "attributes", {"device_id": missing, "attributes": {"a": 1}}), 404, "device_not_found")


def test_wrong_password_is_a_clear_502(api, new_user, tb):
    u = new_user()
    sb.expect_ok(put(api, u, config(tb, password="not-the-password")))
    resp = post(api, u, "rpc", {"device_id": THERMOSTAT, "method": "x"})
    err = sb.expect_error(resp, 502, "provider_rejected")
    assert "username or password" in err["message"] and "Authentication failed" in err["message"], err
    assert "not-the-password" not in resp.text
    v = sb.expect_ok(get(api, u))
    assert v["devices"] is None and "Authentication failed" in v["devices_error"], v
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=30))
    assert h["healthy"] is False and "Authentication failed" in json.dumps(h), h


def test_server_down_is_502(api, new_user, tb):
    u = new_user()
    sb.expect_ok(put(api, u, config(closed_server())))
    err = sb.expect_error(post(api, u, "attributes", {"device_id": THERMOSTAT, "attributes": {"a": 1}}), 502,
                          "provider_unavailable")
    assert "ThingsBoard server" in err["message"], err
    v = sb.expect_ok(get(api, u))
    assert v["devices"] is None and "ThingsBoard server" in v["devices_error"], v


def test_health_is_the_login(api, new_user, tb):
    u = new_user()
    sb.expect_ok(put(api, u, config(tb)))
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=30))
    assert h["healthy"] is True, h
    assert sb.expect_ok(get(api, u))["connected"] is True


@pytest.mark.parametrize("body,field", [
    ({"server_url": "https://tb.example", "username": "a"}, "password"),
    ({"server_url": "ftp://tb.example", "username": "a", "password": "b"}, "server_url"),
    ({"server_url": "https://tb.example/api", "username": "a", "password": "b"}, "server_url"),
    ({"server_url": "https://u:p@tb.example", "username": "a", "password": "b"}, "server_url"),
    ({"server_url": "https://tb.example", "password": "b"}, "username"),
    ({"server_url": "https://tb.example", "username": "a", "password": "b", "api_key": "x"}, "api_key"),
    ({"server_url": "https://tb.example", "username": "a", "password": 5}, "password"),
])
def test_invalid_config(api, new_user, body, field):
    err = sb.expect_error(put(api, new_user(), body), 422, "validation_failed")
    assert field in err["fields"], err


@pytest.mark.parametrize("action,body,field", [
    ("rpc", {"method": "x"}, "device_id"),
    ("rpc", {"device_id": "not-a-uuid", "method": "x"}, "device_id"),
    ("rpc", {"device_id": THERMOSTAT}, "method"),
    ("rpc", {"device_id": THERMOSTAT, "method": "x", "timeout": 5}, "timeout"),
    ("attributes", {"device_id": THERMOSTAT}, "attributes"),
    ("attributes", {"device_id": THERMOSTAT, "attributes": {}}, "attributes"),
    ("attributes", {"device_id": THERMOSTAT, "attributes": [1]}, "attributes"),
    ("attributes", {"device_id": THERMOSTAT, "attributes": {"a": 1}, "scope": "SERVER_SCOPE"}, "scope"),
])
def test_action_bodies_are_checked(api, new_user, tb, action, body, field):
    u = new_user()
    sb.expect_ok(put(api, u, config(tb)))
    err = sb.expect_error(post(api, u, action, body), 422, "validation_failed")
    assert field in err["fields"], err


def test_other_user_cannot_see_or_use_it(api, new_user, tb):
    owner, other = new_user(), new_user()
    sb.expect_ok(put(api, owner, config(tb)))
    sb.expect_error(get(api, other), 404, "not_found")
    sb.expect_error(post(api, other, "rpc", {"device_id": THERMOSTAT, "method": "x"}), 404, "not_found")
    sb.expect_error(requests.delete(url(api), headers=other.headers, timeout=sb.TIMEOUT), 404)
    assert sb.expect_ok(get(api, owner))["has_password"] is True


def test_private_address_is_refused(api, new_user, tb, stack):
    u = new_user()
    sb.expect_ok(put(api, u, config(tb)))
    env_file = os.path.join(os.environ["SB_VAR"], "switchboard.env")
    method = "guarded" + os.urandom(4).hex()

    def blocked():
        r = post(api, u, "rpc", {"device_id": THERMOSTAT, "method": "probe"})
        return r if r.status_code == 502 else None

    try:
        set_env_value(env_file, "SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "0")
        stack("restart", "integrations")
        assert sb.retry_until(blocked, timeout=10) is not None, "calls still reach 127.0.0.1 with the guard on"
        err = sb.expect_error(post(api, u, "rpc", {"device_id": THERMOSTAT, "method": method}), 502,
                              "address_blocked")
        assert "private" in err["message"], err
        v = sb.expect_ok(get(api, u))
        assert v["devices"] is None and "private" in v["devices_error"], v
    finally:
        set_env_value(env_file, "SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "1")
        stack("restart", "integrations")
    assert not [r for r in rpcs(tb) if r["method"] == method]


def test_server_too_slow_is_504(api, new_user, tb):
    u = new_user()
    sb.expect_ok(put(api, u, config(tb, ("slow@thingsboard.org", "slow-e2e-password"))))
    err = sb.expect_error(post(api, u, "rpc", {"device_id": THERMOSTAT, "method": "x"}), 504, "provider_timeout")
    assert "ThingsBoard server" in err["message"], err


def test_disabled_integration_refuses_actions(api, new_user, tb):
    u = new_user()
    sb.expect_ok(put(api, u, config(tb)))
    off = sb.expect_ok(requests.patch(url(api), json={"enabled": False}, headers=u.headers, timeout=sb.TIMEOUT))
    assert off["enabled"] is False and off["devices"] is None, off
    sb.expect_error(post(api, u, "rpc", {"device_id": THERMOSTAT, "method": "x"}), 409, "integration_disabled")
    sb.expect_ok(requests.patch(url(api), json={"enabled": True}, headers=u.headers, timeout=sb.TIMEOUT))
    sb.expect_ok(post(api, u, "rpc", {"device_id": THERMOSTAT, "method": "x"}))


def test_requires_authentication_and_scope(api, new_user, tb):
    sb.expect_error(requests.get(url(api), timeout=sb.TIMEOUT), 401)
    sb.expect_error(requests.post(url(api, "/rpc"), json={"device_id": THERMOSTAT, "method": "x"},
                                  timeout=sb.TIMEOUT), 401)
    u = new_user()
    key = sb.expect_ok(requests.post(api + "/api-keys", json={"name": "ro", "scopes": ["integrations:read"]},
                                     headers=u.headers, timeout=sb.TIMEOUT), 201)
    h = {"Authorization": f"Bearer {key['key']}"}
    sb.expect_error(requests.post(url(api, "/attributes"), json={"device_id": THERMOSTAT, "attributes": {"a": 1}},
                                  headers=h, timeout=sb.TIMEOUT), 403)
