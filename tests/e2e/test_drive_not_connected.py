"""Issue 11: what the Google Drive routes answer when Google is not usable, decided once for
every provider operation. Not connected (no Google integration, or disconnected) is
404 `not_found` "This integration is not connected", the answer of Drive export, OneDrive
export, GitHub sync and every other provider operation (the integration is a resource the
user has not created; PRODUCT.md's 409 is for a state of one that exists). Connected but
disabled is 409 `integration_disabled`, as for ThingsBoard, Blynk, Arduino Cloud and the
MQTT relay, and Google is not called; enabled again, the routes work."""

import requests

import oauthflow as of
import sb
from test_connect_sync import post, project
from test_google_drive import add_file, connected, get

NOT_CONNECTED = "This integration is not connected"


def google_calls(login):
    return sum(of.counter("google", k, login) for k in ("lists", "downloads", "exports", "uploads"))


def drive_calls(api, u, p1):
    return [get(api, u), get(api, u, "/abc/content"), post(api, u, "google/drive/export", {"project_ids": [p1]})]


def test_not_connected_is_the_same_404_on_import_export_and_other_providers(api, new_user):
    u = new_user()
    p1 = project(u, "Nowhere", {})
    for r in drive_calls(api, u, p1):
        err = sb.expect_error(r, 404, "not_found")
        assert err["message"] == NOT_CONNECTED, (r.url, err)
    others = [post(api, u, "microsoft/onedrive/export", {"project_ids": [p1]}),
              post(api, u, "github/sync", {"repository_id": 1, "project_ids": [p1]})]
    for r in others:
        assert sb.expect_error(r, 404, "not_found")["message"] == NOT_CONNECTED, r.url


def test_disconnected_is_404_again(api, new_user):
    u, login = connected(api, new_user)
    add_file(login, "a.txt", content="a")
    assert [f["name"] for f in sb.expect_ok(get(api, u))["files"]] == ["a.txt"]
    sb.expect_ok(requests.delete(api + "/users/me/integrations/google", headers=u.headers, timeout=sb.TIMEOUT))
    p1 = project(u, "Gone", {})
    for r in drive_calls(api, u, p1):
        assert sb.expect_error(r, 404, "not_found")["message"] == NOT_CONNECTED, r.url


def test_disabled_is_409_and_google_is_not_called(api, new_user):
    u, login = connected(api, new_user)
    fid = add_file(login, "b.txt", content="b")
    p1 = project(u, "Off", {"x": 1})
    off = requests.patch(api + "/users/me/integrations/google", json={"enabled": False}, headers=u.headers,
                         timeout=sb.TIMEOUT)
    sb.expect_ok(off)
    before = google_calls(login)
    for r in drive_calls(api, u, p1) + [get(api, u, f"/{fid}/content")]:
        err = sb.expect_error(r, 409, "integration_disabled")
        assert "disabled" in err["message"], err
    assert google_calls(login) == before
    sb.expect_ok(requests.patch(api + "/users/me/integrations/google", json={"enabled": True}, headers=u.headers,
                                timeout=sb.TIMEOUT))
    assert sb.expect_ok(get(api, u, f"/{fid}/content"))["content"] == "b"
    assert google_calls(login) > before
    sb.expect_ok(post(api, u, "google/drive/export", {"project_ids": [p1]}))
