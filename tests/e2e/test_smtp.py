"""The SMTP email connector against the stack's real SMTP server (aiosmtpd, STARTTLS on
the dev CA): config GET/PUT/DELETE, field validation, the write-only sealed password,
test sends that arrive (headers and body read back from the server), bad credentials,
unreachable and silent servers, TLS failures (untrusted certificate, host-name mismatch),
health, audit and isolation between users."""

import base64
import email
import email.policy
import os
import socket
import threading

import pytest
import requests

import sb

JSON = {"Content-Type": "application/json"}
VIEW_KEYS = {"enabled", "host", "port", "security", "username", "has_password", "from_address", "status",
             "last_error", "last_checked_at", "updated_at"}


class Mail:
    def __init__(self):
        creds = sb.env_file_values(os.path.join(os.environ["SB_VAR"], "smtp", "credentials"))
        self.user, self.password = creds["SMTP_USER"], creds["SMTP_PASSWORD"]
        self.port = int(os.environ["SB_SMTP_PORT"])
        self.tls_port = int(os.environ["SB_SMTPS_PORT"])
        self.untrusted_port = int(os.environ["SB_SMTP_UNTRUSTED_PORT"])
        self.http = f"http://127.0.0.1:{os.environ['SB_SMTP_HTTP_PORT']}"

    def messages(self, to):
        got = requests.get(self.http + "/messages", timeout=sb.TIMEOUT).json()
        return [m for m in got if to in m["rcpt_tos"]]

    def config(self, **overrides):
        body = {"host": "localhost", "port": self.port, "security": "starttls", "username": self.user,
                "password": self.password, "from_address": "switchboard@example.org"}
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not None}


@pytest.fixture(scope="module")
def mail():
    return Mail()


def url(api, suffix=""):
    return api + "/users/me/integrations/smtp" + suffix


def put(api, user, body):
    return requests.put(url(api), json=body, headers=user.headers, timeout=sb.TIMEOUT)


def get(api, user):
    return requests.get(url(api), headers=user.headers, timeout=sb.TIMEOUT)


def send_test(api, user, body=None):
    kwargs = {"json": body} if body is not None else {}
    return requests.post(url(api, "/test"), headers=user.headers, timeout=30, **kwargs)


def parsed(message):
    return email.message_from_string(message["data"], policy=email.policy.default)


# --- saving and reading ---------------------------------------------------------------------------


def test_save_view_and_password_is_write_only(api, new_user, mail):
    u = new_user()
    sb.expect_error(get(api, u), 404, "not_found")
    saved = sb.expect_ok(put(api, u, mail.config()))
    assert set(saved) >= VIEW_KEYS, saved
    assert saved["host"] == "localhost" and saved["port"] == mail.port and saved["security"] == "starttls"
    assert saved["username"] == mail.user and saved["has_password"] is True
    assert saved["from_address"] == "switchboard@example.org"
    for resp in (get(api, u), put(api, u, mail.config(password=None))):
        assert mail.password not in resp.text
        assert "password_encrypted" not in resp.text
    assert sb.expect_ok(get(api, u))["has_password"] is True, "a PUT without password keeps the stored one"
    stored = sb.psql(f"SELECT config::text FROM user_integrations WHERE user_id = '{sb.sql_uuid(u.id)}' "
                     "AND provider = 'smtp'")
    assert mail.password not in stored and "password_encrypted" in stored
    catalog = requests.get(api + "/integrations", headers=u.headers, timeout=sb.TIMEOUT)
    assert mail.password not in catalog.text


def test_defaults_port_by_security(api, new_user, mail):
    u = new_user()
    assert sb.expect_ok(put(api, u, {"host": "mail.example.org", "from_address": "a@example.org"}))["port"] == 587
    assert sb.expect_ok(put(api, u, {"host": "mail.example.org", "security": "tls",
                                     "from_address": "a@example.org"}))["port"] == 465


@pytest.mark.parametrize("body,field", [
    ({"from_address": "a@example.org"}, "host"),
    ({"host": "localhost"}, "from_address"),
    ({"host": "smtp://localhost", "from_address": "a@example.org"}, "host"),
    ({"host": "localhost", "from_address": "not-an-address"}, "from_address"),
    ({"host": "localhost", "from_address": "a@example.org\r\nBcc: x@example.org"}, "from_address"),
    ({"host": "localhost", "from_address": "a@example.org", "security": "none"}, "security"),
    ({"host": "localhost", "from_address": "a@example.org", "security": "ssl3"}, "security"),
    ({"host": "localhost", "from_address": "a@example.org", "port": 0}, "port"),
    ({"host": "localhost", "from_address": "a@example.org", "port": 70000}, "port"),
    ({"host": "localhost", "from_address": "a@example.org", "username": "a\nb"}, "username"),
    ({"host": "localhost", "from_address": "a@example.org", "bcc": "x@example.org"}, "bcc"),
])
def test_invalid_config_fields(api, new_user, body, field):
    u = new_user()
    err = sb.expect_error(put(api, u, body), 422, "validation_failed")
    assert field in err["fields"], err


def test_delete(api, new_user, mail):
    u = new_user()
    sb.expect_ok(put(api, u, mail.config()))
    assert requests.delete(url(api), headers=u.headers, timeout=sb.TIMEOUT).status_code in (200, 204)
    sb.expect_error(get(api, u), 404, "not_found")
    sb.expect_error(send_test(api, u), 404, "not_found")


# --- sending --------------------------------------------------------------------------------------


def test_test_email_arrives_at_own_address(api, new_user, mail):
    u = new_user()
    sb.expect_ok(put(api, u, mail.config()))
    resp = send_test(api, u)
    data = sb.expect_ok(resp)
    assert data["sent"] is True and data["to"] == u.email
    assert mail.password not in resp.text
    got = mail.messages(u.email)
    assert len(got) == 1, got
    m = got[0]
    assert m["mail_from"] == "switchboard@example.org" and m["auth_user"] == mail.user
    msg = parsed(m)
    assert msg["From"] == "switchboard@example.org" and msg["To"] == u.email
    assert msg["Subject"] == "Switchboard test email"
    assert msg["Date"] and msg["Message-ID"].endswith("@example.org>")
    assert msg["Auto-Submitted"] == "auto-generated"
    assert "This is a test email from Switchboard." in msg.get_content()
    view = sb.expect_ok(get(api, u))
    assert view["status"] == "connected" and view["last_error"] is None and view["last_checked_at"]
    audit = sb.expect_ok(requests.get(api + "/users/me/audit-log", params={"limit": 100}, headers=u.headers,
                                      timeout=sb.TIMEOUT))["items"]
    actions = [e["action"] for e in audit]
    assert "integration.tested" in actions and "integration.connected" in actions, actions


def test_test_email_to_given_address_over_implicit_tls(api, new_user, mail):
    u = new_user()
    sb.expect_ok(put(api, u, mail.config(security="tls", port=mail.tls_port)))
    to = sb.unique_email("smtp-to")
    assert sb.expect_ok(send_test(api, u, {"to": to}))["to"] == to
    got = mail.messages(to)
    assert len(got) == 1 and got[0]["port"] == mail.tls_port, got
    assert parsed(got[0])["To"] == to


@pytest.mark.parametrize("body", [{"to": "nobody"}, {"to": "a@b.org\r\nBcc: c@d.org"}, {"to": 5}, {"cc": "a@b.org"}])
def test_test_body_is_validated(api, new_user, mail, body):
    u = new_user()
    sb.expect_ok(put(api, u, mail.config()))
    sb.expect_error(send_test(api, u, body), 422, "validation_failed")


def test_bad_password_is_a_clear_502(api, new_user, mail):
    u = new_user()
    sb.expect_ok(put(api, u, mail.config(password="wrong-password")))
    resp = send_test(api, u)
    err = sb.expect_error(resp, 502, "provider_unavailable")
    assert "username or password" in err["message"], err
    assert "wrong-password" not in resp.text
    view = sb.expect_ok(get(api, u))
    assert view["status"] == "error" and "username or password" in view["last_error"]
    assert mail.messages(u.email) == []


def test_missing_credentials_refused_by_server(api, new_user, mail):
    u = new_user()
    sb.expect_ok(put(api, u, mail.config(username=None, password=None)))
    err = sb.expect_error(send_test(api, u), 502, "provider_unavailable")
    assert "refused" in err["message"], err


def test_unreachable_server_is_502(api, new_user, mail):
    u = new_user()
    sb.expect_ok(put(api, u, mail.config(host="127.0.0.1", port=sb.free_port())))
    err = sb.expect_error(send_test(api, u), 502, "provider_unavailable")
    assert "could not reach the mail server" in err["message"], err


def test_silent_server_is_504(api, new_user, mail):
    """A listener that accepts and never greets: the call times out."""
    u = new_user()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.5)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                pass
    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        sb.expect_ok(put(api, u, mail.config(host="127.0.0.1", port=srv.getsockname()[1])))
        err = sb.expect_error(send_test(api, u), 504, "provider_timeout")
        assert "did not answer" in err["message"], err
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        srv.close()


def test_untrusted_certificate_is_a_tls_error(api, new_user, mail):
    u = new_user()
    sb.expect_ok(put(api, u, mail.config(port=mail.untrusted_port)))
    err = sb.expect_error(send_test(api, u), 502, "provider_unavailable")
    assert "TLS" in err["message"] and "certificate" in err["message"], err
    assert mail.messages(u.email) == []


def test_host_name_mismatch_is_a_tls_error(api, new_user, mail):
    """127.0.0.2 serves the dev-CA certificate, which names localhost and 127.0.0.1 only."""
    u = new_user()
    sb.expect_ok(put(api, u, mail.config(host="127.0.0.2")))
    err = sb.expect_error(send_test(api, u), 502, "provider_unavailable")
    assert "TLS" in err["message"], err
    assert mail.messages(u.email) == []


# --- health ---------------------------------------------------------------------------------------


def test_health_connects_ehlo_and_auth(api, new_user, mail):
    u = new_user()
    sb.expect_ok(put(api, u, mail.config()))
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=30))
    assert h["healthy"] is True and h["status"] in ("connected", "active"), h
    sb.expect_ok(put(api, u, mail.config(password="nope-nope")))
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=30))
    assert h["healthy"] is False and "username or password" in h["error"], h
    assert mail.messages(u.email) == [], "a health check sends nothing"


# --- isolation ------------------------------------------------------------------------------------


def test_other_user_cannot_see_or_use_config(api, new_user, mail):
    owner, other = new_user(), new_user()
    sb.expect_ok(put(api, owner, mail.config()))
    for resp in (get(api, other), send_test(api, other)):
        sb.expect_error(resp, 404, "not_found")
        assert mail.password not in resp.text and "localhost" not in resp.text
    requests.delete(url(api), headers=other.headers, timeout=sb.TIMEOUT)
    assert sb.expect_ok(get(api, owner))["host"] == "localhost"
    assert mail.messages(other.email) == []


# --- private-address guard ------------------------------------------------------------------------


def set_env_value(path, key, value):
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith(key + "=")]
    lines.append(f"{key}={value}\n")
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)


def test_private_address_guard_applies_to_the_host(api, new_user, mail, stack):
    u = new_user()
    env_file = os.path.join(os.environ["SB_VAR"], "switchboard.env")
    sb.expect_ok(put(api, u, mail.config()))
    try:
        set_env_value(env_file, "SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "0")
        stack("restart", "integrations")
        # The old workers retire after their request: wait for the new ones.
        resp = sb.retry_until(lambda: (lambda r: r if r.status_code == 422 else None)(send_test(api, u)), timeout=10)
        assert resp is not None, "tests still reach 127.0.0.1 after the guard was switched on"
        err = sb.expect_error(resp, 422, "validation_failed")
        assert "private" in err["fields"]["host"], err
        assert mail.messages(u.email) == []
    finally:
        set_env_value(env_file, "SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "1")
        stack("restart", "integrations")
    assert sb.retry_until(lambda: send_test(api, u).status_code == 200, timeout=10)
