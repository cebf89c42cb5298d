"""Google Drive import (GET .../google/drive/files, .../google/drive/files/{id}/content) and
the export read back through it, against the fake Google speaking Drive v3 (files.list,
files.get with alt=media, files.export) and checking the bearer token."""

import base64
import json

import requests

import oauthflow as of
import sb
from test_connect_sync import post, project

BASE = "/users/me/integrations/google/drive/files"


def get(api, user, path="", **params):
    return requests.get(f"{api}{BASE}{path}", params=params, headers=user.headers, timeout=sb.TIMEOUT)


def connected(api, new_user):
    u = new_user()
    login = of.new_login("drv")
    assert of.connect(api, u, "google", fake_user=login).status_code == 302
    return u, login


def add_file(login, name, mime="text/plain", **content):
    r = requests.post(of.fake_url("google") + f"/_fake/files/{login}", json={"name": name, "mimeType": mime, **content},
                      timeout=sb.TIMEOUT)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_export_then_list_and_read_back(api, new_user):
    u, login = connected(api, new_user)
    p1 = project(u, "Roundtrip", {"pins": [1, 2]})
    d = sb.expect_ok(post(api, u, "google/drive/export", {"project_ids": [p1]}))
    fid = d["files"][0]["file_id"]
    listed = sb.expect_ok(get(api, u))
    assert [f["id"] for f in listed["files"]] == [fid]
    f = listed["files"][0]
    assert f["name"] == "Roundtrip.json" and f["mimeType"] == "application/json"
    assert f["size"].isdigit() and f["modifiedTime"].endswith("Z")  # Drive's int64 as a string
    assert listed["nextPageToken"] is None
    c = sb.expect_ok(get(api, u, f"/{fid}/content"))
    assert c["encoding"] == "utf-8" and c["exported_as"] is None and c["file"]["id"] == fid
    assert json.loads(c["content"])["content"] == {"pins": [1, 2]}
    assert c["size"] == int(f["size"])
    assert of.counter("google", "downloads", login) == 1


def test_list_pages_and_filters(api, new_user):
    u, login = connected(api, new_user)
    for n in ("a-sketch.ino", "b-notes.txt", "c-sketch.ino"):
        add_file(login, n)
    first = sb.expect_ok(get(api, u, page_size=2))
    assert [f["name"] for f in first["files"]] == ["a-sketch.ino", "b-notes.txt"] and first["nextPageToken"]
    second = sb.expect_ok(get(api, u, page_size=2, page_token=first["nextPageToken"]))
    assert [f["name"] for f in second["files"]] == ["c-sketch.ino"] and second["nextPageToken"] is None
    only = sb.expect_ok(get(api, u, q="name contains 'sketch' and trashed = false"))
    assert [f["name"] for f in only["files"]] == ["a-sketch.ino", "c-sketch.ino"]
    assert set(only["files"][0]) == {"id", "name", "mimeType", "modifiedTime", "size"}


def test_list_refuses_bad_parameters(api, new_user):
    u, _ = connected(api, new_user)
    e = sb.expect_error(get(api, u, page_size=0, q="x" * 2001), 422, "validation_failed")
    assert set(e["fields"]) == {"page_size", "q"}
    # Drive refuses the query syntax or the page token: Drive's word on the field.
    e = sb.expect_error(get(api, u, q="name likes 'x'"), 422, "validation_failed")
    assert set(e["fields"]) == {"q"} and "Invalid Value" in e["fields"]["q"]
    e = sb.expect_error(get(api, u, page_token="not-a-drive-token"), 422, "validation_failed")
    assert set(e["fields"]) == {"page_token"}


def test_content_text_binary_and_workspace_export(api, new_user):
    u, login = connected(api, new_user)
    raw = bytes(range(256))
    bid = add_file(login, "firmware.bin", "application/octet-stream", content_b64=base64.b64encode(raw).decode())
    c = sb.expect_ok(get(api, u, f"/{bid}/content"))
    assert c["encoding"] == "base64" and base64.b64decode(c["content"]) == raw and c["size"] == 256
    doc = add_file(login, "Wiring notes", "application/vnd.google-apps.document", content="Pin 13 is the LED")
    c = sb.expect_ok(get(api, u, f"/{doc}/content"))
    assert c["exported_as"] == "text/plain" and c["content"] == "Pin 13 is the LED"
    assert "size" not in c["file"]  # Drive gives Workspace files no size
    assert of.counter("google", "exports", login) == 1
    folder = add_file(login, "Projects", "application/vnd.google-apps.folder")
    sb.expect_error(get(api, u, f"/{folder}/content"), 415, "unsupported_file_type")


def test_content_over_the_limit_is_413(api, new_user):
    u, login = connected(api, new_user)
    big = add_file(login, "huge.txt", content="x" * (1048576 + 1))
    e = sb.expect_error(get(api, u, f"/{big}/content"), 413, "file_too_large")
    assert "1048576" in e["message"]
    assert of.counter("google", "downloads", login) == 0  # refused on the metadata, nothing downloaded
    big_doc = add_file(login, "Huge doc", "application/vnd.google-apps.document", content="y" * (1048576 + 1))
    sb.expect_error(get(api, u, f"/{big_doc}/content"), 413, "file_too_large")  # the export passed the cap


def test_unknown_and_other_users_files_are_404(api, new_user):
    u, login = connected(api, new_user)
    other, other_login = connected(api, new_user)
    theirs = add_file(other_login, "theirs.txt", content="secret")
    sb.expect_error(get(api, u, f"/{theirs}/content"), 404, "file_not_found")  # our token, Drive says notFound
    sb.expect_error(get(api, u, "/doesNotExist123/content"), 404, "file_not_found")
    sb.expect_error(get(api, u, "/bad%20id/content"), 404, "file_not_found")
    assert sb.expect_ok(get(api, u))["files"] == []
    assert [f["name"] for f in sb.expect_ok(get(api, other))["files"]] == ["theirs.txt"]


def test_not_connected_expired_and_refreshed(api, new_user):
    u = new_user()
    sb.expect_error(get(api, u), 404, "not_found")
    sb.expect_error(get(api, u, "/abc/content"), 404, "not_found")
    u, login = connected(api, new_user)
    add_file(login, "kept.txt", content="k")
    # Due for refresh: refreshed first, then Drive is called with the new token.
    sb.psql(f"UPDATE user_integrations SET token_expires_at = now() + interval '1 minute' "
            f"WHERE user_id = '{sb.sql_uuid(u.id)}' AND provider = 'google'")
    assert [f["name"] for f in sb.expect_ok(get(api, u))["files"]] == ["kept.txt"]
    assert of.counter("google", "refreshes", login) == 1
    # Due again and Google refuses the refresh: 409, reconnect.
    of.set_user("google", login, refresh_mode="refuse")
    sb.psql(f"UPDATE user_integrations SET token_expires_at = now() + interval '1 minute' "
            f"WHERE user_id = '{sb.sql_uuid(u.id)}' AND provider = 'google'")
    sb.expect_error(get(api, u), 409, "integration_expired")
    sb.expect_error(get(api, u, "/abc/content"), 409, "integration_expired")


def test_drive_failures_are_502_with_the_reason(api, new_user):
    u, login = connected(api, new_user)
    fid = add_file(login, "n.txt", content="n")
    requests.post(of.fake_url("google") + f"/_fake/drive-fail/{login}", json={"status": 500}, timeout=sb.TIMEOUT)
    e = sb.expect_error(get(api, u), 502)
    assert "Google Drive answered 500" in e["message"]
    sb.expect_error(get(api, u, f"/{fid}/content"), 502)
    requests.post(of.fake_url("google") + f"/_fake/drive-fail/{login}", json={"status": None}, timeout=sb.TIMEOUT)
    # The fake checks the bearer: a token Google revoked is refused (401) -> 502.
    requests.post(of.fake_url("google") + f"/_fake/revoke-access/{login}", timeout=sb.TIMEOUT)
    e = sb.expect_error(get(api, u), 502)
    assert "401" in e["message"] and "invalid authentication" in e["message"]
