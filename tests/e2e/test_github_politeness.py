"""GitHub used the way GitHub asks (spec 004, issue 11), against the fake GitHub speaking
GitHub's rate-limit headers and bodies: the repository list revalidated with ETag /
If-None-Match (a 304 answers from the per-user cache), the primary limit
(x-ratelimit-remaining 0 until x-ratelimit-reset) and the secondary limit (429 with
retry-after) honoured without calling again, surfaced as rate_limited with the reset
time, and the client-side limit per provider and user."""

import calendar
import time
import uuid

import requests

import oauthflow as of
import sb


def view(api, u):
    return sb.expect_ok(requests.get(f"{api}/users/me/integrations/github", headers=u.headers, timeout=sb.TIMEOUT))


def connected(api, new_user, prefix="polite"):
    u = new_user()
    login = of.new_login(prefix)
    assert of.connect(api, u, "github", fake_user=login).status_code == 302
    return u, login


def make_repo(owner):
    r = requests.post(of.fake_url("github") + "/_fake/repos",
                      json={"owner": owner, "name": "polite-" + uuid.uuid4().hex[:6]}, timeout=sb.TIMEOUT)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def epoch(rfc3339):
    return calendar.timegm(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ"))


def test_repository_list_is_revalidated_with_its_etag(api, new_user):
    u, login = connected(api, new_user)
    rid = make_repo(login)
    first = view(api, u)
    assert [r["id"] for r in first["repositories"]] == [rid], first
    assert of.counter("github", "repo_lists", login) == 1
    assert of.counter("github", "repo_lists_304", login) == 0
    second = view(api, u)
    assert second["repositories"] == first["repositories"]
    assert of.counter("github", "repo_lists", login) == 1  # not fetched again ...
    assert of.counter("github", "repo_lists_304", login) == 1  # ... revalidated: 304
    rid2 = make_repo(login)  # the list changes, so does its ETag
    third = view(api, u)
    assert sorted(r["id"] for r in third["repositories"]) == sorted([rid, rid2])
    assert of.counter("github", "repo_lists", login) == 2
    # The cache is per user: another user's first list is a full fetch of their own.
    v, vlogin = connected(api, new_user)
    assert view(api, v)["repositories"] == []
    assert of.counter("github", "repo_lists", vlogin) == 1 and of.counter("github", "repo_lists_304", vlogin) == 0
    # No credential is stored in the cache.
    rows = sb.psql("SELECT count(*) FROM outbound_cache WHERE body LIKE '%gho_%' OR caller LIKE 'gho_%'")
    assert rows == "0"


def test_spent_primary_limit_backs_off_until_reset(api, new_user):
    u, login = connected(api, new_user)
    reset = int(time.time()) + 900
    of.set_user("github", login, rate_remaining=0, rate_reset=reset)
    before = of.counter("github", "api_calls", login)
    d = view(api, u)
    assert d["rate_limited"]["code"] == "rate_limited", d
    assert epoch(d["rate_limited"]["reset_at"]) == reset, d
    assert d["repositories_error"].startswith("rate_limited"), d
    assert of.counter("github", "rate_limited", login) == 1
    # Until the reset, GitHub is not called again for this user.
    for _ in range(3):
        assert epoch(view(api, u)["rate_limited"]["reset_at"]) == reset
    assert of.counter("github", "api_calls", login) == before + 1
    # Another user is not held back.
    v, vlogin = connected(api, new_user)
    assert "repositories" in view(api, v)


def test_last_call_of_the_quota_is_the_last_until_reset(api, new_user):
    """An answer with x-ratelimit-remaining: 0 is used, and the next call waits."""
    u, login = connected(api, new_user)
    reset = int(time.time()) + 600
    of.set_user("github", login, rate_remaining=1, rate_reset=reset)
    assert "repositories" in view(api, u)
    calls = of.counter("github", "api_calls", login)
    d = view(api, u)
    assert epoch(d["rate_limited"]["reset_at"]) == reset, d
    assert of.counter("github", "api_calls", login) == calls


def test_secondary_limit_retry_after_is_honoured_and_sync_answers_429(api, new_user):
    u, login = connected(api, new_user)
    rid = make_repo(login)
    of.set_user("github", login, secondary_retry_after=120)
    t0 = int(time.time())
    d = view(api, u)
    assert t0 + 119 <= epoch(d["rate_limited"]["reset_at"]) <= int(time.time()) + 121, d
    assert of.counter("github", "secondary_limited", login) == 1
    pid = str(uuid.uuid4())
    sb.psql(f"INSERT INTO projects (id, user_id, name, content) VALUES ('{pid}', '{sb.sql_uuid(u.id)}', "
            f"'Blinky', '{{}}'::jsonb)")
    r = requests.post(f"{api}/users/me/integrations/github/sync", json={"repository_id": rid, "project_ids": [pid]},
                      headers=u.headers, timeout=sb.TIMEOUT)
    err = sb.expect_error(r, 429, "rate_limited")
    assert 100 <= int(r.headers["Retry-After"]) <= 121, r.headers
    assert "until" in err["message"]
    assert of.counter("github", "secondary_limited", login) == 1  # nothing was sent


def test_client_side_limit_per_user(api, new_user):
    """SB_OUTBOUND_CALLS_PER_WINDOW (120 per 60 s): one user's loop stops at our limit,
    before GitHub's; another user keeps working."""
    u, login = connected(api, new_user)
    limited = None
    for i in range(130):
        d = view(api, u)
        if "rate_limited" in d:
            limited = d
            break
    assert limited is not None, "the client-side limit never applied"
    assert "client-side limit" in limited["repositories_error"], limited
    assert epoch(limited["rate_limited"]["reset_at"]) <= int(time.time()) + 61
    calls = of.counter("github", "api_calls", login)
    assert calls <= 120, calls
    view(api, u)
    assert of.counter("github", "api_calls", login) == calls  # held back, not sent
    v, _ = connected(api, new_user)
    assert "repositories" in view(api, v)
