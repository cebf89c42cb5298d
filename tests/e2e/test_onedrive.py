"""OneDrive export (POST .../microsoft/onedrive/export) through Microsoft Graph's simple
upload, against the fake Microsoft identity platform + Graph (DriveItem answers, Graph's
error object, the bearer checked)."""

import json
import uuid

import requests

import oauthflow as of
import sb
from test_connect_sync import post, project


def connected(api, new_user):
    u = new_user()
    login = of.new_login("ms")
    assert of.connect(api, u, "microsoft", fake_user=login).status_code == 302
    return u, login


def files(login):
    return {f["name"]: f for f in requests.get(of.fake_url("microsoft") + f"/_fake/files/{login}", timeout=sb.TIMEOUT).json()}


def test_export_uploads_each_project_as_a_drive_item(api, new_user):
    u, login = connected(api, new_user)
    p1 = project(u, "Greenhouse", {"sensors": 3})
    p2 = project(u, "Door bell", {"pins": [2]})
    d = sb.expect_ok(post(api, u, "microsoft/onedrive/export", {"project_ids": [p1, p2]}))
    by = {f["name"]: f for f in d["files"]}
    assert set(by) == {"Greenhouse.json", "Door bell.json"}
    assert all(f["status"] == "uploaded" and f["file_id"] and f["web_url"].startswith("https://") for f in d["files"])
    up = files(login)
    assert json.loads(up["Greenhouse.json"]["content"])["content"] == {"sensors": 3}
    assert up["Door bell.json"]["file"]["mimeType"] == "application/json"
    assert up["Greenhouse.json"]["id"] == by["Greenhouse.json"]["file_id"]
    # Again: Graph replaces the item (200), same id.
    again = sb.expect_ok(post(api, u, "microsoft/onedrive/export", {"project_ids": [p1]}))
    assert again["files"][0]["file_id"] == by["Greenhouse.json"]["file_id"]
    assert sb.psql(f"SELECT count(*) FROM audit_events WHERE user_id = '{sb.sql_uuid(u.id)}' "
                   f"AND action = 'integration.exported' AND provider = 'microsoft'") == "2"


def test_export_refusals(api, new_user):
    u = new_user()
    p1 = project(u, "Lonely", {})
    sb.expect_error(post(api, u, "microsoft/onedrive/export", {"project_ids": [p1]}), 404, "not_found")
    u, login = connected(api, new_user)
    other = new_user()
    theirs = project(other, "Theirs", {})
    sb.expect_error(post(api, u, "microsoft/onedrive/export", {"project_ids": [theirs]}), 404, "project_not_found")
    sb.expect_error(post(api, u, "microsoft/onedrive/export", {"project_ids": [str(uuid.uuid4())]}), 404,
                    "project_not_found")
    e = sb.expect_error(post(api, u, "microsoft/onedrive/export", {}), 422, "validation_failed")
    assert "project_ids" in e["fields"]
    sb.expect_error(post(api, u, "microsoft/onedrive/export", {"project_ids": [p1], "folder": "x"}), 422)
    assert files(login) == {}


def test_oversize_project_is_413_before_any_upload(api, new_user):
    u, login = connected(api, new_user)
    pid = str(uuid.uuid4())
    sb.psql(f"INSERT INTO projects (id, user_id, name, content) VALUES ('{pid}', '{sb.sql_uuid(u.id)}', 'Huge', "
            f"jsonb_build_object('blob', repeat('x', 4194305)))")
    e = sb.expect_error(post(api, u, "microsoft/onedrive/export", {"project_ids": [pid]}), 413, "file_too_large")
    assert "4194304" in e["message"]
    assert of.counter("microsoft", "uploads", login) == 0


def test_graph_failures_are_502_with_graphs_reason(api, new_user):
    u, login = connected(api, new_user)
    p1 = project(u, "Flaky", {})
    requests.post(of.fake_url("microsoft") + f"/_fake/graph-fail/{login}", json={"status": 503}, timeout=sb.TIMEOUT)
    e = sb.expect_error(post(api, u, "microsoft/onedrive/export", {"project_ids": [p1]}), 502)
    requests.post(of.fake_url("microsoft") + f"/_fake/graph-fail/{login}", json={"status": None}, timeout=sb.TIMEOUT)
    # The fake checks the bearer: a token Microsoft no longer accepts is Graph's 401 -> 502.
    requests.post(of.fake_url("microsoft") + f"/_fake/revoke-access/{login}", timeout=sb.TIMEOUT)
    e = sb.expect_error(post(api, u, "microsoft/onedrive/export", {"project_ids": [p1]}), 502)
    assert "401" in e["message"] and "InvalidAuthenticationToken" in e["message"]
    assert sb.psql(f"SELECT count(*) FROM audit_events WHERE user_id = '{sb.sql_uuid(u.id)}' "
                   f"AND action = 'integration.export_failed' AND provider = 'microsoft'") == "2"


def test_token_refused_renewal_is_409(api, new_user):
    u, login = connected(api, new_user)
    p1 = project(u, "Expiring", {})
    of.set_user("microsoft", login, refresh_mode="refuse")
    sb.psql(f"UPDATE user_integrations SET token_expires_at = now() + interval '1 minute' "
            f"WHERE user_id = '{sb.sql_uuid(u.id)}' AND provider = 'microsoft'")
    sb.expect_error(post(api, u, "microsoft/onedrive/export", {"project_ids": [p1]}), 409, "integration_expired")


def test_export_of_a_disabled_integration_is_409_without_calling_microsoft(api, new_user):
    u, login = connected(api, new_user)
    p1 = project(u, "Paused", {})
    off = sb.expect_ok(requests.patch(f"{api}/users/me/integrations/microsoft", json={"enabled": False},
                                      headers=u.headers, timeout=sb.TIMEOUT))
    assert off["enabled"] is False, off
    calls = lambda: {k: v for k, v in of.fake_state("microsoft")["counters"].items() if k.endswith(":" + login)}
    before = calls()
    err = sb.expect_error(post(api, u, "microsoft/onedrive/export", {"project_ids": [p1]}), 409,
                          "integration_disabled")
    assert "disabled" in err["message"], err
    assert files(login) == {} and calls() == before
    sb.expect_ok(requests.patch(f"{api}/users/me/integrations/microsoft", json={"enabled": True},
                                headers=u.headers, timeout=sb.TIMEOUT))
    assert [f["name"] for f in sb.expect_ok(post(api, u, "microsoft/onedrive/export", {"project_ids": [p1]}))["files"]] \
        == ["Paused.json"]
