"""The MQTT integration against the stack's real mosquitto: config GET/PUT/DELETE, field
validation, the write-only sealed password, connection tests on every listener (anonymous
TCP, password, TLS trusted and untrusted, websockets), the saved test and its status, the
audit log, isolation between users, concurrent saves, key rotation and the private-address
guard."""

import json
import os
import re
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import sb

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
JSON = {"Content-Type": "application/json"}
VIEW_KEYS = {"enabled", "broker_url", "username", "use_authentication", "has_password", "device_id", "topic_prefix",
             "last_connected_at", "status", "last_error", "last_checked_at", "updated_at"}


# --- helpers ------------------------------------------------------------------------------------


def url(api):
    return api + "/users/me/integrations/mqtt"


def get(api, user):
    return requests.get(url(api), headers=user.headers, timeout=sb.TIMEOUT)


def put(api, user, body):
    return requests.put(url(api), json=body, headers=user.headers, timeout=sb.TIMEOUT)


def delete(api, user):
    return requests.delete(url(api), headers=user.headers, timeout=sb.TIMEOUT)


def probe(api, user, body=None):
    """POST .../mqtt/test: with a body tests that config, without one the saved config."""
    kwargs = {"json": body} if body is not None else {}
    return requests.post(url(api) + "/test", headers=user.headers, timeout=30, **kwargs)




def auth_config(broker, **overrides):
    """A config for the password listener with the right credentials."""
    body = {
        "enabled": True,
        "broker_url": f"mqtt://127.0.0.1:{broker.auth_port}",
        "use_authentication": True,
        "username": broker.user,
        "password": broker.password,
        "device_id": "lab-device-1",
        "topic_prefix": "lab/e2e",
    }
    body.update(overrides)
    return body


def anon_config(broker_url, **overrides):
    body = {"broker_url": broker_url, "device_id": "lab-device-1", "topic_prefix": "lab/e2e"}
    body.update(overrides)
    return body


def db_rows(user):
    """The user's mqtt rows as dicts (every column)."""
    out = sb.psql(
        "SELECT coalesce(json_agg(row_to_json(ui)), '[]') FROM user_integrations ui "
        f"WHERE user_id = '{sb.sql_uuid(user.id)}' AND provider = 'mqtt'"
    )
    return json.loads(out)


def db_row(user):
    rows = db_rows(user)
    assert len(rows) == 1, rows
    return rows[0]


def audit_events(api, user):
    data = sb.expect_ok(
        requests.get(api + "/users/me/audit-log", params={"limit": 100}, headers=user.headers, timeout=sb.TIMEOUT)
    )
    return data["items"]


def expect_connected(result):
    assert result["connected"] is True, result
    assert "error_code" not in result or result["error_code"] is None, result
    assert isinstance(result["latency_ms"], int) and result["latency_ms"] >= 0, result
    assert result["broker_info"]["protocol"] == "mqtt/5.0", result
    assert "mosquitto" in (result["broker_info"]["version"] or ""), result
    diag = result["diagnostics"]
    assert diag["connack"]["reason_code"] == 0, result
    assert diag["pubsub"]["ok"] is True, result
    return result


def expect_failed(result, *codes):
    assert result["connected"] is False, result
    assert result["error_code"] in codes, result
    assert isinstance(result["error"], str) and result["error"].strip(), result
    assert result["latency_ms"] is None, result
    return result


def assert_view(view):
    assert set(view) >= VIEW_KEYS, view
    for secret in ("password", "password_encrypted"):
        assert secret not in view, view
    assert sb.RFC3339_UTC_RE.match(view["updated_at"]), view


class FakeBroker:
    """A TCP listener on 127.0.0.1 served by a thread, standing in for brokers mosquitto
    cannot play. mode "silent" accepts and records what it receives but never answers;
    mode "mqtt311" is a minimal MQTT 3.1.1-only broker: it refuses an MQTT 5 CONNECT with
    the 3.1.1 CONNACK "unacceptable protocol version", accepts a 3.1.1 one, answers
    SUBSCRIBE, publishes $SYS/broker/version and echoes PUBLISH to a subscribed topic."""

    VERSION = "fake-broker 3.1.1-only"

    def __init__(self, mode):
        self.mode = mode
        self.received = bytearray()
        self.levels = []  # protocol level of each CONNECT
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _read_exact(self, conn, n):
        buf = b""
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
            with self.lock:
                self.received += chunk
        return buf

    def _read_packet(self, conn):
        first = self._read_exact(conn, 1)[0]
        length, mult = 0, 1
        while True:
            b = self._read_exact(conn, 1)[0]
            length += (b & 0x7F) * mult
            mult *= 128
            if not b & 0x80:
                break
        return first >> 4, self._read_exact(conn, length) if length else b""

    @staticmethod
    def _packet(first, body):
        n, rl = len(body), b""
        while True:
            b = n % 128
            n //= 128
            rl += bytes([b | (0x80 if n else 0)])
            if not n:
                break
        return bytes([first]) + rl + body

    @staticmethod
    def _utf8(s):
        data = s.encode()
        return len(data).to_bytes(2, "big") + data

    def _serve(self, conn):
        conn.settimeout(0.2)
        subs = set()
        with conn:
            while not self.stop.is_set():
                try:
                    kind, body = self._read_packet(conn)
                except socket.timeout:
                    continue
                except (EOFError, OSError):
                    return
                if self.mode == "silent":
                    continue
                if kind == 1:  # CONNECT
                    level = body[6]
                    self.levels.append(level)
                    if level != 4:
                        conn.sendall(b"\x20\x02\x00\x01")  # 3.1.1 CONNACK: unacceptable protocol version
                        return
                    conn.sendall(b"\x20\x02\x00\x00")
                elif kind == 8:  # SUBSCRIBE
                    pid, rest, topics = body[:2], body[2:], []
                    while rest:
                        n = int.from_bytes(rest[:2], "big")
                        topics.append(rest[2:2 + n].decode())
                        rest = rest[3 + n:]
                    conn.sendall(self._packet(0x90, pid + b"\x00" * len(topics)))
                    for t in topics:
                        subs.add(t)
                        if t == "$SYS/broker/version":
                            conn.sendall(self._packet(0x30, self._utf8(t) + self.VERSION.encode()))
                elif kind == 3:  # PUBLISH, QoS 0
                    n = int.from_bytes(body[:2], "big")
                    if body[2:2 + n].decode() in subs:
                        conn.sendall(self._packet(0x30, body))
                elif kind == 12:  # PINGREQ
                    conn.sendall(b"\xd0\x00")
                elif kind == 14:  # DISCONNECT
                    return

    def saw(self, text):
        with self.lock:
            return text.encode() in bytes(self.received)


@pytest.fixture(scope="module")
def user(new_user):
    """A user who never saves a configuration (validation and body-only tests)."""
    return new_user()


# --- GET / PUT ------------------------------------------------------------------------------------


def test_get_before_save_is_404(api, new_user):
    u = new_user()
    err = sb.expect_error(get(api, u), 404, "not_found")
    assert "fields" not in err


def test_put_returns_the_view_without_the_password(api, new_user, broker):
    u = new_user()
    resp = put(api, u, auth_config(broker))
    view = sb.expect_ok(resp)
    assert_view(view)
    assert resp.json().get("message"), resp.json()
    assert view["enabled"] is True
    assert view["broker_url"] == f"mqtt://127.0.0.1:{broker.auth_port}"
    assert view["username"] == broker.user
    assert view["use_authentication"] is True
    assert view["has_password"] is True
    assert view["device_id"] == "lab-device-1"
    assert view["topic_prefix"] == "lab/e2e"
    assert view["status"] == "disconnected"
    assert view["last_connected_at"] is None
    assert view["last_error"] is None
    assert broker.password not in resp.text


def test_put_without_a_password_has_no_password(api, new_user, broker):
    u = new_user()
    view = sb.expect_ok(put(api, u, anon_config(f"mqtt://127.0.0.1:{broker.port}")))
    assert view["has_password"] is False
    assert view["use_authentication"] is False
    assert view["username"] is None


def test_get_matches_the_put(api, new_user, broker):
    u = new_user()
    saved = sb.expect_ok(put(api, u, auth_config(broker)))
    resp = get(api, u)
    assert sb.expect_ok(resp) == saved
    assert broker.password not in resp.text


def test_second_put_replaces_the_config(api, new_user, broker):
    u = new_user()
    sb.expect_ok(put(api, u, auth_config(broker)))
    view = sb.expect_ok(put(api, u, anon_config(f"ws://localhost:{broker.ws_port}/mqtt", device_id="dev-2")))
    assert view["broker_url"] == f"ws://localhost:{broker.ws_port}/mqtt"
    assert view["device_id"] == "dev-2"
    assert view["use_authentication"] is False
    assert view["username"] is None
    assert sb.expect_ok(get(api, u)) == view
    assert len(db_rows(u)) == 1


def test_put_without_a_password_keeps_the_stored_one(api, new_user, broker):
    u = new_user()
    sb.expect_ok(put(api, u, auth_config(broker)))
    sealed = db_row(u)["config"]["password_encrypted"]
    body = auth_config(broker, device_id="lab-device-2")
    del body["password"]
    view = sb.expect_ok(put(api, u, body))
    assert view["has_password"] is True, view
    assert view["device_id"] == "lab-device-2"
    assert db_row(u)["config"]["password_encrypted"] == sealed
    # The kept password still opens the password listener.
    expect_connected(sb.expect_ok(probe(api, u)))


def test_put_with_an_empty_password_clears_it(api, new_user, broker):
    u = new_user()
    sb.expect_ok(put(api, u, auth_config(broker)))
    view = sb.expect_ok(put(api, u, auth_config(broker, password="")))
    assert view["has_password"] is False, view
    assert "password_encrypted" not in db_row(u)["config"]
    # Without its password the listener refuses the client.
    expect_failed(sb.expect_ok(probe(api, u)), "not_authorized", "bad_credentials")


def test_stored_row_holds_no_plaintext_password(api, new_user, broker):
    u = new_user()
    sb.expect_ok(put(api, u, auth_config(broker)))
    row = db_row(u)
    assert broker.password not in json.dumps(row), row
    config = row["config"]
    assert "password" not in config, config
    assert config["password_encrypted"].startswith("sb1."), config
    assert config["username"] == broker.user
    # The whole table, as text, does not hold it either.
    everything = sb.psql(
        f"SELECT row_to_json(ui)::text FROM user_integrations ui WHERE user_id = '{sb.sql_uuid(u.id)}'"
    )
    assert broker.password not in everything


def test_two_users_sealing_the_same_password_store_different_texts(api, new_user, broker):
    a, b = new_user(), new_user()
    sb.expect_ok(put(api, a, auth_config(broker)))
    sb.expect_ok(put(api, b, auth_config(broker)))
    assert db_row(a)["config"]["password_encrypted"] != db_row(b)["config"]["password_encrypted"]


def test_disabled_config_needs_no_fields(api, new_user):
    u = new_user()
    view = sb.expect_ok(put(api, u, {"enabled": False}))
    assert view["enabled"] is False
    assert view["broker_url"] is None and view["device_id"] is None and view["topic_prefix"] is None
    assert sb.expect_ok(get(api, u)) == view


def test_disabled_config_still_validates_the_fields_it_has(api, new_user):
    u = new_user()
    err = sb.expect_error(put(api, u, {"enabled": False, "broker_url": "http://x"}), 422, "validation_failed")
    assert set(err["fields"]) == {"broker_url"}, err


# --- validation ----------------------------------------------------------------------------------

VALID = {"broker_url": "mqtt://broker.example.com:1883", "device_id": "dev-1", "topic_prefix": "lab/dev-1"}


def without(*names):
    return {k: v for k, v in VALID.items() if k not in names}


def with_(**overrides):
    body = dict(VALID)
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    "body, fields",
    [
        (without("broker_url"), {"broker_url"}),
        (without("device_id"), {"device_id"}),
        (without("topic_prefix"), {"topic_prefix"}),
        ({}, {"broker_url", "device_id", "topic_prefix"}),
        ({"enabled": True}, {"broker_url", "device_id", "topic_prefix"}),
        (with_(broker_url=None), {"broker_url"}),
        (with_(broker_url=""), {"broker_url"}),
        (with_(broker_url="http://broker.example.com"), {"broker_url"}),
        (with_(broker_url="https://broker.example.com"), {"broker_url"}),
        (with_(broker_url="broker.example.com:1883"), {"broker_url"}),
        (with_(broker_url="mqtt://u:p@broker.example.com"), {"broker_url"}),
        (with_(broker_url="mqtt://user@broker.example.com"), {"broker_url"}),
        (with_(broker_url="mqtt://broker.example.com:0"), {"broker_url"}),
        (with_(broker_url="mqtt://broker.example.com:70000"), {"broker_url"}),
        (with_(broker_url="mqtt://broker.example.com:65536"), {"broker_url"}),
        (with_(broker_url="mqtt://broker.example.com:abc"), {"broker_url"}),
        (with_(broker_url="mqtt://broker.example.com:"), {"broker_url"}),
        (with_(broker_url="mqtt://broker.example.com:-1"), {"broker_url"}),
        (with_(broker_url="mqtt://broker.example.com:1883/topic"), {"broker_url"}),
        (with_(broker_url="mqtts://broker.example.com/x"), {"broker_url"}),
        (with_(broker_url="mqtt://"), {"broker_url"}),
        (with_(broker_url="mqtt://bad host"), {"broker_url"}),
        (with_(topic_prefix="lab/+/x"), {"topic_prefix"}),
        (with_(topic_prefix="lab/#"), {"topic_prefix"}),
        (with_(topic_prefix="$SYS"), {"topic_prefix"}),
        (with_(topic_prefix=""), {"topic_prefix"}),
        (with_(topic_prefix="t" * 201), {"topic_prefix"}),
        (with_(device_id="dev\u0001"), {"device_id"}),
        (with_(device_id="dev\n1"), {"device_id"}),
        (with_(device_id="dev\u007f"), {"device_id"}),
        (with_(device_id=""), {"device_id"}),
        (with_(device_id="d" * 129), {"device_id"}),
        (with_(username="u" * 257), {"username"}),
        (with_(username="us\u0000er"), {"username"}),
        (with_(password="p" * 1025), {"password"}),
        (with_(use_authentication=True), {"username"}),
        (with_(use_authentication=True, username=""), {"username"}),
        (with_(use_authentication=True, username="u", password=7), {"password"}),
        (with_(broker_url=5), {"broker_url"}),
        (with_(enabled="yes"), {"enabled"}),
        (with_(enabled=1), {"enabled"}),
        (with_(use_authentication="true"), {"use_authentication"}),
        (with_(device_id=["a"]), {"device_id"}),
        (with_(topic_prefix={"a": 1}), {"topic_prefix"}),
        (with_(broker_url="x" * 2049), {"broker_url"}),
    ],
    ids=lambda v: None if isinstance(v, (dict, set)) else str(v),
)
def test_put_validation_reports_the_bad_fields(api, user, body, fields):
    err = sb.expect_error(put(api, user, body), 422, "validation_failed")
    assert set(err["fields"]) == fields, err
    for msg in err["fields"].values():
        assert isinstance(msg, str) and msg, err
    # A rejected save stores nothing.
    sb.expect_error(get(api, user), 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        with_(broker_url="mqtt://broker.example.com"),
        with_(broker_url="mqtt://broker.example.com/"),
        with_(broker_url="MQTT://broker.example.com:1"),
        with_(broker_url="tcp://broker.example.com:65535"),
        with_(broker_url="ssl://broker.example.com:8883"),
        with_(broker_url="mqtts://10.0.0.5:8883"),
        with_(broker_url="mqtt://[::1]:1883"),
        with_(broker_url="ws://broker.example.com/mqtt"),
        with_(broker_url="wss://broker.example.com:8084/mqtt/path"),
        with_(device_id="d" * 128, topic_prefix="t" * 200, username="u" * 256, use_authentication=True),
        with_(device_id="Gerät-ü-1", topic_prefix="labor/gerät"),
        with_(topic_prefix="a/$b"),
        with_(enabled=False, use_authentication=False),
    ],
)
def test_put_accepts_valid_boundaries(api, new_user, body):
    u = new_user()
    view = sb.expect_ok(put(api, u, body))
    assert view["broker_url"] == body["broker_url"]
    assert view["device_id"] == body["device_id"]
    assert view["topic_prefix"] == body["topic_prefix"]


def test_put_reports_several_bad_fields_at_once(api, user):
    body = {
        "enabled": True,
        "broker_url": "http://broker.example.com",
        "device_id": "d" * 129,
        "topic_prefix": "lab/#",
        "use_authentication": True,
    }
    err = sb.expect_error(put(api, user, body), 422, "validation_failed")
    assert set(err["fields"]) == {"broker_url", "device_id", "topic_prefix", "username"}, err


def test_validation_messages_never_echo_the_password(api, user):
    secret = "pw-" + "s3cr3t" * 3
    resp = put(api, user, with_(broker_url="http://x", password=secret))
    sb.expect_error(resp, 422, "validation_failed")
    assert secret not in resp.text


@pytest.mark.parametrize(
    "body",
    [b'{"broker_url":', b"{broker_url: 'x'}", b'{"a": 1} trailing', b"[]", b'"mqtt"', b"null"],
    ids=["truncated", "not-json", "trailing", "array", "string", "null"],
)
def test_malformed_json_is_400(api, user, body):
    resp = requests.put(url(api), data=body, headers={**user.headers, **JSON}, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 400, "malformed_json")
    resp = requests.post(url(api) + "/test", data=body, headers={**user.headers, **JSON}, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 400, "malformed_json")


def test_put_without_a_body_is_400(api, user):
    resp = requests.put(url(api), headers={**user.headers, **JSON}, timeout=sb.TIMEOUT)
    sb.expect_error(resp, 400, "malformed_json")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_non_json_body_is_415(api, user, content_type):
    data = json.dumps(VALID).encode()
    headers = {**user.headers, "Content-Type": content_type}
    sb.expect_error(requests.put(url(api), data=data, headers=headers, timeout=sb.TIMEOUT), 415,
                    "unsupported_media_type")
    sb.expect_error(requests.post(url(api) + "/test", data=data, headers=headers, timeout=sb.TIMEOUT), 415,
                    "unsupported_media_type")
    sb.expect_error(get(api, user), 404, "not_found")


# --- connection tests with a body (nothing stored) --------------------------------------------


def test_anonymous_tcp_listener_connects(api, user, broker):
    result = expect_connected(sb.expect_ok(probe(api, user, anon_config(f"mqtt://127.0.0.1:{broker.port}"))))
    assert result["diagnostics"]["address"] == "127.0.0.1", result
    assert result["diagnostics"]["pubsub"]["topic"].startswith("lab/e2e/"), result
    # A test with a body saves nothing.
    sb.expect_error(get(api, user), 404, "not_found")


def test_tcp_scheme_and_localhost_connect(api, user, broker):
    expect_connected(sb.expect_ok(probe(api, user, anon_config(f"tcp://localhost:{broker.port}"))))


@pytest.mark.parametrize(
    "device_id",
    ["d" * 128, "a" + "\u00fc" * 60, "\u00fc" * 128, "\U0001f600" * 40, "lab device #1 / +"],
    ids=["ascii-128", "odd-multibyte", "multibyte-128", "emoji", "mqtt-special"],
)
def test_any_valid_device_id_can_connect(api, user, broker, device_id):
    """The client id is built from the device id: any device id PUT accepts must give a
    client id the broker accepts (valid UTF-8, whatever its length)."""
    expect_connected(sb.expect_ok(probe(api, user, anon_config(f"mqtt://127.0.0.1:{broker.port}",
                                                                device_id=device_id))))


def test_auth_listener_with_the_right_credentials_connects(api, user, broker):
    resp = probe(api, user, auth_config(broker))
    result = expect_connected(sb.expect_ok(resp))
    assert result["diagnostics"]["connack"]["reason_code"] == 0
    assert broker.password not in resp.text


def test_auth_listener_with_a_wrong_password_fails(api, user, broker):
    resp = probe(api, user, auth_config(broker, password="wrong-" + broker.password))
    result = expect_failed(sb.expect_ok(resp), "not_authorized", "bad_credentials")
    assert result["broker_info"] is None, result
    assert result["diagnostics"]["connack"]["reason_code"] != 0, result
    assert broker.password not in resp.text


def test_auth_listener_without_credentials_fails(api, user, broker):
    body = anon_config(f"mqtt://127.0.0.1:{broker.auth_port}")
    expect_failed(sb.expect_ok(probe(api, user, body)), "not_authorized", "bad_credentials")


def test_trusted_tls_listener_connects(api, user, broker):
    result = expect_connected(sb.expect_ok(probe(api, user, anon_config(f"mqtts://localhost:{broker.tls_port}"))))
    tls = result["diagnostics"]["tls"]
    assert tls["trusted"] is True, tls
    assert tls["hostname_match"] is True, tls
    assert tls["protocol"].startswith("TLS"), tls
    assert "verify_error" not in tls, tls


def test_ssl_scheme_is_tls_too(api, user, broker):
    result = expect_connected(sb.expect_ok(probe(api, user, anon_config(f"ssl://localhost:{broker.tls_port}"))))
    assert result["diagnostics"]["tls"]["trusted"] is True, result


def test_untrusted_tls_listener_fails(api, user, broker):
    body = anon_config(f"mqtts://localhost:{broker.untrusted_port}")
    result = expect_failed(sb.expect_ok(probe(api, user, body)), "tls_untrusted")
    tls = result["diagnostics"]["tls"]
    assert tls["trusted"] is False, tls
    assert tls.get("verify_error"), tls


def test_tls_to_a_plain_listener_fails(api, user, broker):
    body = anon_config(f"mqtts://localhost:{broker.port}", timeout_seconds=3)
    expect_failed(sb.expect_ok(probe(api, user, body)), "tls_failed", "timeout")


def test_websocket_listener_connects(api, user, broker):
    expect_connected(sb.expect_ok(probe(api, user, anon_config(f"ws://localhost:{broker.ws_port}"))))


def test_websocket_listener_with_a_path_connects(api, user, broker):
    expect_connected(sb.expect_ok(probe(api, user, anon_config(f"ws://127.0.0.1:{broker.ws_port}/mqtt"))))


def test_broker_speaking_only_mqtt_3_1_1_is_used_with_3_1_1(api, user):
    with FakeBroker("mqtt311") as fake:
        result = sb.expect_ok(probe(api, user, anon_config(f"mqtt://127.0.0.1:{fake.port}")))
    assert fake.levels[:2] == [5, 4], fake.levels
    assert result["connected"] is True, result
    assert result["broker_info"]["protocol"] == "mqtt/3.1.1", result
    assert result["broker_info"]["version_raw"] == FakeBroker.VERSION, result
    assert result["broker_info"]["version"] == "fake-broker/3.1.1-only", result
    assert result["diagnostics"].get("mqtt5_refused") is True, result
    assert result["diagnostics"]["pubsub"]["ok"] is True, result


def test_broker_that_never_answers_is_a_timeout(api, user):
    with FakeBroker("silent") as fake:
        t0 = time.monotonic()
        resp = probe(api, user, anon_config(f"mqtt://127.0.0.1:{fake.port}", timeout_seconds=1))
        elapsed = time.monotonic() - t0
    result = expect_failed(sb.expect_ok(resp), "timeout")
    assert re.search(r"time|within", result["error"], re.I), result
    assert elapsed < 10, elapsed  # bounded by the timeout, not by a default


def test_closed_port_is_connection_refused(api, user):
    port = sb.free_port()
    result = expect_failed(
        sb.expect_ok(probe(api, user, anon_config(f"mqtt://127.0.0.1:{port}"))), "connection_refused"
    )
    assert str(port) in result["error"], result


def test_unknown_host_is_dns_failed(api, user):
    result = expect_failed(
        sb.expect_ok(probe(api, user, anon_config("mqtt://no-such-host.invalid:1883"))), "dns_failed"
    )
    assert "no-such-host.invalid" in result["error"], result


@pytest.mark.parametrize("timeout", [0, 16, -1, "5", 2.5, True])
def test_bad_timeout_is_422(api, user, broker, timeout):
    body = anon_config(f"mqtt://127.0.0.1:{broker.port}", timeout_seconds=timeout)
    err = sb.expect_error(probe(api, user, body), 422, "validation_failed")
    assert set(err["fields"]) == {"timeout_seconds"}, err


def test_timeout_bounds_are_accepted(api, user, broker):
    for timeout in (1, 15):
        body = anon_config(f"mqtt://127.0.0.1:{broker.port}", timeout_seconds=timeout)
        assert sb.expect_ok(probe(api, user, body))["connected"] is True


def test_test_body_is_validated_like_a_put(api, user):
    """Field by field like a PUT, but device_id and topic_prefix are optional (spec 000's
    MQTTTestRequest has neither)."""
    body = {"broker_url": "http://broker.example.com", "topic_prefix": "#"}
    err = sb.expect_error(probe(api, user, body), 422, "validation_failed")
    assert set(err["fields"]) == {"broker_url", "topic_prefix"}, err


def test_test_with_a_body_leaves_the_saved_status_alone(api, new_user, broker):
    u = new_user()
    sb.expect_ok(put(api, u, auth_config(broker)))
    before = sb.expect_ok(get(api, u))
    expect_failed(
        sb.expect_ok(probe(api, u, anon_config(f"mqtt://127.0.0.1:{sb.free_port()}"))), "connection_refused"
    )
    assert sb.expect_ok(get(api, u)) == before


# --- the saved test ---------------------------------------------------------------------------


def test_saved_test_without_a_saved_config_is_404(api, new_user):
    sb.expect_error(probe(api, new_user()), 404, "not_found")


def test_saved_test_connects_and_records_the_status(api, new_user, broker):
    u = new_user()
    sb.expect_ok(put(api, u, auth_config(broker)))
    expect_connected(sb.expect_ok(probe(api, u)))
    view = sb.expect_ok(get(api, u))
    assert view["status"] == "connected", view
    assert sb.RFC3339_UTC_RE.match(view["last_connected_at"] or ""), view
    assert sb.RFC3339_UTC_RE.match(view["last_checked_at"] or ""), view
    assert view["last_error"] is None, view


def test_saved_test_of_a_closed_port_records_the_error(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, anon_config(f"mqtt://127.0.0.1:{sb.free_port()}")))
    expect_failed(sb.expect_ok(probe(api, u)), "connection_refused")
    view = sb.expect_ok(get(api, u))
    assert view["status"] == "error", view
    assert isinstance(view["last_error"], str) and view["last_error"], view
    assert view["last_connected_at"] is None, view
    assert sb.RFC3339_UTC_RE.match(view["last_checked_at"] or ""), view


def test_saved_test_after_an_error_then_success_clears_the_error(api, new_user, broker):
    u = new_user()
    sb.expect_ok(put(api, u, anon_config(f"mqtt://127.0.0.1:{sb.free_port()}")))
    sb.expect_ok(probe(api, u))
    assert sb.expect_ok(get(api, u))["status"] == "error"
    sb.expect_ok(put(api, u, anon_config(f"mqtt://127.0.0.1:{broker.port}")))
    expect_connected(sb.expect_ok(probe(api, u)))
    view = sb.expect_ok(get(api, u))
    assert view["status"] == "connected" and view["last_error"] is None, view


def test_a_new_save_resets_the_status(api, new_user, broker):
    u = new_user()
    sb.expect_ok(put(api, u, auth_config(broker)))
    sb.expect_ok(probe(api, u))
    view = sb.expect_ok(put(api, u, auth_config(broker, device_id="other")))
    assert view["status"] == "disconnected", view


def test_test_with_a_body_may_use_the_stored_password(api, new_user, broker):
    """A body without a password falls back to the stored one (documented in mqtt_test.c)."""
    u = new_user()
    sb.expect_ok(put(api, u, auth_config(broker)))
    body = auth_config(broker)
    del body["password"]
    expect_connected(sb.expect_ok(probe(api, u, body)))


def test_stored_password_is_never_sent_to_another_broker(api, new_user, broker):
    """The write-only password must not leave for a broker the request names: a test with a
    body that points somewhere else gets no stored password."""
    u = new_user()
    sb.expect_ok(put(api, u, auth_config(broker)))
    with FakeBroker("silent") as fake:
        body = auth_config(broker, broker_url=f"mqtt://127.0.0.1:{fake.port}", timeout_seconds=1)
        del body["password"]
        resp = probe(api, u, body)
        sb.retry_until(lambda: fake.saw(broker.user), timeout=3)
        assert fake.saw(broker.user), "the fake broker never received a CONNECT"
        leaked = fake.saw(broker.password)
    sb.expect_ok(resp)
    assert not leaked, "the stored MQTT password was sent to a broker named only in the test request"


def test_sealed_password_is_bound_to_its_owner(api, new_user, broker):
    """A sealed password copied into another user's row does not open there."""
    a, b = new_user(), new_user()
    sb.expect_ok(put(api, a, auth_config(broker)))
    sb.expect_ok(put(api, b, auth_config(broker, password="b-password-123")))
    sealed = db_row(a)["config"]["password_encrypted"]
    assert re.fullmatch(r"sb1\.\d+\.[A-Za-z0-9_-]+", sealed), sealed
    where = f"WHERE user_id = '{sb.sql_uuid(b.id)}' AND provider = 'mqtt'"
    sb.psql(f"UPDATE user_integrations SET config = jsonb_set(config, '{{password_encrypted}}', "
            f"to_jsonb('{sealed}'::text)) {where}")
    try:
        resp = probe(api, b)
        sb.expect_error(resp, 500, "secret_unavailable")
        assert broker.password not in resp.text
        # Saving again (with a password) repairs it.
        sb.expect_ok(put(api, b, auth_config(broker)))
        expect_connected(sb.expect_ok(probe(api, b)))
    finally:
        # Never leave a row no key opens: scripts/rotate-key would report it (test below).
        sb.psql(f"DELETE FROM user_integrations {where} AND config->>'password_encrypted' = '{sealed}'")


def test_put_cannot_inject_a_sealed_password(api, new_user, broker):
    a, b = new_user(), new_user()
    sb.expect_ok(put(api, a, auth_config(broker)))
    sealed = db_row(a)["config"]["password_encrypted"]
    body = auth_config(broker, password_encrypted=sealed, status="connected")
    del body["password"]
    resp = put(api, b, body)
    if resp.status_code == 422:
        return  # refusing unknown fields is fine too
    view = sb.expect_ok(resp)
    assert view["has_password"] is False, view
    assert view["status"] == "disconnected", view
    assert "password_encrypted" not in db_row(b)["config"]


# --- audit log -------------------------------------------------------------------------------------


def test_audit_log_records_save_update_test_and_delete(api, new_user, broker):
    u = new_user()
    sb.expect_ok(put(api, u, auth_config(broker)))
    sb.expect_ok(put(api, u, auth_config(broker, device_id="lab-device-2")))
    sb.expect_ok(probe(api, u))
    sb.expect_ok(delete(api, u))

    events = audit_events(api, u)
    actions = [e["action"] for e in events]
    assert actions[:4] == [
        "integration.disconnected",
        "integration.tested",
        "integration.updated",
        "integration.connected",
    ], actions
    for e in events[:4]:
        assert e["provider"] == "mqtt", e
    tested = events[1]
    assert tested["details"].get("connected") is True, tested
    assert broker.password not in json.dumps(events)
    assert "password" not in json.dumps([e["details"] for e in events]).lower()


def test_audit_log_of_a_failed_saved_test(api, new_user):
    u = new_user()
    sb.expect_ok(put(api, u, anon_config(f"mqtt://127.0.0.1:{sb.free_port()}")))
    sb.expect_ok(probe(api, u))
    tested = audit_events(api, u)[0]
    assert tested["action"] == "integration.tested" and tested["provider"] == "mqtt", tested
    assert tested["details"].get("connected") is False, tested
    assert tested["details"].get("error_code") == "connection_refused", tested


def test_rejected_requests_write_no_audit_event(api, new_user, broker):
    u = new_user()
    before = len(audit_events(api, u))
    sb.expect_error(put(api, u, with_(broker_url="http://x")), 422, "validation_failed")
    sb.expect_error(delete(api, u), 404, "not_found")
    sb.expect_error(probe(api, u), 404, "not_found")
    sb.expect_ok(probe(api, u, anon_config(f"mqtt://127.0.0.1:{broker.port}")))
    assert len(audit_events(api, u)) == before


# --- DELETE -------------------------------------------------------------------------------------


def test_delete_removes_the_config(api, new_user, broker):
    u = new_user()
    sb.expect_ok(put(api, u, auth_config(broker)))
    resp = delete(api, u)
    sb.expect_ok(resp)
    sb.expect_error(get(api, u), 404, "not_found")
    assert db_rows(u) == []
    sb.expect_error(delete(api, u), 404, "not_found")
    sb.expect_error(probe(api, u), 404, "not_found")
    assert sb.expect_ok(requests.get(api + "/users/me/integrations", headers=u.headers, timeout=sb.TIMEOUT)) == []


def test_save_after_delete_starts_afresh(api, new_user, broker):
    u = new_user()
    sb.expect_ok(put(api, u, auth_config(broker)))
    sb.expect_ok(delete(api, u))
    body = auth_config(broker)
    del body["password"]
    view = sb.expect_ok(put(api, u, body))
    assert view["has_password"] is False, view  # the deleted password does not come back
    assert audit_events(api, u)[0]["action"] == "integration.connected"


# --- isolation ------------------------------------------------------------------------------------


def test_users_cannot_see_or_change_each_others_config(api, new_user, broker):
    a, b = new_user(), new_user()
    a_view = sb.expect_ok(put(api, a, auth_config(broker)))
    sb.expect_error(get(api, b), 404, "not_found")
    sb.expect_error(probe(api, b), 404, "not_found")
    sb.expect_error(delete(api, b), 404, "not_found")
    assert sb.expect_ok(get(api, a)) == a_view

    b_view = sb.expect_ok(put(api, b, anon_config(f"mqtt://127.0.0.1:{broker.port}", device_id="b-device")))
    assert b_view["has_password"] is False, b_view  # B does not inherit A's password
    assert b_view["device_id"] == "b-device"
    assert sb.expect_ok(get(api, a)) == a_view
    assert len(db_rows(a)) == 1 and len(db_rows(b)) == 1
    assert db_row(a)["id"] != db_row(b)["id"]

    sb.expect_ok(delete(api, b))
    sb.expect_error(get(api, b), 404, "not_found")
    assert sb.expect_ok(get(api, a)) == a_view
    assert len(db_rows(a)) == 1


def test_a_body_test_never_uses_another_users_password(api, new_user, broker):
    a, b = new_user(), new_user()
    sb.expect_ok(put(api, a, auth_config(broker)))
    body = auth_config(broker)
    del body["password"]
    expect_failed(sb.expect_ok(probe(api, b, body)), "not_authorized", "bad_credentials")


# --- concurrency --------------------------------------------------------------------------------


def test_concurrent_puts_leave_one_row(api, new_user, broker):
    u = new_user()
    n = 10

    def save(i):
        return put(api, u, auth_config(broker, device_id=f"device-{i}"))

    with ThreadPoolExecutor(max_workers=n) as pool:
        responses = list(pool.map(save, range(n)))
    for r in responses:
        sb.expect_ok(r)
    count = sb.psql(
        f"SELECT count(*) FROM user_integrations WHERE user_id = '{sb.sql_uuid(u.id)}' AND provider = 'mqtt'"
    )
    assert count == "1", count
    view = sb.expect_ok(get(api, u))
    assert view["device_id"] in {f"device-{i}" for i in range(n)}, view
    assert view["has_password"] is True
    actions = [e["action"] for e in audit_events(api, u) if e["action"].startswith("integration.")]
    assert len(actions) == n, actions
    # One save created the integration; the others updated it.
    counts = {a: actions.count(a) for a in set(actions)}
    assert counts == {"integration.connected": 1, "integration.updated": n - 1}, counts
    # The saved password is intact whichever save came last.
    expect_connected(sb.expect_ok(probe(api, u)))


# --- key rotation ---------------------------------------------------------------------------------


def key_versions():
    values = sb.env_file_values(os.path.join(os.environ["SB_VAR"], "switchboard.env"))
    return [int(part.split(":", 1)[0]) for part in values["SB_ENCRYPTION_KEYS"].split(",") if part.strip()]


def test_key_rotation_keeps_the_password_working(api, new_user, broker):
    u = new_user()
    sb.expect_ok(put(api, u, auth_config(broker)))
    old = db_row(u)["config"]["password_encrypted"]
    assert old.startswith("sb1."), old
    new_version = max(key_versions()) + 1

    proc = subprocess.run(
        [os.path.join(ROOT, "scripts", "rotate-key"), "--add-key"],
        env=os.environ.copy(), cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, f"rotate-key exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert new_version in key_versions()

    sealed = db_row(u)["config"]["password_encrypted"]
    assert sealed.startswith(f"sb1.{new_version}."), sealed
    assert sealed != old
    assert broker.password not in json.dumps(db_row(u))

    # The responders were reloaded with the new key: the saved test opens the password...
    expect_connected(sb.expect_ok(probe(api, u)))
    # ...and new saves seal with it.
    v = new_user()
    sb.expect_ok(put(api, v, auth_config(broker)))
    assert db_row(v)["config"]["password_encrypted"].startswith(f"sb1.{new_version}.")
    expect_connected(sb.expect_ok(probe(api, v)))


# --- private-address guard --------------------------------------------------------------------


def set_env_value(path, key, value):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    pattern = re.compile(rf"^\s*(export\s+)?{re.escape(key)}\s*=")
    out, found = [], False
    for line in lines:
        if pattern.match(line):
            out.append(f"{key}={value}\n")
            found = True
        else:
            out.append(line)
    if not found:
        out.append(f"{key}={value}\n")
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(out)


def test_private_address_guard_blocks_loopback(api, new_user, broker, stack):
    u = new_user()
    env_file = os.path.join(os.environ["SB_VAR"], "switchboard.env")
    body = anon_config(f"mqtt://127.0.0.1:{broker.port}")

    def outcome():
        return sb.expect_ok(probe(api, u, body))

    try:
        set_env_value(env_file, "SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "0")
        stack("restart", "integrations")
        # The old workers retire after their request: wait for the new ones.
        result = sb.retry_until(lambda: (lambda r: r if r["connected"] is False else None)(outcome()), timeout=10)
        assert result, "tests still connect to 127.0.0.1 after the guard was switched on"
        expect_failed(result, "address_blocked")
        assert "127.0.0.1" in result["error"], result
        for blocked in (f"mqtt://localhost:{broker.port}", f"mqtts://localhost:{broker.tls_port}",
                        f"ws://localhost:{broker.ws_port}", "mqtt://[::1]:1883", "mqtt://10.0.0.1:1883",
                        "mqtt://169.254.169.254:1883", "mqtt://0.0.0.0:1883"):
            r = sb.expect_ok(probe(api, u, anon_config(blocked)))
            expect_failed(r, "address_blocked")
        # The saved test is guarded the same way.
        sb.expect_ok(put(api, u, body))
        expect_failed(sb.expect_ok(probe(api, u)), "address_blocked")
        assert sb.expect_ok(get(api, u))["status"] == "error"
    finally:
        set_env_value(env_file, "SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "1")
        stack("restart", "integrations")
    result = sb.retry_until(lambda: (lambda r: r if r["connected"] else None)(outcome()), timeout=10)
    assert result, "tests still blocked after the guard was switched off again"
    expect_connected(result)
