"""The worker killed (SIGKILL, its whole process group) in the middle of a 200,000-row
export: the job's lease runs out, the restarted worker takes the job up again, and the
published file has every row exactly once (never a half-written file)."""

import csv
import io
import time

import requests

import sb

ROWS = 200_000


def test_killed_worker_export_completes_with_every_row_once(api, new_user, stack, http):
    user = new_user()
    hdr = {**user.headers, "User-Agent": sb.USER_AGENT}
    uid = sb.sql_uuid(user.id)
    sb.psql("INSERT INTO audit_events (user_id, action, details, created_at) "
            f"SELECT '{uid}', 'bulk', jsonb_build_object('i', i), timestamptz '2025-01-01 00:00:00+00' "
            f"+ i * interval '1 second' FROM generate_series(1, {ROWS}) AS i")
    job = sb.expect_ok(http.post(api + "/export", headers=hdr, timeout=sb.TIMEOUT, json={
        "entity": "audit_log", "format": "csv", "columns": ["id", "details"],
        "filters": {"from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}}), 202)
    url = f"{api}/export/{job['id']}"
    try:
        deadline = time.monotonic() + 30
        while True:
            state = sb.expect_ok(http.get(url, headers=hdr, timeout=sb.TIMEOUT))
            if state["status"] == "running":
                break
            assert state["status"] == "pending", f"the export finished before the worker could be killed: {state}"
            assert time.monotonic() < deadline, "no worker claimed the export"
            time.sleep(0.02)
        stack("worker-kill")
    finally:
        stack("worker-start")
    killed = sb.expect_ok(http.get(url, headers=hdr, timeout=sb.TIMEOUT))
    assert killed["status"] == "running" and killed["completed_at"] is None, killed
    deadline = time.monotonic() + 120
    while True:
        done = sb.expect_ok(http.get(url, headers=hdr, timeout=sb.TIMEOUT))
        if done["status"] in ("completed", "failed"):
            break
        assert time.monotonic() < deadline, f"the export was not taken up again: {done}"
        time.sleep(0.3)
    assert done["status"] == "completed", done
    assert done["record_count"] == ROWS
    attempts = int(sb.psql(f"SELECT attempts FROM export_jobs WHERE id = '{sb.sql_uuid(job['id'])}'"))
    assert attempts == 2, attempts
    resp = requests.get(url + "/download", headers=hdr, timeout=60)
    assert resp.status_code == 200 and len(resp.content) == done["file_size"]
    rows = list(csv.reader(io.StringIO(resp.content.decode(), newline="")))
    assert rows[0] == ["id", "details"]
    ids = [r[0] for r in rows[1:]]
    assert len(ids) == ROWS and len(set(ids)) == ROWS
    assert sorted(int(r[1].split(":")[1].strip(" }")) for r in rows[1:]) == list(range(1, ROWS + 1))
