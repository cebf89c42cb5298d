"""Issue 16's "Done means" as one user's journey: they configure SMTP and S3 through the
API, choose to be told about health errors and completed exports, get one email when
their MQTT broker's health turns error, find their scheduled export in their bucket
(the real S3 server) and get one "export is ready" email for it. (LDAP sign-in with three
environment variables: test_ldap_config.py::test_three_variables_and_no_group_mapping.)"""

import email
import email.policy

import requests

import sb
from test_notifications import broken_mqtt, put as put_notifications
from test_s3 import BUCKET, config as s3_config, fake_object, put as put_s3
from test_smtp import Mail
from test_transfer_export import h, wait_job
from test_transfer_s3 import local_download, s3  # noqa: F401 (fixture)


def subjects(mail, u):
    return sorted(email.message_from_string(m["data"], policy=email.policy.default)["Subject"]
                  for m in mail.messages(u.email))


def test_smtp_and_s3_user_journey(api, new_user, s3, http):  # noqa: F811
    mail, u = Mail(), new_user()
    sb.expect_ok(requests.put(api + "/users/me/integrations/smtp", json=mail.config(), headers=u.headers,
                              timeout=sb.TIMEOUT))
    sb.expect_ok(put_s3(api, u, s3_config(s3)))
    sb.expect_ok(put_notifications(api, u, {"events": ["integration.health_error", "export.completed"]}))

    broken_mqtt(api, u)
    got = sb.retry_until(lambda: subjects(mail, u) or None, timeout=30)
    assert got == ["Switchboard: mqtt integration is error"], got

    sched = sb.expect_ok(http.post(api + "/export/schedules", headers=h(u), timeout=sb.TIMEOUT, json={
        "entity": "audit_log", "format": "csv", "interval": "daily", "at": "03:00",
        "destination": {"type": "s3", "prefix": "journey/"}}), 201)
    sb.psql(f"UPDATE export_schedules SET next_run_at = now() WHERE id = '{sb.sql_uuid(sched['id'])}'")
    job_id = sb.retry_until(lambda: sb.expect_ok(http.get(api + "/export/schedules", headers=h(u),
                                                          timeout=sb.TIMEOUT))[0]["last_job_id"], timeout=30)
    assert job_id, "the schedule did not run"
    done = wait_job(api, u, job_id)
    assert done["status"] == "completed" and done["destination_status"] == "delivered", done
    obj = fake_object(s3, BUCKET, done["destination_key"])
    assert obj.status_code == 200 and obj.content == local_download(api, u, done)

    got = sb.retry_until(lambda: (lambda s: s if len(s) == 2 else None)(subjects(mail, u)), timeout=30)
    assert got == ["Switchboard: mqtt integration is error", "Switchboard: your export is ready"], got
    ready = [email.message_from_string(m["data"], policy=email.policy.default) for m in mail.messages(u.email)]
    body = next(m for m in ready if m["Subject"] == "Switchboard: your export is ready").get_content()
    assert job_id in body, body
    recent = sb.expect_ok(requests.get(api + "/users/me/notifications", headers=u.headers,
                                       timeout=sb.TIMEOUT))["recent"]
    assert sorted((r["kind"], r["status"]) for r in recent) == [("export.completed", "sent"),
                                                                 ("integration.health_error", "sent")], recent
