"""The worker refreshes OAuth tokens that expire within the margin on its own, with no
request using them, through the same locked refresh path as a use."""
import os
import subprocess
import time

import oauthflow as of
import sb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def restart_worker(**env):
    subprocess.run([os.path.join(ROOT, "scripts", "stack"), "restart", "worker"],
                   env={**os.environ, **env}, check=True, capture_output=True, timeout=60)


def connect_due(api, new_user):
    """A user with a GitHub token that expires within the margin; (user id, fake login)."""
    u = new_user()
    login = of.new_login()
    assert of.connect(api, u, "github", fake_user=login).status_code == 302
    uid = sb.sql_uuid(u.id)
    sb.psql(f"UPDATE user_integrations SET token_expires_at = now() + interval '2 minutes' "
            f"WHERE user_id = '{uid}' AND provider = 'github'")
    return uid, login


def wait_refreshes(login, n, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline and of.counter("github", "refreshes", login) < n:
        time.sleep(0.2)
    return of.counter("github", "refreshes", login)


def test_worker_refreshes_a_token_before_it_expires(api, new_user):
    uid, login = connect_due(api, new_user)
    before = sb.psql(f"SELECT access_token FROM user_integrations WHERE user_id = '{uid}' AND provider = 'github'")
    try:
        restart_worker(SB_WORKER_REFRESH_SCAN_SECONDS="1")
        assert wait_refreshes(login, 1) == 1
        row = sb.psql(f"SELECT access_token, token_expires_at > now() + interval '10 minutes', status "
                      f"FROM user_integrations WHERE user_id = '{uid}' AND provider = 'github'")
        access, later, status = row.split("|")
        assert access != before and access.startswith("sb1.")
        assert later == "t" and status in ("active", "connected")
        assert sb.psql(f"SELECT count(*) FROM events WHERE user_id = '{uid}' "
                       f"AND type = 'integration.token_refreshed'") == "1"
        # The worker acted as the user with no request behind it: no address, no user agent.
        assert sb.psql(f"SELECT count(*) FROM audit_events WHERE user_id = '{uid}' "
                       f"AND action = 'integration.token_refreshed' "
                       f"AND ip IS NULL AND user_agent IS NULL") == "1"
        # Not due any more: a later scan, seen refreshing another user's newly due token,
        # leaves the first one alone (it would have been selected first had it been due).
        uid2, login2 = connect_due(api, new_user)
        assert wait_refreshes(login2, 1) == 1
        assert of.counter("github", "refreshes", login) == 1
        assert sb.psql(f"SELECT count(*) FROM events WHERE user_id = '{uid}' "
                       f"AND type = 'integration.token_refreshed'") == "1"
    finally:
        restart_worker()
