"""GitHub sync as a tracked job: POST .../github/sync {"async": true} answers 202 with the
job; GET .../github/sync/{id} shows its status, files, commit sha and error; the worker
runs it under a lease, and a killed worker's job is taken up again."""

import json
import time
import uuid

import requests

import oauthflow as of
import sb


def post(api, user, body):
    return requests.post(f"{api}/users/me/integrations/github/sync", json=body, headers=user.headers,
                         timeout=sb.TIMEOUT)


def job_state(api, user, jid):
    return requests.get(f"{api}/users/me/integrations/github/sync/{jid}", headers=user.headers, timeout=sb.TIMEOUT)


def wait_done(api, user, jid, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        j = sb.expect_ok(job_state(api, user, jid))
        if j["status"] in ("succeeded", "failed"):
            return j
        assert time.monotonic() < deadline, f"the job did not finish: {j}"
        time.sleep(0.1)


def project(user, name, content):
    pid = str(uuid.uuid4())
    sb.psql(f"INSERT INTO projects (id, user_id, name, content) VALUES ('{pid}', '{sb.sql_uuid(user.id)}', "
            f"'{name}', '{json.dumps(content)}'::jsonb)")
    return pid


def github_user(api, new_user):
    u = new_user()
    login = of.new_login("job")
    assert of.connect(api, u, "github", fake_user=login).status_code == 302
    r = requests.post(of.fake_url("github") + "/_fake/repos", json={"owner": login, "name": "jobs-" + uuid.uuid4().hex[:6]},
                      timeout=sb.TIMEOUT)
    assert r.status_code == 201, r.text
    return u, login, r.json()["id"]


def test_async_sync_is_a_tracked_job(api, new_user):
    u, login, rid = github_user(api, new_user)
    p1 = project(u, "Blinky", {"parts": ["led"]})
    r = post(api, u, {"repository_id": rid, "project_ids": [p1], "async": True})
    job = sb.expect_ok(r, 202)
    assert job["status"] in ("queued", "running", "succeeded"), job
    assert job["request"] == {"repository_id": rid, "project_ids": [p1]}
    assert job["status_url"] == f"/api/v1/users/me/integrations/github/sync/{job['id']}"
    done = wait_done(api, u, job["id"])
    assert done["status"] == "succeeded" and done["error"] is None, done
    st = requests.get(of.fake_url("github") + f"/_fake/repos/{rid}", timeout=sb.TIMEOUT).json()
    assert done["commit_sha"] == st["head"] and done["result"]["committed"] is True
    assert [f["result"] for f in done["result"]["projects"]] == ["created"]
    assert done["attempts"] == 1 and done["finished_at"]
    # Another user cannot see it; an unknown id is 404.
    sb.expect_error(job_state(api, new_user(), job["id"]), 404, "not_found")
    sb.expect_error(job_state(api, u, str(uuid.uuid4())), 404, "not_found")
    sb.expect_error(job_state(api, u, "nope"), 404, "not_found")


def test_async_sync_failure_is_recorded_on_the_job(api, new_user):
    u, login, rid = github_user(api, new_user)
    p1 = project(u, "Blinky", {"parts": ["led"]})
    job = sb.expect_ok(post(api, u, {"repository_id": 999999999, "project_ids": [p1], "async": True}), 202)
    done = wait_done(api, u, job["id"])
    assert done["status"] == "failed" and done["error_code"] == "not_found" and done["error"], done
    assert done["commit_sha"] is None


def test_async_sync_is_checked_before_it_is_queued(api, new_user):
    u, login, rid = github_user(api, new_user)
    err = sb.expect_error(post(api, u, {"repository_id": rid, "project_ids": [str(uuid.uuid4())], "async": True}),
                          404)
    assert sb.psql(f"SELECT count(*) FROM github_sync_jobs WHERE user_id = '{sb.sql_uuid(u.id)}'") == "0", err
    sb.expect_error(post(api, u, {"repository_id": rid, "project_ids": [], "async": "yes"}), 422, "validation_failed")


def test_killed_worker_sync_job_is_taken_up_again(api, new_user, stack):
    u, login, rid = github_user(api, new_user)
    p1 = project(u, "Slow", {"parts": ["esp32"]})
    of.set_user("github", login, api_delay=1.5)
    job = sb.expect_ok(post(api, u, {"repository_id": rid, "project_ids": [p1], "async": True}), 202)
    try:
        deadline = time.monotonic() + 30
        while True:
            j = sb.expect_ok(job_state(api, u, job["id"]))
            if j["status"] == "running":
                break
            assert j["status"] == "queued", f"the job finished before the worker could be killed: {j}"
            assert time.monotonic() < deadline, "no worker claimed the job"
            time.sleep(0.02)
        stack("worker-kill")
    finally:
        of.set_user("github", login, api_delay=0)
        stack("worker-start")
    done = wait_done(api, u, job["id"], seconds=90)
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2, done
    st = requests.get(of.fake_url("github") + f"/_fake/repos/{rid}", timeout=sb.TIMEOUT).json()
    assert st["head"] == done["commit_sha"] and "nexflux/Slow.json" in st["files"]


# --- auto-sync: project.updated through POST /events ----------------------------------------------


def publish(api, user, type_, data, key=None):
    body = {"type": type_, "data": data}
    if key:
        body["idempotency_key"] = key
    return requests.post(f"{api}/events", json=body, headers={**user.headers, "User-Agent": sb.USER_AGENT},
                         timeout=sb.TIMEOUT)


def jobs_of(user):
    out = sb.psql("SELECT coalesce(json_agg(request ORDER BY created_at), '[]') FROM github_sync_jobs "
                  f"WHERE user_id = '{sb.sql_uuid(user.id)}'")
    return json.loads(out)


def patch_github(api, user, **fields):
    """PATCH the user's GitHub integration settings (auto_sync, selected_repos, enabled)."""
    sb.expect_ok(requests.patch(f"{api}/users/me/integrations/github", json=fields, headers=user.headers,
                                timeout=sb.TIMEOUT))


def test_project_updated_event_queues_a_sync_of_each_selected_repository(api, new_user):
    u, login, rid = github_user(api, new_user)
    r2 = requests.post(of.fake_url("github") + "/_fake/repos", json={"owner": login, "name": "second"},
                       timeout=sb.TIMEOUT).json()["id"]
    p1 = project(u, "Auto", {"parts": ["led"]})
    # auto_sync off: nothing is queued.
    patch_github(api, u, selected_repos=[rid, r2])
    d = sb.expect_ok(publish(api, u, "project.updated", {"project_id": p1}), 202)
    assert d["github_sync_jobs"] == 0 and jobs_of(u) == []
    patch_github(api, u, auto_sync=True)
    d = sb.expect_ok(publish(api, u, "project.updated", {"project_id": p1}, key="k-" + uuid.uuid4().hex), 202)
    assert d["github_sync_jobs"] == 2, d
    assert sorted(j["repository_id"] for j in jobs_of(u)) == sorted([rid, r2])
    deadline = time.monotonic() + 60
    while True:
        states = sb.psql(f"SELECT string_agg(status, ',' ORDER BY status) FROM github_sync_jobs "
                         f"WHERE user_id = '{sb.sql_uuid(u.id)}'")
        if states == "succeeded,succeeded":
            break
        assert time.monotonic() < deadline, states
        time.sleep(0.2)
    for repo in (rid, r2):
        st = requests.get(of.fake_url("github") + f"/_fake/repos/{repo}", timeout=sb.TIMEOUT).json()
        assert "nexflux/Auto.json" in st["files"], st["files"]


def test_auto_sync_ignores_other_events_duplicates_and_foreign_projects(api, new_user):
    u, login, rid = github_user(api, new_user)
    patch_github(api, u, auto_sync=True, selected_repos=[rid])
    p1 = project(u, "Mine", {})
    other = new_user()
    foreign = project(other, "Theirs", {})
    assert sb.expect_ok(publish(api, u, "project.created", {"project_id": p1}), 202)["github_sync_jobs"] == 0
    assert sb.expect_ok(publish(api, u, "project.updated", {"project_id": foreign}), 202)["github_sync_jobs"] == 0
    assert sb.expect_ok(publish(api, u, "project.updated", {"project_id": "nope"}), 202)["github_sync_jobs"] == 0
    assert sb.expect_ok(publish(api, u, "project.updated", {}), 202)["github_sync_jobs"] == 0
    key = "dup-" + uuid.uuid4().hex
    assert sb.expect_ok(publish(api, u, "project.updated", {"project_id": p1}, key), 202)["github_sync_jobs"] == 1
    again = sb.expect_ok(publish(api, u, "project.updated", {"project_id": p1}, key), 202)
    assert again["duplicate"] is True and again["github_sync_jobs"] == 0
    assert len(jobs_of(u)) == 1


# --- a disabled integration: nothing queued, nothing pushed ---------------------------------------


def github_calls(login):
    c = of.fake_state("github")["counters"]
    return {k: v for k, v in c.items() if k.endswith(":" + login)}


def disable(api, user, on=False):
    patch_github(api, user, enabled=on)


def test_async_sync_of_a_disabled_integration_is_409_and_queues_nothing(api, new_user):
    u, login, rid = github_user(api, new_user)
    p1 = project(u, "Paused", {"parts": ["led"]})
    disable(api, u)
    before = github_calls(login)
    sb.expect_error(post(api, u, {"repository_id": rid, "project_ids": [p1], "async": True}), 409,
                    "integration_disabled")
    assert jobs_of(u) == [] and github_calls(login) == before


def test_job_queued_before_the_integration_was_disabled_fails_without_calling_github(api, new_user):
    u, login, rid = github_user(api, new_user)
    p1 = project(u, "Paused", {"parts": ["led"]})
    disable(api, u)
    before = github_calls(login)
    # A job queued while it was enabled (inserted as the API does, so no worker can run it first).
    jid = sb.psql("WITH j AS (INSERT INTO github_sync_jobs (user_id, request) VALUES "
                  f"('{sb.sql_uuid(u.id)}', '{json.dumps({'repository_id': rid, 'project_ids': [p1]})}'::jsonb) "
                  "RETURNING id) SELECT id FROM j")
    sb.psql("SELECT pg_notify('sb_transfer', 'github_sync')")
    done = wait_done(api, u, jid)
    assert done["status"] == "failed" and done["error_code"] == "integration_disabled", done
    assert github_calls(login) == before
    st = requests.get(of.fake_url("github") + f"/_fake/repos/{rid}", timeout=sb.TIMEOUT).json()
    assert "nexflux/Paused.json" not in st["files"]


def test_auto_sync_queues_nothing_for_a_disabled_integration(api, new_user):
    u, login, rid = github_user(api, new_user)
    patch_github(api, u, auto_sync=True, selected_repos=[rid])
    p1 = project(u, "Auto off", {})
    disable(api, u)
    assert sb.expect_ok(publish(api, u, "project.updated", {"project_id": p1}), 202)["github_sync_jobs"] == 0
    assert jobs_of(u) == []
    disable(api, u, on=True)
    assert sb.expect_ok(publish(api, u, "project.updated", {"project_id": p1}, key="on-" + uuid.uuid4().hex),
                        202)["github_sync_jobs"] == 1
