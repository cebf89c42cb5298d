"""Operations: probes, `scripts/stack status`, a restart that fails no request, and the
database going away and coming back."""

import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import sb


@pytest.mark.parametrize("probe", ["healthz", "readyz"])
def test_probes(base_url, probe):
    resp = requests.get(f"{base_url}/_sb/auth/{probe}", timeout=sb.TIMEOUT)
    data = sb.expect_ok(resp)
    assert data["group"] == "auth"
    assert data["status"] == "ok"


def test_probe_of_an_unknown_group_is_not_a_200(base_url):
    resp = requests.get(f"{base_url}/_sb/nosuchgroup/healthz", timeout=sb.TIMEOUT)
    assert resp.status_code >= 400
    sb.body_of(resp)  # still JSON


def test_stack_status(stack):
    proc = stack("status")
    assert "auth" in proc.stdout
    line = next(l for l in proc.stdout.splitlines() if l.startswith("auth"))
    assert "running" in line and "healthz=200" in line and "readyz=200" in line, proc.stdout


# --- restart --------------------------------------------------------------------------------


def master_pid():
    with open(os.path.join(os.environ["SB_VAR"], "run", "auth.pid")) as f:
        return int(f.read().strip())


def worker_pids(master):
    proc = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return {int(p) for p in proc.stdout.split()}


def expected_workers():
    return int(os.environ.get("SB_WORKERS", "4"))


def test_restart_fails_no_request(api, new_user, stack):
    u = new_user()
    master = master_pid()
    before = worker_pids(master)
    assert len(before) == expected_workers(), before

    stop = threading.Event()
    lock = threading.Lock()
    results = []  # (path, status or exception text)
    cap = 20000  # hard bound on the number of requests

    def hammer(i):
        s = requests.Session()
        paths = ["/users/me", "/users/me/audit-log?limit=5"]
        n = 0
        while not stop.is_set():
            path = paths[n % len(paths)]
            n += 1
            try:
                r = s.get(api + path, headers=u.headers, timeout=sb.TIMEOUT)
                outcome = r.status_code if r.status_code == 200 else f"{r.status_code} {r.text[:200]}"
            except requests.RequestException as e:
                outcome = f"exception {e!r}"
            with lock:
                results.append((path, outcome))
                if len(results) >= cap:
                    stop.set()
        s.close()

    def done():
        with lock:
            return len(results)

    def wait_for(n):
        # Progress, not time: wait until n more answers came in (bounded by the cap).
        target = min(done() + n, cap)
        while done() < target and not stop.is_set():
            time.sleep(0.01)

    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(hammer, i) for i in range(6)]
        try:
            wait_for(100)
            stack("restart", "auth")
            wait_for(200)
            stack("restart", "auth")
            wait_for(300)
        finally:
            stop.set()
            for f in futures:
                f.result()

    failures = [r for r in results if r[1] != 200]
    assert len(results) >= 600
    assert not failures, f"{len(failures)} of {len(results)} requests failed, e.g. {failures[:5]}"

    # Same master (re-executed in place), a new generation of workers.
    assert master_pid() == master
    os.kill(master, 0)

    def new_generation():
        now = worker_pids(master)
        return now if len(now) == expected_workers() and not (now & before) else None

    after = sb.retry_until(new_generation, timeout=10)
    assert after, f"workers before {sorted(before)}, now {sorted(worker_pids(master))}"

    # And it still serves.
    assert sb.expect_ok(requests.get(api + "/users/me", headers=u.headers, timeout=sb.TIMEOUT))["id"] == u.id


# --- the database goes away ---------------------------------------------------------------


def test_database_down_is_503_and_recovers(api, base_url, new_user, jwt, stack):
    u = new_user()
    host_token = jwt.host("host-user-dbdown-" + os.urandom(8).hex(), email=sb.unique_email("db"), name="DB")
    try:
        stack("pg-stop")

        resp = requests.get(api + "/users/me", headers=u.headers, timeout=sb.TIMEOUT)
        sb.expect_error(resp, 503, "service_unavailable")
        assert resp.headers.get("Retry-After"), resp.headers

        resp = requests.get(api + "/users/me/audit-log", headers=u.headers, timeout=sb.TIMEOUT)
        sb.expect_error(resp, 503, "service_unavailable")

        resp = requests.get(api + "/users/me", headers=sb.bearer(host_token), timeout=sb.TIMEOUT)
        sb.expect_error(resp, 503, "service_unavailable")

        resp = requests.post(api + "/auth/login", json={"email": u.email, "password": u.password}, timeout=sb.TIMEOUT)
        sb.expect_error(resp, 503, "service_unavailable")

        resp = requests.post(api + "/auth/refresh", json={"refresh_token": u.refresh_token}, timeout=sb.TIMEOUT)
        sb.expect_error(resp, 503, "service_unavailable")

        resp = requests.get(base_url + "/_sb/auth/readyz", timeout=sb.TIMEOUT)
        sb.expect_error(resp, 503, "service_unavailable")

        # Liveness does not depend on the database; a bad token is still a 401.
        sb.expect_ok(requests.get(base_url + "/_sb/auth/healthz", timeout=sb.TIMEOUT))
        resp = requests.get(api + "/users/me", headers=sb.bearer("garbage"), timeout=sb.TIMEOUT)
        sb.expect_error(resp, 401, "unauthorized")
    finally:
        stack("pg-start")

    def me_ok():
        r = requests.get(api + "/users/me", headers=u.headers, timeout=sb.TIMEOUT)
        return r if r.status_code == 200 else None

    resp = sb.retry_until(me_ok, timeout=5)
    assert resp is not None, "GET /users/me did not recover within 5 s of PostgreSQL coming back"
    assert sb.expect_ok(resp)["id"] == u.id
    # Every worker reconnects, not just one: a burst all answers 200.
    for _ in range(3 * expected_workers()):
        sb.expect_ok(requests.get(api + "/users/me", headers=u.headers, timeout=sb.TIMEOUT))
    sb.expect_ok(requests.get(base_url + "/_sb/auth/readyz", timeout=sb.TIMEOUT))
    # Writes work again too (login reads the user and records an audit event).
    r = requests.post(api + "/auth/login", json={"email": u.email, "password": u.password}, timeout=sb.TIMEOUT)
    assert sb.expect_ok(r)["user"]["id"] == u.id
