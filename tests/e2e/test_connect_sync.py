"""GitHub sync through the Git Data API (one atomic commit, no-op when unchanged, retry
on a rejected ref update, only the user's own projects) and Google Drive export, against
the fake GitHub and the fake Google."""

import json
import uuid

import requests

import oauthflow as of
import sb


def post(api, user, path, body):
    return requests.post(f"{api}/users/me/integrations/{path}", json=body, headers=user.headers, timeout=sb.TIMEOUT)


def project(user, name, content):
    pid = str(uuid.uuid4())
    body = json.dumps(content).replace("'", "''")
    sb.psql(f"INSERT INTO projects (id, user_id, name, content) VALUES ('{pid}', '{sb.sql_uuid(user.id)}', "
            f"'{name.replace(chr(39), chr(39) * 2)}', '{body}'::jsonb)")
    return pid


def make_repo(owner, **kw):
    r = requests.post(of.fake_url("github") + "/_fake/repos", json={"owner": owner, "name": "circuits-" + uuid.uuid4().hex[:6], **kw},
                      timeout=sb.TIMEOUT)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def repo_state(rid):
    return requests.get(of.fake_url("github") + f"/_fake/repos/{rid}", timeout=sb.TIMEOUT).json()


def set_repo(rid, **kw):
    assert requests.post(of.fake_url("github") + f"/_fake/repos/{rid}", json=kw, timeout=sb.TIMEOUT).status_code == 200


def github_user(api, new_user):
    u = new_user()
    login = of.new_login("sync")
    assert of.connect(api, u, "github", fake_user=login).status_code == 302
    return u, login


def test_sync_pushes_projects_in_one_commit_then_noop(api, new_user):
    u, login = github_user(api, new_user)
    rid = make_repo(login)
    p1 = project(u, "Weather station", {"parts": ["esp32", "bme280"]})
    p2 = project(u, "Blinky", {"parts": ["led"]})
    d = sb.expect_ok(post(api, u, "github/sync", {"repository_id": rid, "project_ids": [p1, p2]}))
    assert d["committed"] is True and d["attempts"] == 1 and d["synced"] is True
    assert {p["result"] for p in d["projects"]} == {"created"}
    st = repo_state(rid)
    assert st["commits"] == 2  # initial + one sync commit holding both files
    assert set(st["files"]) == {"README.md", "nexflux/Weather station.json", "nexflux/Blinky.json"}
    f = json.loads(st["files"]["nexflux/Blinky.json"])
    assert f == {"id": p2, "name": "Blinky", "content": {"parts": ["led"]}}
    assert st["head"] == d["commit_sha"]

    # Nothing changed: no blob, no commit.
    blobs = of.counter("github", "blobs", login)
    again = sb.expect_ok(post(api, u, "github/sync", {"repository_id": rid, "project_ids": [p1, p2]}))
    assert again["committed"] is False and again["commit_sha"] is None
    assert {p["result"] for p in again["projects"]} == {"unchanged"}
    assert repo_state(rid)["commits"] == 2
    assert of.counter("github", "blobs", login) == blobs

    # One project changes: one new commit, one updated file.
    sb.psql(f"UPDATE projects SET content = '{{\"parts\": [\"led\", \"resistor\"]}}' WHERE id = '{p2}'")
    third = sb.expect_ok(post(api, u, "github/sync", {"repository_id": rid, "project_ids": [p1, p2]}))
    assert {p["name"]: p["result"] for p in third["projects"]} == {"Weather station": "unchanged", "Blinky": "updated"}
    assert repo_state(rid)["commits"] == 3

    # The GitHub view shows the repository as synced.
    v = sb.expect_ok(requests.get(f"{api}/users/me/integrations/github", headers=u.headers, timeout=sb.TIMEOUT))
    repo = next(r for r in v["repositories"] if r["id"] == rid)
    assert repo["synced"] is True and sb.RFC3339_UTC_RE.match(repo["last_sync"])
    assert sb.psql(f"SELECT count(*) FROM github_project_sync WHERE user_id = '{sb.sql_uuid(u.id)}'") == "2"


def test_sync_retries_on_a_rejected_ref_update(api, new_user):
    u, login = github_user(api, new_user)
    rid = make_repo(login)
    set_repo(rid, reject_ref_updates=1)
    p1 = project(u, "Retry me", {"v": 1})
    d = sb.expect_ok(post(api, u, "github/sync", {"repository_id": rid, "project_ids": [p1]}))
    assert d["committed"] is True and d["attempts"] == 2
    st = repo_state(rid)
    # initial, the concurrent push, ours on top of it: nothing of theirs lost.
    assert st["commits"] == 3 and "nexflux/Retry me.json" in st["files"]
    assert any(p.startswith("other/") for p in st["files"])


def test_sync_gives_up_when_the_branch_keeps_moving(api, new_user):
    u, login = github_user(api, new_user)
    rid = make_repo(login)
    set_repo(rid, reject_ref_updates=10)
    p1 = project(u, "Busy", {"v": 1})
    sb.expect_error(post(api, u, "github/sync", {"repository_id": rid, "project_ids": [p1]}), 409, "conflict")


def test_sync_refuses_another_users_projects(api, new_user):
    u, login = github_user(api, new_user)
    other = new_user()
    rid = make_repo(login)
    theirs = project(other, "Not yours", {"secret": True})
    mine = project(u, "Mine", {})
    sb.expect_error(post(api, u, "github/sync", {"repository_id": rid, "project_ids": [mine, theirs]}), 404,
                    "project_not_found")
    assert repo_state(rid)["commits"] == 1
    sb.expect_error(post(api, u, "github/sync", {"repository_id": rid, "project_ids": [str(uuid.uuid4())]}), 404,
                    "project_not_found")


def test_sync_validation_and_unknown_repository(api, new_user):
    u, login = github_user(api, new_user)
    err = sb.expect_error(post(api, u, "github/sync", {"repository_id": "x", "project_ids": []}), 422)
    assert set(err["fields"]) == {"repository_id", "project_ids"}
    err = sb.expect_error(post(api, u, "github/sync", {"repository_id": 1, "project_ids": ["not-a-uuid"]}), 422)
    assert set(err["fields"]) == {"project_ids"}
    p1 = project(u, "Lost", {})
    sb.expect_error(post(api, u, "github/sync", {"repository_id": 999999999, "project_ids": [p1]}), 404)
    # Another user's repository at GitHub is not visible to this account either.
    other_repo = make_repo(of.new_login("someoneelse"))
    sb.expect_error(post(api, u, "github/sync", {"repository_id": other_repo, "project_ids": [p1]}), 404)
    empty = make_repo(login, empty=True)
    sb.expect_error(post(api, u, "github/sync", {"repository_id": empty, "project_ids": [p1]}), 409)


def test_sync_without_github_connected(api, new_user):
    u = new_user()
    p1 = project(u, "Alone", {})
    sb.expect_error(post(api, u, "github/sync", {"repository_id": 1, "project_ids": [p1]}), 404, "not_found")


def test_github_unreachable_is_502(api, new_user, stack):
    u, login = github_user(api, new_user)
    rid = make_repo(login)
    p1 = project(u, "Offline", {})
    # The provider refuses our token (revoked at GitHub): the API answers 401 -> 502, nothing recorded as synced.
    requests.post(of.fake_url("github") + f"/_fake/revoke-access/{login}", timeout=sb.TIMEOUT)
    sb.expect_error(post(api, u, "github/sync", {"repository_id": rid, "project_ids": [p1]}), 502)
    assert sb.psql(f"SELECT count(*) FROM github_repo_sync WHERE user_id = '{sb.sql_uuid(u.id)}' AND synced") == "0"
    v = sb.expect_ok(requests.get(f"{api}/users/me/integrations/github", headers=u.headers, timeout=sb.TIMEOUT))
    assert v["repositories"] == [] and v["repositories_error"]


def test_drive_export_uploads_each_project(api, new_user):
    u = new_user()
    login = of.new_login("drive")
    assert of.connect(api, u, "google", fake_user=login).status_code == 302
    p1 = project(u, "Exported", {"a": 1})
    p2 = project(u, "Also exported", {"b": [1, 2]})
    d = sb.expect_ok(post(api, u, "google/drive/export", {"project_ids": [p1, p2]}))
    assert {f["name"] for f in d["files"]} == {"Exported.json", "Also exported.json"}
    assert all(f["status"] == "uploaded" and f["file_id"] for f in d["files"])
    files = requests.get(of.fake_url("google") + f"/_fake/files/{login}", timeout=sb.TIMEOUT).json()
    by = {f["name"]: f for f in files}
    assert json.loads(by["Exported.json"]["content"])["content"] == {"a": 1}
    assert by["Exported.json"]["mimeType"] == "application/json"
    other = new_user()
    theirs = project(other, "Theirs", {})
    sb.expect_error(post(api, u, "google/drive/export", {"project_ids": [theirs]}), 404, "project_not_found")


def test_drive_export_without_google(api, new_user):
    u = new_user()
    p1 = project(u, "Nowhere", {})
    sb.expect_error(post(api, u, "google/drive/export", {"project_ids": [p1]}), 404, "not_found")


def github_calls(login):
    """Every request the fake GitHub counted for this login (API and token endpoint alike)."""
    c = of.fake_state("github")["counters"]
    return {k: v for k, v in c.items() if k.endswith(":" + login)}


def test_sync_of_a_disabled_integration_is_409_without_calling_github(api, new_user):
    u, login = github_user(api, new_user)
    rid = make_repo(login)
    p1 = project(u, "Paused", {"parts": ["led"]})
    sb.expect_ok(requests.patch(f"{api}/users/me/integrations/github", json={"enabled": False}, headers=u.headers,
                                timeout=sb.TIMEOUT))
    before = github_calls(login)
    err = sb.expect_error(post(api, u, "github/sync", {"repository_id": rid, "project_ids": [p1]}), 409,
                          "integration_disabled")
    assert "disabled" in err["message"], err
    assert github_calls(login) == before and repo_state(rid)["commits"] == 1
    sb.expect_ok(requests.patch(f"{api}/users/me/integrations/github", json={"enabled": True}, headers=u.headers,
                                timeout=sb.TIMEOUT))
    assert sb.expect_ok(post(api, u, "github/sync", {"repository_id": rid, "project_ids": [p1]}))["committed"] is True
