"""The integrations group outside one provider's config: the public catalog, the
caller's list of integrations with their status, authentication, unknown providers and
methods."""

import pytest
import requests

import sb

STATUS_KEYS = {"provider", "connected", "enabled", "connected_at", "last_used_at", "status", "last_error",
               "last_checked_at", "health_status"}


def catalog(api, headers=None):
    return requests.get(api + "/integrations", headers=headers or {}, timeout=sb.TIMEOUT)


def mine(api, user):
    return requests.get(api + "/users/me/integrations", headers=user.headers, timeout=sb.TIMEOUT)


def mqtt_config(broker, **overrides):
    body = {
        "enabled": True,
        "broker_url": f"mqtt://127.0.0.1:{broker.auth_port}",
        "use_authentication": True,
        "username": broker.user,
        "password": broker.password,
        "device_id": "lab-device-1",
        "topic_prefix": "lab/e2e",
    }
    body.update(overrides)
    return body


def put_mqtt(api, user, body):
    return requests.put(api + "/users/me/integrations/mqtt", json=body, headers=user.headers, timeout=sb.TIMEOUT)


def mqtt_entry(data):
    entries = [e for e in data if e.get("provider") == "mqtt"]
    assert len(entries) == 1, data
    return entries[0]


# --- catalog ----------------------------------------------------------------------------------


def test_catalog_is_public_and_lists_mqtt(api, broker):
    data = sb.expect_ok(catalog(api))
    assert isinstance(data, list) and data, data
    providers = [e["provider"] for e in data]
    assert len(providers) == len(set(providers)), providers
    e = mqtt_entry(data)
    assert e["auth_type"] == "config", e
    assert isinstance(e["name"], str) and e["name"], e
    assert isinstance(e["description"], str) and e["description"], e
    assert e.get("available") is True, e
    assert e["default_broker_url"] == f"mqtt://127.0.0.1:{broker.port}", e
    assert {"mqtt", "mqtts", "ws", "wss"} <= set(e["url_schemes"]), e


def test_catalog_config_fields_mark_only_the_password_secret(api):
    e = mqtt_entry(sb.expect_ok(catalog(api)))
    fields = {f["name"]: f for f in e["config_fields"]}
    assert {"broker_url", "username", "password", "use_authentication", "device_id", "topic_prefix"} <= set(fields)
    for f in fields.values():
        assert set(f) >= {"name", "type", "required", "secret"}, f
        assert f["secret"] is (f["name"] == "password"), f
    assert fields["password"]["type"] == "string"
    assert fields["broker_url"]["type"] == "string"
    assert fields["use_authentication"]["type"] == "boolean"
    assert fields["device_id"]["max_length"] == 128
    # The catalog never carries anyone's configuration.
    assert "password_encrypted" not in str(e)


def test_catalog_is_the_same_with_a_token(api, new_user):
    assert sb.expect_ok(catalog(api, new_user().headers)) == sb.expect_ok(catalog(api))


# --- the caller's integrations -----------------------------------------------------------------


def test_my_integrations_empty_then_mqtt_after_a_put(api, new_user, broker):
    u = new_user()
    assert sb.expect_ok(mine(api, u)) == []

    sb.expect_ok(put_mqtt(api, u, mqtt_config(broker)))
    items = sb.expect_ok(mine(api, u))
    assert len(items) == 1, items
    it = items[0]
    assert set(it) >= STATUS_KEYS, it
    assert it["provider"] == "mqtt"
    assert it["connected"] is False
    assert it["enabled"] is True
    assert it["status"] == "disconnected"
    assert it["last_error"] is None
    assert it["last_checked_at"] is None
    assert sb.RFC3339_UTC_RE.match(it["connected_at"]), it
    for key in ("password", "password_encrypted", "config"):
        assert key not in it, it
    assert broker.password not in mine(api, u).text


def test_my_integrations_shows_connected_after_a_successful_saved_test(api, new_user, broker):
    u = new_user()
    sb.expect_ok(put_mqtt(api, u, mqtt_config(broker)))
    result = sb.expect_ok(
        requests.post(api + "/users/me/integrations/mqtt/test", headers=u.headers, timeout=sb.TIMEOUT)
    )
    assert result["connected"] is True, result
    (it,) = sb.expect_ok(mine(api, u))
    assert it["connected"] is True, it
    assert it["status"] == "connected", it
    assert it["last_error"] is None, it
    assert sb.RFC3339_UTC_RE.match(it["last_checked_at"]), it
    assert sb.RFC3339_UTC_RE.match(it["last_used_at"]), it


def test_my_integrations_shows_a_disabled_integration(api, new_user):
    u = new_user()
    sb.expect_ok(put_mqtt(api, u, {"enabled": False}))
    (it,) = sb.expect_ok(mine(api, u))
    assert it["provider"] == "mqtt" and it["enabled"] is False and it["connected"] is False, it


def test_the_list_and_health_never_disagree_on_a_disabled_integration(api, new_user, broker):
    """A row that tested connected and was then disabled: the list says what /health says."""
    u = new_user()
    sb.expect_ok(put_mqtt(api, u, mqtt_config(broker)))
    sb.expect_ok(requests.post(api + "/users/me/integrations/mqtt/test", headers=u.headers, timeout=sb.TIMEOUT))
    (it,) = sb.expect_ok(mine(api, u))
    assert (it["connected"], it["health_status"]) == (True, "active"), it
    sb.expect_ok(requests.patch(api + "/users/me/integrations/mqtt", json={"enabled": False}, headers=u.headers,
                                timeout=sb.TIMEOUT))
    resp = mine(api, u)
    (it,) = sb.expect_ok(resp)
    assert resp.json()["message"], resp.json()
    health = sb.expect_ok(requests.get(api + "/users/me/integrations/health", headers=u.headers,
                                       timeout=sb.TIMEOUT))
    (h,) = [x for x in (health if isinstance(health, list) else health["integrations"]) if x["provider"] == "mqtt"]
    assert it["connected"] is False and it["enabled"] is False, it
    assert it["health_status"] == h["status"] == "inactive", (it, h)


def test_my_integrations_lists_only_my_own(api, new_user, broker):
    a, b = new_user(), new_user()
    sb.expect_ok(put_mqtt(api, a, mqtt_config(broker)))
    assert sb.expect_ok(mine(api, b)) == []
    assert [i["provider"] for i in sb.expect_ok(mine(api, a))] == ["mqtt"]


# --- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/users/me/integrations"),
        ("GET", "/users/me/integrations/mqtt"),
        ("PUT", "/users/me/integrations/mqtt"),
        ("DELETE", "/users/me/integrations/mqtt"),
        ("POST", "/users/me/integrations/mqtt/test"),
        ("GET", "/users/me/integrations/nosuchprovider"),
    ],
)
def test_401_without_a_token(api, method, path):
    kwargs = {"json": {"enabled": False}} if method in ("PUT", "POST") else {}
    resp = requests.request(method, api + path, timeout=sb.TIMEOUT, **kwargs)
    sb.expect_error(resp, 401, "unauthorized")
    assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer"), resp.headers


def test_401_with_a_bad_token(api):
    resp = requests.get(api + "/users/me/integrations", headers=sb.bearer("not.a.token"), timeout=sb.TIMEOUT)
    sb.expect_error(resp, 401, "unauthorized")


# --- unknown providers and methods -------------------------------------------------------------


@pytest.fixture(scope="module")
def user(new_user):
    return new_user()


@pytest.mark.parametrize("provider", ["nosuchprovider", "mqtt2", "mqt"])
def test_unknown_provider_is_404(api, user, provider):
    url = f"{api}/users/me/integrations/{provider}"
    sb.expect_error(requests.get(url, headers=user.headers, timeout=sb.TIMEOUT), 404, "not_found")
    body = {"broker_url": "mqtt://broker.example.com", "device_id": "d", "topic_prefix": "t"}
    sb.expect_error(requests.put(url, json=body, headers=user.headers, timeout=sb.TIMEOUT), 404, "not_found")
    sb.expect_error(requests.delete(url, headers=user.headers, timeout=sb.TIMEOUT), 404, "not_found")
    # Nothing was created for it.
    assert sb.expect_ok(mine(api, user)) == []


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("POST", "/users/me/integrations/mqtt", {"GET", "PUT", "DELETE"}),
        ("PATCH", "/users/me/integrations/mqtt/test", {"POST"}),
        ("GET", "/users/me/integrations/mqtt/test", {"POST"}),
        ("POST", "/users/me/integrations", {"GET"}),
        ("DELETE", "/users/me/integrations", {"GET"}),
        ("POST", "/integrations", {"GET"}),
    ],
)
def test_wrong_method_is_405_with_allow(api, user, method, path, allow):
    resp = requests.request(method, api + path, json={}, headers=user.headers, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 405, "method_not_allowed")
    allowed = {m.strip() for m in resp.headers.get("Allow", "").split(",") if m.strip()}
    assert allow <= allowed, resp.headers
    assert method not in allowed, resp.headers


def test_wrong_method_is_405_even_without_a_token(api):
    resp = requests.post(api + "/users/me/integrations/mqtt", json={}, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 405, "method_not_allowed")
    assert "PUT" in resp.headers.get("Allow", ""), resp.headers
