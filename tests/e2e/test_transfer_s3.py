"""Export delivery to the user's bucket (issue 16): an export and a scheduled export
with destination s3 land in the real S3 server (s3rver behind the SigV4-verifying front,
tests/e2e/fakes/s3_server.js) byte for byte equal to the local download, the object key
and delivery status are on the job, a failing bucket fails the job with the reason and
leaves no file, and destination bodies are validated."""

import os

import pytest
import requests

import sb
from test_s3 import BUCKET, config, fake_log, fake_object, put
from test_transfer_export import SEEDED, export, h, seed_audit, wait_job


@pytest.fixture(scope="session")
def s3():
    port = os.environ.get("SB_FAKE_S3_PORT")
    if not port:
        pytest.skip("SB_FAKE_S3_PORT not set: run the suite through scripts/test-e2e")
    return f"http://127.0.0.1:{port}"


def local_download(api, user, job):
    resp = requests.get(f"{api}/export/{job['id']}/download", headers=h(user), timeout=sb.TIMEOUT)
    assert resp.status_code == 200, resp.text[:300]
    return resp.content


def transfer_file(job_id, fmt):
    return os.path.join(os.environ["SB_VAR"], "transfer", f"{job_id}.{fmt}")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_lands_in_the_bucket(api, new_user, s3, fmt):
    u = new_user()
    sb.expect_ok(put(api, u, config(s3, prefix="team/")))
    seed_audit(u.id)
    before = len(fake_log(s3))
    job = export(api, u, {"entity": "audit_log", "format": fmt, "filters": SEEDED,
                          "destination": {"type": "s3", "prefix": "exports/"}})
    assert job["destination"] == {"type": "s3", "prefix": "exports/"} and job["destination_status"] == "pending"
    assert job["destination_key"] is None
    done = wait_job(api, u, job["id"])
    assert done["status"] == "completed", done
    assert done["destination_status"] == "delivered", done
    assert done["destination_key"] == f"team/exports/audit_log-{job['id']}.{fmt}", done
    obj = fake_object(s3, BUCKET, done["destination_key"])
    assert obj.status_code == 200, obj.text[:300]
    assert obj.content == local_download(api, u, done)
    assert len(obj.content) == done["file_size"]
    puts = [c for c in fake_log(s3)[before:] if c["method"] == "PUT"]
    assert len(puts) == 1 and puts[0]["verified"] and puts[0]["path"] == f"/{BUCKET}/{done['destination_key']}"


def test_export_without_destination_is_not_delivered(api, new_user, s3):
    u = new_user()
    sb.expect_ok(put(api, u, config(s3)))
    job = export(api, u, {"entity": "audit_log"})
    assert job["destination"] is None and job["destination_status"] is None
    done = wait_job(api, u, job["id"])
    assert done["status"] == "completed" and done["destination_key"] is None and done["destination_status"] is None


def test_scheduled_export_lands_in_the_bucket(api, new_user, s3, http):
    u = new_user()
    sb.expect_ok(put(api, u, config(s3)))
    sched = sb.expect_ok(http.post(api + "/export/schedules", headers=h(u), timeout=sb.TIMEOUT, json={
        "entity": "audit_log", "format": "csv", "interval": "daily", "at": "03:00",
        "destination": {"type": "s3", "prefix": "nightly/"}}), 201)
    assert sched["destination"] == {"type": "s3", "prefix": "nightly/"}
    sb.psql(f"UPDATE export_schedules SET next_run_at = now() WHERE id = '{sb.sql_uuid(sched['id'])}'")

    def ran():
        s = sb.expect_ok(http.get(api + "/export/schedules", headers=h(u), timeout=sb.TIMEOUT))[0]
        return s["last_job_id"]
    job_id = sb.retry_until(ran, timeout=30)
    assert job_id, "the schedule did not run"
    done = wait_job(api, u, job_id)
    assert done["status"] == "completed" and done["export_type"] == "scheduled", done
    assert done["destination_status"] == "delivered"
    assert done["destination_key"] == f"nightly/audit_log-{job_id}.csv"
    obj = fake_object(s3, BUCKET, done["destination_key"])
    assert obj.status_code == 200 and obj.content == local_download(api, u, done)


@pytest.mark.parametrize("override,reason", [
    ({"bucket": "no-such-bucket"}, "NoSuchBucket"),
    ({"secret_access_key": "wrong-secret"}, "SignatureDoesNotMatch"),
])
def test_bucket_failure_fails_the_job(api, new_user, s3, override, reason):
    u = new_user()
    sb.expect_ok(put(api, u, config(s3, **override)))
    job = export(api, u, {"entity": "audit_log", "destination": {"type": "s3"}})
    done = wait_job(api, u, job["id"])
    assert done["status"] == "failed", done
    assert done["destination_status"] == "failed" and done["destination_key"] is None, done
    assert reason in done["error_message"] and "delivery to bucket" in done["error_message"], done
    assert "wrong-secret" not in done["error_message"]
    assert done["file_url"] is None
    sb.expect_error(requests.get(f"{api}/export/{job['id']}/download", headers=h(u), timeout=sb.TIMEOUT), 409)
    assert not os.path.exists(transfer_file(job["id"], "csv"))
    if override.get("bucket") is None:
        assert fake_object(s3, BUCKET, f"audit_log-{job['id']}.csv").status_code == 404


def test_unreachable_bucket_fails_the_job(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, config(f"http://127.0.0.1:{sb.free_port()}")))
    job = export(api, u, {"entity": "audit_log", "destination": {"type": "s3"}})
    done = wait_job(api, u, job["id"], timeout=60)
    assert done["status"] == "failed" and "could not reach" in done["error_message"], done


def test_deleted_integration_fails_the_queued_job(api, new_user, s3):
    u = new_user()
    sb.expect_ok(put(api, u, config(s3)))
    job = export(api, u, {"entity": "audit_log", "destination": {"type": "s3"}})
    sb.expect_ok(requests.delete(api + "/users/me/integrations/s3", headers=u.headers, timeout=sb.TIMEOUT))
    done = wait_job(api, u, job["id"])
    # Either the worker delivered before the delete, or it found nothing to deliver with.
    if done["status"] == "failed":
        assert "no s3 integration" in done["error_message"], done
    else:
        assert done["destination_status"] == "delivered", done


@pytest.mark.parametrize("dest,field", [
    ({"type": "ftp"}, "destination.type"),
    ({}, "destination.type"),
    ({"type": "s3", "prefix": "../up/"}, "destination.prefix"),
    ({"type": "s3", "prefix": 7}, "destination.prefix"),
    ({"type": "s3", "bucket": "other"}, "destination.bucket"),
    ("s3", "destination"),
])
def test_invalid_destinations(api, new_user, s3, http, dest, field):
    u = new_user()
    sb.expect_ok(put(api, u, config(s3)))
    err = sb.expect_error(http.post(api + "/export", headers=h(u), timeout=sb.TIMEOUT,
                                    json={"entity": "audit_log", "destination": dest}), 422)
    assert field in err["fields"], err
    err = sb.expect_error(http.post(api + "/export/schedules", headers=h(u), timeout=sb.TIMEOUT,
                                    json={"entity": "audit_log", "interval": "daily", "destination": dest}), 422)
    assert field in err["fields"], err


def test_destination_needs_an_enabled_integration(api, new_user, s3, http):
    u = new_user()
    body = {"entity": "audit_log", "destination": {"type": "s3"}}
    err = sb.expect_error(http.post(api + "/export", headers=h(u), timeout=sb.TIMEOUT, json=body), 422)
    assert "no s3 integration" in err["fields"]["destination.type"], err
    sb.expect_ok(put(api, u, config(s3, enabled=False)))
    err = sb.expect_error(http.post(api + "/export", headers=h(u), timeout=sb.TIMEOUT, json=body), 422)
    assert "disabled" in err["fields"]["destination.type"], err
    # Another user's integration is not this user's destination.
    other = new_user()
    sb.expect_ok(put(api, other, config(s3)))
    assert sb.expect_ok(http.post(api + "/export", headers=h(other), timeout=sb.TIMEOUT, json=body), 202)
    err = sb.expect_error(http.post(api + "/export", headers=h(u), timeout=sb.TIMEOUT, json=body), 422)
    assert "disabled" in err["fields"]["destination.type"], err
