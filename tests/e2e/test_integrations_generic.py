"""The generic routes of spec 003 (/integrations/connect, /callback, /status,
/{integration_id}, /health/all, /health/{integration_id}, /{integration_id}/refresh-token)
and spec 002 (/integrations/{type}/connect, /status, /sync, DELETE /integrations/{type}),
over the same operations as /users/me/integrations/{provider}: the same objects,
identified by integration_id, integration_type and name."""

import json
import urllib.parse
import uuid

import pytest
import requests

import oauthflow as of
import sb

SPA_CALLBACK = of.FRONTEND + "/integrations/callback"


def call(api, user, method, path, **kw):
    return requests.request(method, f"{api}{path}", headers=user.headers, timeout=30, **kw)


def mqtt_config(broker, **kw):
    body = {"enabled": True, "broker_url": f"mqtt://127.0.0.1:{broker.port}", "device_id": "dev-1",
            "topic_prefix": "lab/generic"}
    body.update(kw)
    return body


def saved_mqtt(api, user, broker):
    sb.expect_ok(call(api, user, "PUT", "/users/me/integrations/mqtt", json=mqtt_config(broker)))
    rows = sb.expect_ok(call(api, user, "GET", "/integrations/status", params={"integration_type": "mqtt"}))
    assert len(rows) == 1 and rows[0]["integration_type"] == "mqtt", rows
    return rows[0]["integration_id"]


def strip_ids(obj):
    return {k: v for k, v in obj.items() if k not in ("integration_id", "integration_type", "name")}


def no_success_true(resp):
    """No body of a failed callback carries "success": true, at any depth."""
    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                assert not (k == "success" and v is True), resp.text
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(resp.json())


# --- id-keyed and type-keyed views ---------------------------------------------------------------


def test_status_lists_every_integration_with_its_id(api, new_user, broker):
    u = new_user()
    iid = saved_mqtt(api, u, broker)
    assert sb.text_is_uuid(iid) if hasattr(sb, "text_is_uuid") else uuid.UUID(iid)
    everything = sb.expect_ok(call(api, u, "GET", "/integrations/status"))
    listed = sb.expect_ok(call(api, u, "GET", "/users/me/integrations"))
    assert [strip_ids(x) for x in everything] == listed
    assert sb.psql(f"SELECT id FROM user_integrations WHERE user_id = '{sb.sql_uuid(u.id)}' "
                   f"AND provider = 'mqtt'") == iid
    sb.expect_error(call(api, u, "GET", "/integrations/status", params={"integration_type": "nope"}), 404,
                    "not_found")
    assert sb.expect_ok(call(api, u, "GET", "/integrations/status", params={"integration_type": "github"})) == []


def test_get_by_id_and_by_type_is_the_provider_view(api, new_user, broker):
    u = new_user()
    iid = saved_mqtt(api, u, broker)
    view = sb.expect_ok(call(api, u, "GET", "/users/me/integrations/mqtt"))
    by_id = call(api, u, "GET", f"/integrations/{iid}")
    by_type = sb.expect_ok(call(api, u, "GET", "/integrations/mqtt"))
    data = sb.expect_ok(by_id)
    assert isinstance(by_id.json().get("message"), (str, type(None)))
    assert strip_ids(data) == view and strip_ids(by_type) == view
    assert data["integration_id"] == iid and data["integration_type"] == "mqtt" and data["name"] is None
    assert by_type["integration_id"] == iid


def test_another_users_id_and_unknown_keys_are_404(api, new_user, broker):
    a, b = new_user(), new_user()
    iid = saved_mqtt(api, a, broker)
    for method in ("GET", "DELETE"):
        sb.expect_error(call(api, b, method, f"/integrations/{iid}"), 404, "not_found")
    sb.expect_error(call(api, b, "PUT", f"/integrations/{iid}", json={"is_active": False}), 404, "not_found")
    sb.expect_error(call(api, b, "GET", f"/integrations/{uuid.uuid4()}"), 404, "not_found")
    sb.expect_error(call(api, b, "GET", "/integrations/no-such-type"), 404, "not_found")
    sb.expect_error(call(api, b, "GET", f"/integrations/health/{iid}"), 404, "not_found")
    sb.expect_ok(call(api, a, "GET", f"/integrations/{iid}"))  # untouched


def test_put_by_id_sets_name_and_is_active(api, new_user, broker):
    u = new_user()
    iid = saved_mqtt(api, u, broker)
    d = sb.expect_ok(call(api, u, "PUT", f"/integrations/{iid}", json={"name": "Lab broker", "is_active": False,
                                                                         "config": {}}))
    assert d["name"] == "Lab broker" and d["enabled"] is False and d["integration_id"] == iid, d
    again = sb.expect_ok(call(api, u, "GET", f"/integrations/{iid}"))
    assert again["name"] == "Lab broker" and again["enabled"] is False
    assert sb.expect_ok(call(api, u, "GET", "/integrations/status"))[0]["name"] == "Lab broker"
    d = sb.expect_ok(call(api, u, "PUT", f"/integrations/{iid}", json={"name": None, "is_active": True}))
    assert d["name"] is None and d["enabled"] is True


@pytest.mark.parametrize("body,fields", [
    ({"is_active": "yes"}, {"is_active"}),
    ({"name": ""}, {"name"}),
    ({"name": "x" * 201}, {"name"}),
    ({"name": 5}, {"name"}),
    ({"config": []}, {"config"}),
    ({"config": {"broker_url": "mqtt://x"}}, {"config.broker_url"}),
    ({"surprise": 1}, {"surprise"}),
])
def test_put_by_id_is_validated(api, new_user, broker, body, fields):
    u = new_user()
    iid = saved_mqtt(api, u, broker)
    err = sb.expect_error(call(api, u, "PUT", f"/integrations/{iid}", json=body), 422, "validation_failed")
    assert set(err["fields"]) == fields, err


def test_put_by_id_config_holds_the_provider_settings(api, new_user):
    u = new_user()
    assert of.connect(api, u, "github", fake_user=of.new_login()).status_code == 302
    iid = sb.expect_ok(call(api, u, "GET", "/integrations/status", params={"integration_type": "github"}))[0][
        "integration_id"]
    d = sb.expect_ok(call(api, u, "PUT", f"/integrations/{iid}", json={"config": {"auto_sync": True}}))
    assert d["auto_sync"] is True, d
    assert sb.expect_ok(call(api, u, "GET", "/users/me/integrations/github"))["auto_sync"] is True


def test_delete_by_id_and_by_type(api, new_user, broker):
    u = new_user()
    iid = saved_mqtt(api, u, broker)
    d = sb.expect_ok(call(api, u, "DELETE", f"/integrations/{iid}"))
    assert d["integration_id"] == iid and d["integration_type"] == "mqtt"
    sb.expect_error(call(api, u, "GET", f"/integrations/{iid}"), 404, "not_found")
    saved_mqtt(api, u, broker)
    sb.expect_ok(call(api, u, "DELETE", "/integrations/mqtt"))
    sb.expect_error(call(api, u, "GET", "/users/me/integrations/mqtt"), 404, "not_found")


# --- health ----------------------------------------------------------------------------------------


def test_health_all_and_one(api, new_user, broker):
    u = new_user()
    iid = saved_mqtt(api, u, broker)
    one = sb.expect_ok(call(api, u, "GET", f"/integrations/health/{iid}"))
    assert one["integration_id"] == iid and one["provider"] == "mqtt" and one["status"] == "active", one
    assert one["history"], one
    every = sb.expect_ok(call(api, u, "GET", "/integrations/health/all"))
    assert every == sb.expect_ok(call(api, u, "GET", "/users/me/integrations/health"))
    assert [h["provider"] for h in every] == ["mqtt"]


# --- refresh-token ---------------------------------------------------------------------------------


def test_refresh_token_by_id(api, new_user, broker):
    u = new_user()
    login = of.new_login()
    assert of.connect(api, u, "google", fake_user=login).status_code == 302
    iid = sb.expect_ok(call(api, u, "GET", "/integrations/status", params={"integration_type": "google"}))[0][
        "integration_id"]
    d = sb.expect_ok(call(api, u, "POST", f"/integrations/{iid}/refresh-token",
                          json={"integration_id": iid, "force": True}))
    assert d["refreshed"] is True and d["integration_id"] == iid, d
    assert of.counter("google", "refreshes", login) == 1
    err = sb.expect_error(call(api, u, "POST", f"/integrations/{iid}/refresh-token",
                               json={"integration_id": str(uuid.uuid4()), "force": True}), 422, "validation_failed")
    assert set(err["fields"]) == {"integration_id"}
    mid = saved_mqtt(api, u, broker)
    sb.expect_error(call(api, u, "POST", f"/integrations/{mid}/refresh-token", json={"force": True}), 404,
                    "not_found")


def test_refresh_of_a_disabled_integration_is_refused_without_calling_the_provider(api, new_user):
    # Regression: a paused (disabled) OAuth integration still exchanged its refresh token at
    # the provider when asked to, by type and by id; now 409 integration_disabled, no call.
    u = new_user()
    login = of.new_login()
    assert of.connect(api, u, "google", fake_user=login).status_code == 302
    iid = sb.expect_ok(call(api, u, "GET", "/integrations/status", params={"integration_type": "google"}))[0][
        "integration_id"]
    sb.expect_ok(call(api, u, "PATCH", "/users/me/integrations/google", json={"enabled": False}))
    for path in ("/users/me/integrations/google/refresh-token", f"/integrations/{iid}/refresh-token"):
        err = sb.expect_error(call(api, u, "POST", path, json={"force": True}), 409, "integration_disabled")
        assert "disabled" in err["message"], err
    assert of.counter("google", "refreshes", login) == 0
    sb.expect_ok(call(api, u, "PATCH", "/users/me/integrations/google", json={"enabled": True}))
    assert sb.expect_ok(call(api, u, "POST", f"/integrations/{iid}/refresh-token", json={"force": True}))["refreshed"]
    assert of.counter("google", "refreshes", login) == 1


# --- spec 002: type-keyed --------------------------------------------------------------------------


def test_type_connect_saves_a_config_provider_and_status_follows(api, new_user, broker):
    u = new_user()
    st = sb.expect_ok(call(api, u, "GET", "/integrations/mqtt/status"))
    assert st["configured"] is False and st["connected"] is False and st["integration_id"] is None, st
    d = sb.expect_ok(call(api, u, "POST", "/integrations/mqtt/connect", json=mqtt_config(broker)))
    assert d["broker_url"] == f"mqtt://127.0.0.1:{broker.port}" and sb.expect_ok(
        call(api, u, "GET", "/users/me/integrations/mqtt"))["device_id"] == "dev-1"
    st = sb.expect_ok(call(api, u, "GET", "/integrations/mqtt/status"))
    assert st["configured"] is True and st["integration_id"] == d["integration_id"], st
    listed = sb.expect_ok(call(api, u, "GET", "/users/me/integrations"))
    assert strip_ids({k: v for k, v in st.items() if k != "configured"}) == listed[0]
    err = sb.expect_error(call(api, u, "POST", "/integrations/mqtt/connect", json={"enabled": True}), 422,
                          "validation_failed")
    assert "broker_url" in err["fields"]
    sb.expect_error(call(api, u, "POST", "/integrations/nope/connect", json={}), 404, "not_found")


def test_type_connect_of_an_oauth_provider_starts_the_flow(api, new_user):
    u = new_user()
    d = sb.expect_ok(call(api, u, "POST", "/integrations/github/connect"))
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(d["authorization_url"]).query))
    assert q["state"] == d["state"] and q["redirect_uri"].endswith("/api/v1/auth/github/callback"), q


def test_type_sync_runs_the_providers_sync(api, new_user, broker):
    u = new_user()
    assert of.connect(api, u, "github", fake_user=of.new_login()).status_code == 302
    # The same validation as POST /users/me/integrations/github/sync.
    err = sb.expect_error(call(api, u, "POST", "/integrations/github/sync", json={}), 422, "validation_failed")
    assert {"repository_id", "project_ids"} <= set(err["fields"])
    saved_mqtt(api, u, broker)
    sb.expect_error(call(api, u, "POST", "/integrations/mqtt/sync", json={}), 404, "not_found")


# --- spec 003: connect and callback for single-page apps ------------------------------------------


def spa_start(api, user, browser, **body):
    body.setdefault("integration_type", "github")
    body.setdefault("redirect_uri", SPA_CALLBACK)
    return browser.post(f"{api}/integrations/connect", json=body, headers=user.headers, timeout=sb.TIMEOUT)


def test_spa_connect_and_callback(api, new_user):
    u = new_user()
    browser = requests.Session()
    login = of.new_login()
    d = sb.expect_ok(spa_start(api, u, browser, scopes=["gist", "repo"]))
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(d["authorization_url"]).query))
    assert q["redirect_uri"] == SPA_CALLBACK and q["state"] == d["state"], q
    scopes = q["scope"].split(" ")
    assert "gist" in scopes and scopes.count("repo") == 1, q
    back = of.authorize(d["authorization_url"], login)
    parts = urllib.parse.urlsplit(back)
    assert back.startswith(SPA_CALLBACK + "?"), back
    cq = dict(urllib.parse.parse_qsl(parts.query))
    r = browser.get(f"{api}/integrations/callback", params={"code": cq["code"], "state": cq["state"],
                                                            "integration_type": "github"}, timeout=sb.TIMEOUT)
    data = sb.expect_ok(r)
    assert data["success"] is True and data["integration_type"] == "github", data
    assert data["redirect_url"] == of.FRONTEND + "/settings/integrations?connected=github"
    row = sb.expect_ok(call(api, u, "GET", "/integrations/status", params={"integration_type": "github"}))[0]
    assert data["integration_id"] == row["integration_id"] and row["connected"] is True
    view = sb.expect_ok(call(api, u, "GET", f"/integrations/{data['integration_id']}"))
    assert view["username"] == login
    # The state is single-use.
    r = browser.get(f"{api}/integrations/callback", params={"code": cq["code"], "state": cq["state"],
                                                            "integration_type": "github"}, timeout=sb.TIMEOUT)
    sb.expect_error(r, 400, "state_reused")
    no_success_true(r)


def test_spa_callback_with_a_bad_state_never_says_success(api, new_user):
    u = new_user()
    browser = requests.Session()
    d = sb.expect_ok(spa_start(api, u, browser))
    back = of.authorize(d["authorization_url"], of.new_login())
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))["code"]
    cases = [
        ({"code": code, "state": "x" * 43, "integration_type": "github"}, 400),
        ({"code": code, "integration_type": "github"}, 400),
        ({"code": code, "state": d["state"], "integration_type": "google"}, 400),  # another provider's state
    ]
    for params, status in cases:
        r = browser.get(f"{api}/integrations/callback", params=params, timeout=sb.TIMEOUT)
        assert r.status_code == status, r.text
        assert r.json()["success"] is False
        no_success_true(r)
    # Another browser (no binding cookie) cannot finish a fresh flow.
    d = sb.expect_ok(spa_start(api, u, browser))
    back = of.authorize(d["authorization_url"], of.new_login())
    cq = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))
    r = requests.get(f"{api}/integrations/callback", params={**cq, "integration_type": "github"}, timeout=sb.TIMEOUT)
    assert r.status_code == 400 and r.json()["success"] is False, r.text
    no_success_true(r)
    assert sb.expect_ok(call(api, u, "GET", "/integrations/status", params={"integration_type": "github"})) == []
    # The provider's refusal is not a success either.
    d = sb.expect_ok(spa_start(api, u, browser))
    back = of.authorize(d["authorization_url"], deny=True)
    cq = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))
    r = browser.get(f"{api}/integrations/callback", params={**cq, "integration_type": "github"}, timeout=sb.TIMEOUT)
    assert r.status_code == 400 and r.json()["success"] is False, r.text
    no_success_true(r)


@pytest.mark.parametrize("body,field", [
    ({"redirect_uri": "https://evil.example/integrations/callback"}, "redirect_uri"),
    ({"redirect_uri": SPA_CALLBACK + "/"}, "redirect_uri"),
    ({"integration_type": "nope"}, "integration_type"),
    ({"integration_type": None}, "integration_type"),
    ({"scopes": "repo"}, "scopes"),
    ({"scopes": ["has space"]}, "scopes"),
])
def test_spa_connect_is_validated(api, new_user, body, field):
    u = new_user()
    err = sb.expect_error(spa_start(api, u, requests.Session(), **body), 422, "validation_failed")
    assert set(err["fields"]) == {field}, err


def test_spa_connect_of_a_config_provider_is_refused(api, new_user):
    u = new_user()
    sb.expect_error(spa_start(api, u, requests.Session(), integration_type="mqtt"), 400, "not_oauth")
    sb.expect_error(requests.post(f"{api}/integrations/connect", json={"integration_type": "github"},
                                  timeout=sb.TIMEOUT), 401, "unauthorized")
