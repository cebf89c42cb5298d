"""Scheduled exports (issue 13): daily, weekly and cron schedules in a time zone, a run
that comes due becomes an export job over the window before its run time, and its
export.completed event arrives at the user's webhook, signed; validation, isolation."""

import time
import uuid

import pytest

import sb


def h(user):
    return {**user.headers, "User-Agent": sb.USER_AGENT}


def test_daily_schedule_runs_and_arrives_as_a_webhook_event(api, new_user, wh, receiver, http):
    user = new_user()
    hook = wh.hook(user, "ok", events=["export.*"])
    uid = sb.sql_uuid(user.id)
    sb.psql("INSERT INTO audit_events (user_id, action, provider, created_at) VALUES "
            f"('{uid}', 'in.window', 'sched', now() - interval '2 hours'), "
            f"('{uid}', 'too.old', 'sched', now() - interval '3 days')")
    sched = sb.expect_ok(http.post(api + "/export/schedules", headers=h(user), timeout=sb.TIMEOUT, json={
        "name": "nightly audit", "entity": "audit_log", "format": "xlsx", "interval": "daily", "at": "06:30",
        "time_zone": "Europe/Berlin", "window_seconds": 86400, "filters": {"provider": "sched"}}), 201)
    assert sched["interval"] == "daily" and sched["cron"] == "30 6 * * *" and sched["time_zone"] == "Europe/Berlin"
    assert sched["next_run_at"] and sched["last_run_at"] is None
    listed = sb.expect_ok(http.get(api + "/export/schedules", headers=h(user), timeout=sb.TIMEOUT))
    assert [s["id"] for s in listed] == [sched["id"]]
    # Make it due now (the clock will not wait for 06:30 in Berlin).
    sb.psql(f"UPDATE export_schedules SET next_run_at = now() WHERE id = '{sb.sql_uuid(sched['id'])}'")
    log = receiver.wait(hook.bucket, lambda l: any((e.get("body") or {}).get("type") == "export.completed"
                                                   for e in l), timeout=30, what="export.completed")
    event = next(e for e in log if (e.get("body") or {}).get("type") == "export.completed")
    assert event["verified"] is True
    data = event["body"]["data"]
    assert data["export_type"] == "scheduled" and data["schedule_id"] == sched["id"]
    assert data["status"] == "completed" and data["record_count"] == 1
    assert data["file_url"] == f"/api/v1/export/{data['id']}/download"
    assert set(data["filters"]) == {"from", "to", "provider"}
    after = sb.expect_ok(http.get(api + "/export/schedules", headers=h(user), timeout=sb.TIMEOUT))[0]
    assert after["last_job_id"] == data["id"] and after["next_run_at"] > after["last_run_at"]
    resp = http.get(api + data["file_url"].replace("/api/v1", ""), headers=h(user), timeout=sb.TIMEOUT)
    assert resp.status_code == 200 and resp.content[:2] == b"PK"
    sb.expect_ok(http.delete(f"{api}/export/schedules/{sched['id']}", headers=h(user), timeout=sb.TIMEOUT))
    assert sb.expect_ok(http.get(api + "/export/schedules", headers=h(user), timeout=sb.TIMEOUT)) == []
    sb.expect_error(http.delete(f"{api}/export/schedules/{sched['id']}", headers=h(user), timeout=sb.TIMEOUT), 404)


def test_weekly_and_cron_schedules_and_isolation(api, new_user, http):
    user, other = new_user(), new_user()
    weekly = sb.expect_ok(http.post(api + "/export/schedules", headers=h(user), timeout=sb.TIMEOUT, json={
        "entity": "webhooks", "interval": "weekly", "weekday": 0, "at": "23:15"}), 201)
    assert weekly["cron"] == "15 23 * * 0" and weekly["next_run_at"].endswith("23:15:00Z")
    cron = sb.expect_ok(http.post(api + "/export/schedules", headers=h(user), timeout=sb.TIMEOUT, json={
        "entity": "api_keys", "interval": "cron", "cron": "*/15 * * * *", "filters": {"status": "active"}}), 201)
    assert cron["next_run_at"][14:16] in ("00", "15", "30", "45")
    assert sb.expect_ok(http.get(api + "/export/schedules", headers=h(other), timeout=sb.TIMEOUT)) == []
    sb.expect_error(http.delete(f"{api}/export/schedules/{cron['id']}", headers=h(other), timeout=sb.TIMEOUT), 404)
    sb.expect_error(http.delete(f"{api}/export/schedules/nope", headers=h(user), timeout=sb.TIMEOUT), 404)


@pytest.mark.parametrize("body,field", [
    ({"entity": "audit_log"}, "interval"),
    ({"entity": "audit_log", "interval": "hourly"}, "interval"),
    ({"entity": "audit_log", "interval": "cron"}, "cron"),
    ({"entity": "audit_log", "interval": "cron", "cron": "99 * * * *"}, "cron"),
    ({"entity": "audit_log", "interval": "daily", "cron": "* * * * *"}, "cron"),
    ({"entity": "audit_log", "interval": "daily", "at": "25:00"}, "at"),
    ({"entity": "audit_log", "interval": "daily", "time_zone": "Mars/Olympus"}, "time_zone"),
    ({"entity": "audit_log", "interval": "daily", "filters": {"from": "2026-01-01T00:00:00Z"}}, "filters.from"),
    ({"entity": "nope", "interval": "daily"}, "entity"),
    ({"entity": "audit_log", "interval": "daily", "window_seconds": 5}, "window_seconds"),
])
def test_invalid_schedules(api, new_user, http, body, field):
    user = new_user()
    err = sb.expect_error(http.post(api + "/export/schedules", json=body, headers=h(user), timeout=sb.TIMEOUT),
                          422, "validation_failed")
    assert field in err["fields"], err
