"""Notifications (issue 16): GET/PUT /users/me/notifications, and the worker sending the
chosen events through the user's SMTP connector to the stack's real SMTP server: an MQTT
broker whose health turns error gives one email; events not chosen give none; no
connector means skipped; a message left mid-send by a dead worker (expired lease) is
sent once by another."""

import email
import email.policy
import uuid

import pytest
import requests

import sb
from test_smtp import Mail

URL = "/users/me/notifications"


@pytest.fixture(scope="module")
def mail():
    return Mail()


def get(api, u):
    return requests.get(api + URL, headers=u.headers, timeout=sb.TIMEOUT)


def put(api, u, body):
    return requests.put(api + URL, json=body, headers=u.headers, timeout=sb.TIMEOUT)


def broken_mqtt(api, u):
    """An MQTT config whose broker is not there, checked now: health turns error."""
    body = {"broker_url": f"mqtt://127.0.0.1:{sb.free_port()}", "device_id": "d1", "topic_prefix": "lab/n"}
    sb.expect_ok(requests.put(api + "/users/me/integrations/mqtt", json=body, headers=u.headers, timeout=sb.TIMEOUT))
    h = sb.expect_ok(requests.get(api + "/users/me/integrations/mqtt/health", headers=u.headers, timeout=30))
    assert h["healthy"] is False, h


def rows(u):
    out = sb.psql("SELECT coalesce(json_agg(json_build_object('kind', kind, 'status', status, 'attempts', attempts, "
                  f"'last_error', last_error)), '[]') FROM notifications WHERE user_id = '{sb.sql_uuid(u.id)}'")
    import json
    return json.loads(out)


def test_defaults_and_save(api, new_user):
    u = new_user()
    d = sb.expect_ok(get(api, u))
    assert d["enabled"] is False and d["events"] == [] and d["channel"] == "email" and d["email_to"] is None
    assert set(d["available_events"]) == {"integration.health_error", "integration.health_expired",
                                          "webhook.disabled", "export.completed"}
    assert d["recent"] == []
    saved = sb.expect_ok(put(api, u, {"events": ["integration.health_error", "export.completed"],
                                      "email_to": "ops@example.org"}))
    assert saved["enabled"] is True and sorted(saved["events"]) == ["export.completed", "integration.health_error"]
    assert saved["email_to"] == "ops@example.org" and saved["updated_at"]
    assert sb.expect_ok(get(api, u))["email_to"] == "ops@example.org"
    audit = sb.expect_ok(requests.get(api + "/users/me/audit-log", params={"limit": 50}, headers=u.headers,
                                      timeout=sb.TIMEOUT))["items"]
    assert "notifications.updated" in [e["action"] for e in audit]


@pytest.mark.parametrize("body,field", [
    ({}, "events"),
    ({"events": ["integration.connected"]}, "events"),
    ({"events": [5]}, "events"),
    ({"events": "webhook.disabled"}, "events"),
    ({"events": [], "channel": "sms"}, "sms_to"),
    ({"events": [], "channel": "sms", "sms_to": "015550100"}, "sms_to"),
    ({"events": [], "sms_to": "+0155501000"}, "sms_to"),
    ({"events": [], "sms_to": "+1555"}, "sms_to"),
    ({"events": [], "sms_to": "+1555010000x"}, "sms_to"),
    ({"events": [], "sms_to": "+1234567890123456"}, "sms_to"),
    ({"events": [], "channel": "pigeon"}, "channel"),
    ({"events": [], "email_to": "nobody"}, "email_to"),
    ({"events": [], "email_to": "a@b.org\r\nBcc: c@d.org"}, "email_to"),
    ({"events": [], "enabled": "yes"}, "enabled"),
    ({"events": [], "phone": "+15550100"}, "phone"),
])
def test_invalid_settings(api, new_user, body, field):
    u = new_user()
    err = sb.expect_error(put(api, u, body), 422, "validation_failed")
    assert field in err["fields"], err


def test_settings_are_per_user(api, new_user):
    owner, other = new_user(), new_user()
    sb.expect_ok(put(api, owner, {"events": ["webhook.disabled"], "email_to": "owner@example.org"}))
    d = sb.expect_ok(get(api, other))
    assert d["enabled"] is False and d["events"] == [] and d["email_to"] is None


def test_mqtt_health_error_sends_one_email(api, new_user, mail):
    quiet, u = new_user(), new_user()
    # quiet chose only export.completed: its broker failing must not mail it.
    sb.expect_ok(requests.put(api + "/users/me/integrations/smtp", json=mail.config(), headers=quiet.headers,
                              timeout=sb.TIMEOUT))
    sb.expect_ok(put(api, quiet, {"events": ["export.completed"]}))
    broken_mqtt(api, quiet)
    sb.expect_ok(requests.put(api + "/users/me/integrations/smtp", json=mail.config(), headers=u.headers,
                              timeout=sb.TIMEOUT))
    sb.expect_ok(put(api, u, {"events": ["integration.health_error"]}))
    broken_mqtt(api, u)
    got = sb.retry_until(lambda: mail.messages(u.email), timeout=30)
    assert len(got) == 1, got
    msg = email.message_from_string(got[0]["data"], policy=email.policy.default)
    assert msg["Subject"] == "Switchboard: mqtt integration is error"
    assert msg["From"] == "switchboard@example.org" and msg["To"] == u.email
    assert "health changed" in msg.get_content() and "error" in msg.get_content()
    # The server took it just before the worker marked it sent.
    recent = sb.retry_until(lambda: (lambda r: r if r and r[0]["status"] == "sent" else None)(
        sb.expect_ok(get(api, u))["recent"]), timeout=10)
    assert [(r["kind"], r["status"], r["attempts"]) for r in recent] == [("integration.health_error", "sent", 1)]
    assert recent[0]["sent_at"]
    # Another check with the same outcome is no change: nothing new; scans again add nothing.
    requests.get(api + "/users/me/integrations/mqtt/health", headers=u.headers, timeout=30)
    sb.retry_until(lambda: False, timeout=3)
    assert len(mail.messages(u.email)) == 1
    assert len(rows(u)) == 1
    assert rows(quiet) == [] and mail.messages(quiet.email) == []


def test_without_a_connector_the_notification_is_skipped(api, new_user, mail):
    u = new_user()
    sb.expect_ok(put(api, u, {"events": ["integration.health_error"]}))
    broken_mqtt(api, u)
    done = sb.retry_until(lambda: [r for r in rows(u) if r["status"] != "pending" and r["status"] != "sending"],
                          timeout=30)
    assert done and done[0]["status"] == "skipped" and "smtp, sendgrid or ses" in done[0]["last_error"], done
    assert mail.messages(u.email) == []


def test_disabled_settings_send_nothing(api, new_user, mail):
    off, u = new_user(), new_user()
    sb.expect_ok(requests.put(api + "/users/me/integrations/smtp", json=mail.config(), headers=off.headers,
                              timeout=sb.TIMEOUT))
    sb.expect_ok(put(api, off, {"enabled": False, "events": ["integration.health_error"]}))
    broken_mqtt(api, off)
    # A second user's message shows that the notifier has run since.
    sb.expect_ok(requests.put(api + "/users/me/integrations/smtp", json=mail.config(), headers=u.headers,
                              timeout=sb.TIMEOUT))
    sb.expect_ok(put(api, u, {"events": ["integration.health_error"]}))
    broken_mqtt(api, u)
    assert sb.retry_until(lambda: mail.messages(u.email), timeout=30)
    assert rows(off) == [] and mail.messages(off.email) == []


def test_expired_lease_is_sent_once_by_another_worker(api, new_user, mail):
    """A worker that died mid-send left its message 'sending' with an expired lease."""
    u = new_user()
    sb.expect_ok(requests.put(api + "/users/me/integrations/smtp", json=mail.config(), headers=u.headers,
                              timeout=sb.TIMEOUT))
    uid = sb.sql_uuid(u.id)
    ev = str(uuid.uuid4())
    sb.psql("INSERT INTO events (id, message_id, user_id, type, data) VALUES "
            f"('{ev}', 'msg_{uuid.uuid4().hex}', '{uid}', 'webhook.disabled', "
            "'{\"webhook_id\": \"wh-1\", \"reason\": \"every delivery failed for too long\"}')")
    sb.psql("INSERT INTO notifications (user_id, event_id, kind, status, attempts, lease_until) VALUES "
            f"('{uid}', '{ev}', 'webhook.disabled', 'sending', 1, now() - interval '1 minute')")
    got = sb.retry_until(lambda: mail.messages(u.email), timeout=30)
    assert len(got) == 1, got
    msg = email.message_from_string(got[0]["data"], policy=email.policy.default)
    assert msg["Subject"] == "Switchboard: a webhook endpoint was disabled"
    assert "every delivery failed for too long" in msg.get_content()
    r = sb.retry_until(lambda: (lambda x: x if x[0]["status"] == "sent" else None)(rows(u)), timeout=10)
    assert r and [(x["status"], x["attempts"]) for x in r] == [("sent", 2)], rows(u)


def test_sendgrid_is_used_without_smtp(api, new_user):
    from test_sendgrid import config as sendgrid_config, received
    u = new_user()
    sb.expect_ok(requests.put(api + "/users/me/integrations/sendgrid", json=sendgrid_config(), headers=u.headers,
                              timeout=sb.TIMEOUT))
    sb.expect_ok(put(api, u, {"events": ["integration.health_error"]}))
    broken_mqtt(api, u)
    got = sb.retry_until(lambda: received(u.email), timeout=30)
    assert len(got) == 1 and got[0]["subject"] == "Switchboard: mqtt integration is error", got
    r = sb.retry_until(lambda: (lambda x: x if x and x[0]["status"] == "sent" else None)(rows(u)), timeout=10)
    assert r, rows(u)


def test_ses_is_used_when_it_is_the_only_email_connector(api, new_user):
    from test_ses import config as ses_config, received
    u = new_user()
    sb.expect_ok(requests.put(api + "/users/me/integrations/ses", json=ses_config(), headers=u.headers,
                              timeout=sb.TIMEOUT))
    sb.expect_ok(put(api, u, {"events": ["integration.health_error"]}))
    broken_mqtt(api, u)
    # The fake checks the SigV4 signature before it records the message.
    got = sb.retry_until(lambda: received(u.email), timeout=30)
    assert len(got) == 1, got
    assert got[0]["subject"] == "Switchboard: mqtt integration is error" and got[0]["from"] == "switchboard@example.org"
    r = sb.retry_until(lambda: (lambda x: x if x and x[0]["status"] == "sent" else None)(rows(u)), timeout=10)
    assert r and r[0]["attempts"] == 1, rows(u)


def sms_number(u):
    return "+4917" + str(uuid.UUID(u.id).int % 10**9).zfill(9)


def test_sms_settings_saved(api, new_user):
    u = new_user()
    assert sb.expect_ok(get(api, u))["sms_to"] is None
    d = sb.expect_ok(put(api, u, {"events": ["export.completed"], "channel": "sms", "sms_to": "+15555550100"}))
    assert d["channel"] == "sms" and d["sms_to"] == "+15555550100"
    assert sb.expect_ok(get(api, u))["sms_to"] == "+15555550100"


def test_sms_through_twilio_on_mqtt_health_error(api, new_user, mail):
    from test_twilio import config as twilio_config, received
    from test_sns import config as sns_config, received as sns_received
    u = new_user()
    to = sms_number(u)
    # Email and SNS are configured too: channel sms uses Twilio first, and only it.
    for name, body in (("smtp", mail.config()), ("twilio", twilio_config()), ("sns", sns_config())):
        sb.expect_ok(requests.put(api + f"/users/me/integrations/{name}", json=body, headers=u.headers,
                                  timeout=sb.TIMEOUT))
    sb.expect_ok(put(api, u, {"events": ["integration.health_error"], "channel": "sms", "sms_to": to}))
    broken_mqtt(api, u)
    got = sb.retry_until(lambda: received(to), timeout=30)
    assert len(got) == 1, got
    text = got[0]["body"]
    assert "mqtt" in text and "error" in text and len(text) <= 160, text
    assert "secret" not in text.lower() and "password" not in text.lower()
    r = sb.retry_until(lambda: (lambda x: x if x and x[0]["status"] == "sent" else None)(rows(u)), timeout=10)
    assert r and r[0]["attempts"] == 1, rows(u)
    assert sns_received(to) == [] and mail.messages(u.email) == []


def test_sms_falls_back_to_sns(api, new_user):
    from test_sns import config as sns_config, received
    u = new_user()
    to = sms_number(u)
    sb.expect_ok(requests.put(api + "/users/me/integrations/sns", json=sns_config(), headers=u.headers,
                              timeout=sb.TIMEOUT))
    sb.expect_ok(put(api, u, {"events": ["integration.health_error"], "channel": "sms", "sms_to": to}))
    broken_mqtt(api, u)
    got = sb.retry_until(lambda: received(to), timeout=30)
    assert len(got) == 1, got
    text = got[0]["message"]
    assert "mqtt" in text and "error" in text and len(text) <= 160, text
    r = sb.retry_until(lambda: (lambda x: x if x and x[0]["status"] == "sent" else None)(rows(u)), timeout=10)
    assert r, rows(u)


def test_sms_without_an_sms_connector_is_skipped(api, new_user, mail):
    u = new_user()
    sb.expect_ok(requests.put(api + "/users/me/integrations/smtp", json=mail.config(), headers=u.headers,
                              timeout=sb.TIMEOUT))
    sb.expect_ok(put(api, u, {"events": ["integration.health_error"], "channel": "sms", "sms_to": sms_number(u)}))
    broken_mqtt(api, u)
    r = sb.retry_until(lambda: (lambda x: x if x and x[0]["status"] == "skipped" else None)(rows(u)), timeout=30)
    assert r and "sms" in r[0]["last_error"].lower(), rows(u)
    assert mail.messages(u.email) == []
