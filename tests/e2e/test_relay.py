"""The Remote Lab relay (relay/, issue 18) through nginx to the stack's real mosquitto, with
the npm mqtt client over WebSocket as a browser page runs it (tests/e2e/relay_client.js):
tickets (single use, 30 s, hashed at rest), the password listener reached with the sealed
credentials while the browser sends none of them, publish and subscribe under the prefix in
MQTT 3.1.1 and 5.0, refusals outside it (#, $SYS/#, another user's prefix, will topics) with
the protocol's own answers, counted and audited, and the closes: broker down, integration
deleted, relay restarted (1012)."""

import hashlib
import json
import os
import subprocess
import threading
import time
import uuid

import pytest
import requests

import sb

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "relay_client.js")
WS_PATH = "/api/v1/users/me/integrations/mqtt/ws"


def mqtt_url(api):
    return api + "/users/me/integrations/mqtt"


def save(api, user, body):
    return sb.expect_ok(requests.put(mqtt_url(api), json=body, headers=user.headers, timeout=sb.TIMEOUT))


def config(broker, prefix, **overrides):
    body = {
        "enabled": True,
        "broker_url": f"mqtt://127.0.0.1:{broker.auth_port}",
        "use_authentication": True,
        "username": broker.user,
        "password": broker.password,
        "device_id": "lab-device-1",
        "topic_prefix": prefix,
    }
    body.update(overrides)
    return body


def ticket_resp(api, user):
    return requests.post(mqtt_url(api) + "/ws-ticket", headers=user.headers, timeout=sb.TIMEOUT)


def ws_url(base_url, ticket_data):
    assert ticket_data["url"].startswith(WS_PATH + "?ticket="), ticket_data
    return "ws://" + base_url.split("://", 1)[1] + ticket_data["url"]


def fresh_url(api, base_url, user):
    return ws_url(base_url, sb.expect_ok(ticket_resp(api, user)))


def node(mode, url, version, arg, timeout=40):
    proc = subprocess.run(["node", CLIENT, mode, url, str(version), arg], capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def run_mqtt(url, version, actions):
    return node("mqtt", url, version, json.dumps(actions))


def event(events, name, **match):
    for e in events:
        if e["event"] == name and all(e.get(k) == v for k, v in match.items()):
            return e
    raise AssertionError(f"no {name} {match} in {events}")


@pytest.fixture
def lab(api, base_url, new_user, broker):
    """A user with a saved config on the password listener under a unique prefix."""
    user = new_user()
    prefix = "lab/relay-" + uuid.uuid4().hex[:8]
    save(api, user, config(broker, prefix))
    user.prefix = prefix
    return user


# --- tickets -------------------------------------------------------------------------------------


def test_ticket_is_single_use_short_lived_and_hashed(api, lab):
    data = sb.expect_ok(ticket_resp(api, lab))
    assert set(data) >= {"ticket", "expires_in", "url"}, data
    assert data["expires_in"] == 30
    assert data["ticket"].startswith("sbrt_") and len(data["ticket"]) > 40
    assert data["url"] == WS_PATH + "?ticket=" + data["ticket"]
    rows = sb.psql(
        "SELECT json_agg(json_build_object('hash', ticket_hash, 'ttl', extract(epoch FROM expires_at - created_at)))"
        f" FROM mqtt_relay_tickets WHERE user_id = '{sb.sql_uuid(lab.id)}'"
    )
    rows = json.loads(rows)
    assert len(rows) == 1 and rows[0]["hash"] != data["ticket"] and len(rows[0]["hash"]) == 64, rows
    assert 29 <= rows[0]["ttl"] <= 31, rows
    assert data["ticket"] not in sb.psql("SELECT string_agg(ticket_hash, ',') FROM mqtt_relay_tickets")


def test_ticket_errors(api, new_user, broker):
    user = new_user()
    sb.expect_error(ticket_resp(api, user), 404, "not_found")
    save(api, user, config(broker, "lab/x", enabled=False))
    sb.expect_error(ticket_resp(api, user), 409, "integration_disabled")
    r = requests.post(mqtt_url(api) + "/ws-ticket", timeout=sb.TIMEOUT)
    sb.expect_error(r, 401, "unauthorized")


# --- the upgrade -----------------------------------------------------------------------------------


def upgrade_headers(protocol="mqtt"):
    h = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
         "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    if protocol:
        h["Sec-WebSocket-Protocol"] = protocol
    return h


def test_wrong_reused_and_expired_tickets_get_401_before_the_upgrade(api, base_url, lab):
    r = requests.get(base_url + WS_PATH, params={"ticket": "sbrt_nope"}, headers=upgrade_headers(), timeout=10)
    sb.expect_error(r, 401, "unauthorized")
    r = requests.get(base_url + WS_PATH, headers=upgrade_headers(), timeout=10)
    sb.expect_error(r, 401, "unauthorized")
    url = fresh_url(api, base_url, lab)
    first = run_mqtt(url, 4, [{"op": "end"}])
    assert event(first, "connect")["ok"] is True, first
    again = node("raw", url, 4, "5")
    assert event(again, "http")["status"] == 401, again
    # Expired: a ticket whose 30 s have passed.
    data = sb.expect_ok(ticket_resp(api, lab))
    sb.psql(f"UPDATE mqtt_relay_tickets SET expires_at = now() - interval '1 second' "
            f"WHERE user_id = '{sb.sql_uuid(lab.id)}' AND used_at IS NULL")
    assert event(node("raw", ws_url(base_url, data), 4, "5"), "http")["status"] == 401


def test_the_upgrade_needs_subprotocol_mqtt_and_a_websocket(api, base_url, lab):
    data = sb.expect_ok(ticket_resp(api, lab))
    r = requests.get(base_url + data["url"], headers=upgrade_headers(protocol=None), timeout=10)
    sb.expect_error(r, 400, "bad_request")
    r = requests.get(base_url + data["url"], timeout=10)
    sb.expect_error(r, 400, "bad_request")
    # Neither request used the ticket: it still opens the session.
    events = run_mqtt(ws_url(base_url, data), 4, [{"op": "end"}])
    assert event(events, "connect")["ok"] is True, events


# --- relaying ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [4, 5])
def test_publish_and_subscribe_under_the_prefix(api, base_url, lab, version):
    topic = f"{lab.prefix}/dev/{version}/temp"
    events = run_mqtt(fresh_url(api, base_url, lab), version, [
        {"op": "subscribe", "topic": f"{lab.prefix}/dev/#", "qos": 1},
        {"op": "publish", "topic": topic, "payload": "21.5", "qos": 1},
        {"op": "expect", "topic": topic, "ms": 8000},
        {"op": "end"},
    ])
    # The password listener let us in: the relay sent the sealed credentials.
    assert event(events, "connect")["ok"] is True, events
    assert event(events, "subscribe")["granted"] == [1], events
    assert event(events, "publish")["error"] is None, events
    got = event(events, "expect")
    assert got["received"] is True and got["messages"][0]["payload"] == "21.5", events


def test_the_browser_never_holds_the_password(api, base_url, lab, broker):
    view = sb.expect_ok(requests.get(mqtt_url(api), headers=lab.headers, timeout=sb.TIMEOUT))
    assert "password" not in view and broker.password not in json.dumps(view)
    data = sb.expect_ok(ticket_resp(api, lab))
    assert broker.password not in json.dumps(data)
    # A raw client sending a made-up password is still let in (the relay replaces it).
    events = node("raw", ws_url(base_url, data), 4, "3")
    assert event(events, "open")["protocol"] == "mqtt", events
    assert event(events, "packet", cmd="connack")["returnCode"] == 0, events


def test_refused_outside_the_prefix_v311(api, base_url, lab):
    events = run_mqtt(fresh_url(api, base_url, lab), 4, [
        {"op": "subscribe", "topic": "#"},
        {"op": "subscribe", "topic": "$SYS/#"},
        {"op": "subscribe", "topic": "lab/+"},
        {"op": "subscribe", "topic": lab.prefix + "2/#"},
        {"op": "subscribe", "topic": lab.prefix + "/ok/#"},
        {"op": "publish", "topic": "elsewhere/x", "payload": "no", "qos": 1},
        {"op": "wait_close", "ms": 5000},
    ])
    subs = [e for e in events if e["event"] == "subscribe"]
    # mqtt.js reports SUBACK failure 0x80 as an error ("Unspecified error" in 3.1.1).
    assert all("Subscribe error" in (s.get("error") or "") for s in subs[:4]), subs
    assert subs[4]["granted"] == [0], subs
    # 3.1.1 has no refusal for a PUBLISH: the session ends.
    assert event(events, "wait_close")["closed"] is True, events


def test_refused_outside_the_prefix_v5_is_counted_and_audited(api, base_url, lab):
    events = run_mqtt(fresh_url(api, base_url, lab), 5, [
        {"op": "subscribe", "topic": "#"},
        {"op": "subscribe", "topic": "$SYS/#"},
        {"op": "publish", "topic": "elsewhere/x", "payload": "no", "qos": 1},
        {"op": "publish", "topic": lab.prefix + "/fine", "payload": "yes", "qos": 1},
        {"op": "end"},
    ])
    subs = [e for e in events if e["event"] == "subscribe"]
    # v5 reason code 0x87, which mqtt.js reports as "Not authorized".
    assert all("Not authorized" in (s.get("error") or "") for s in subs), subs
    pubs = [e for e in events if e["event"] == "publish"]
    assert pubs[0]["reasonCode"] == 0x87 and pubs[0]["error"], pubs
    assert pubs[1]["error"] is None, pubs

    def counted():
        v = sb.expect_ok(requests.get(mqtt_url(api), headers=lab.headers, timeout=sb.TIMEOUT))
        return v["relay"] if v["relay"]["refused"] >= 3 else None

    relay = sb.retry_until(counted, timeout=15)
    assert relay["last_seen_at"] and sb.RFC3339_UTC_RE.match(relay["last_seen_at"]), relay
    audit = sb.expect_ok(requests.get(api + "/users/me/audit-log", params={"limit": 100}, headers=lab.headers,
                                      timeout=sb.TIMEOUT))["items"]
    actions = [a["action"] for a in audit]
    assert "integration.relay_opened" in actions and actions.count("integration.relay_refused") >= 3, actions


def test_another_users_prefix_is_out_of_reach(api, base_url, lab, new_user, broker):
    other = new_user()
    save(api, other, config(broker, "lab/other-" + uuid.uuid4().hex[:8]))
    # The other user's ticket opens the other user's session: its prefix, not lab's.
    events = run_mqtt(fresh_url(api, base_url, other), 5, [
        {"op": "subscribe", "topic": lab.prefix + "/#"},
        {"op": "publish", "topic": lab.prefix + "/x", "payload": "intrude", "qos": 1},
        {"op": "end"},
    ])
    assert "Not authorized" in (event(events, "subscribe").get("error") or ""), events
    assert event(events, "publish")["reasonCode"] == 0x87, events
    # And lab's tickets are lab's alone: the other user's token cannot take one for lab.
    assert sb.expect_ok(ticket_resp(api, other))["ticket"] != sb.expect_ok(ticket_resp(api, lab))["ticket"]


@pytest.mark.parametrize("version,code", [(4, 0x05), (5, 0x87)])
def test_will_topic_outside_the_prefix_is_refused(api, base_url, lab, version, code):
    # The CONNECT carries a will on another topic: CONNACK "not authorized", then the close.
    url = fresh_url(api, base_url, lab)
    proc = subprocess.run(["node", CLIENT, "raw", url, str(version), "10"], capture_output=True, text=True,
                          timeout=30, env={**os.environ, "RELAY_WILL": "elsewhere/will"})
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    ack = event(events, "packet", cmd="connack")
    assert (ack["returnCode"] if version == 4 else ack["reasonCode"]) == code, events
    close = event(events, "close")
    assert close["code"] == 1008 and "will topic" in close["reason"], events
    # Inside the prefix it is accepted.
    proc = subprocess.run(["node", CLIENT, "raw", fresh_url(api, base_url, lab), str(version), "3"],
                          capture_output=True, text=True, timeout=30, env={**os.environ, "RELAY_WILL": lab.prefix + "/w"})
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    ack = event(events, "packet", cmd="connack")
    assert (ack["returnCode"] if version == 4 else ack["reasonCode"]) == 0, events


def test_sessions_per_user_are_limited(api, base_url, lab):
    # SB_RELAY_SESSIONS_PER_USER (10 by default): the 11th open session of a user is a 429.
    urls = [fresh_url(api, base_url, lab) for _ in range(11)]
    proc = subprocess.run(["node", CLIENT, "hold", json.dumps(urls)], capture_output=True, text=True, timeout=60)
    held = event([json.loads(line) for line in proc.stdout.splitlines()], "held")
    assert held["results"] == [101] * 10 + [429], held


# --- closes --------------------------------------------------------------------------------------------


def test_broker_down_closes_with_a_reason(api, base_url, new_user, broker):
    user = new_user()
    save(api, user, config(broker, "lab/down", broker_url=f"mqtt://127.0.0.1:{sb.free_port()}"))
    events = node("raw", fresh_url(api, base_url, user), 4, "10")
    close = event(events, "close")
    assert close["code"] == 1011 and "broker_unavailable" in close["reason"], events


def test_untrusted_tls_broker_is_refused(api, base_url, new_user, broker):
    user = new_user()
    save(api, user, config(broker, "lab/tls", broker_url=f"mqtts://127.0.0.1:{broker.untrusted_port}",
                           use_authentication=False))
    close = event(node("raw", fresh_url(api, base_url, user), 4, "10"), "close")
    assert close["code"] == 1011 and "tls_error" in close["reason"], close


def test_trusted_tls_broker_relays(api, base_url, new_user, broker):
    user = new_user()
    save(api, user, config(broker, "lab/tls-ok", broker_url=f"mqtts://127.0.0.1:{broker.tls_port}",
                           use_authentication=False))
    events = run_mqtt(fresh_url(api, base_url, user), 5, [
        {"op": "subscribe", "topic": "lab/tls-ok/#"},
        {"op": "publish", "topic": "lab/tls-ok/a", "payload": "over tls"},
        {"op": "expect", "topic": "lab/tls-ok/a", "ms": 8000},
        {"op": "end"},
    ])
    assert event(events, "expect")["received"] is True, events


def test_sessions_whose_two_sides_end_together(api, base_url, new_user, broker):
    # Regression: when one epoll batch held events for both sockets of a session, the first
    # event freed the session and the second read freed memory (ASan: heap-use-after-free in
    # the relay's loop), and the relay died. Sessions on the plain and the TLS broker end with
    # the client's DISCONNECT and its socket dropped at once, so the broker hangs up with it.
    users = []
    for broker_url in (f"mqtt://127.0.0.1:{broker.port}", f"mqtts://127.0.0.1:{broker.tls_port}"):
        for _ in range(2):
            user = new_user()
            save(api, user, config(broker, "lab/burst", broker_url=broker_url, use_authentication=False))
            users.append(user)
    for _ in range(6):
        batch = [fresh_url(api, base_url, user) for user in users for _ in range(8)]
        got = event(node("burst", json.dumps(batch), 4, ""), "burst")
        assert got["connacks"] == len(batch), got
    user = new_user()
    save(api, user, config(broker, "lab/after-burst", broker_url=f"mqtt://127.0.0.1:{broker.port}",
                           use_authentication=False))
    events = run_mqtt(fresh_url(api, base_url, user), 4, [{"op": "end"}])
    assert event(events, "connect")["ok"] is True, events


@pytest.mark.parametrize("version", [4, 5])
def test_websocket_broker_relays(api, base_url, new_user, broker, version):
    # The saved broker is mosquitto's websockets listener: the relay speaks MQTT over its
    # own WebSocket upstream (subprotocol mqtt), not only to the browser.
    user = new_user()
    prefix = f"lab/ws-{uuid.uuid4().hex[:8]}"
    save(api, user, config(broker, prefix, broker_url=f"ws://127.0.0.1:{broker.ws_port}/mqtt",
                           use_authentication=False))
    payload = "over ws " + "p" * 20000  # a frame with the 16-bit extended length
    events = run_mqtt(fresh_url(api, base_url, user), version, [
        {"op": "subscribe", "topic": f"{prefix}/#", "qos": 1},
        {"op": "publish", "topic": f"{prefix}/a", "payload": payload, "qos": 1},
        {"op": "expect", "topic": f"{prefix}/a", "ms": 8000},
        {"op": "end"},
    ])
    assert event(events, "subscribe")["granted"] == [1], events
    got = event(events, "expect")
    assert got["received"] is True and got["messages"][0]["payload"] == payload, events
    assert "broker_unavailable" not in json.dumps(events)


def test_websocket_broker_that_refuses_the_upgrade(api, base_url, new_user, broker):
    # nginx answers 404 to the upgrade, the plain MQTT port answers no HTTP at all.
    port = base_url.rsplit(":", 1)[1]
    for url, reason in ((f"ws://127.0.0.1:{port}/no-broker-here", "refused the WebSocket upgrade"),
                        (f"ws://127.0.0.1:{broker.port}/mqtt", "broker_unavailable")):
        user = new_user()
        save(api, user, config(broker, "lab/ws-bad", broker_url=url, use_authentication=False))
        close = event(node("raw", fresh_url(api, base_url, user), 4, "10"), "close")
        assert close["code"] == 1011 and reason in close["reason"], (url, close)


def start_raw(url, seconds=30):
    proc = subprocess.Popen(["node", CLIENT, "raw", url, "4", str(seconds)], stdout=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(json.loads(line))
        if lines[-1]["event"] in ("packet", "close", "http", "timeout"):
            break
    return proc, lines


def finish_raw(proc, lines):
    out, _ = proc.communicate(timeout=30)
    return lines + [json.loads(line) for line in out.splitlines() if line.strip()]


def test_deleting_the_integration_closes_its_sessions(api, base_url, lab):
    proc, lines = start_raw(fresh_url(api, base_url, lab))
    assert event(lines, "packet", cmd="connack")["returnCode"] == 0, lines
    sb.expect_ok(requests.delete(mqtt_url(api), headers=lab.headers, timeout=sb.TIMEOUT))
    events = finish_raw(proc, lines)
    close = event(events, "close")
    assert close["code"] == 1008 and "deleted or disabled" in close["reason"], events


def test_relay_restart_tells_clients_to_reconnect(api, base_url, lab, stack):
    proc, lines = start_raw(fresh_url(api, base_url, lab))
    assert event(lines, "packet", cmd="connack")["returnCode"] == 0, lines
    stack("restart", "relay")
    close = event(finish_raw(proc, lines), "close")
    assert close["code"] == 1012 and "restart" in close["reason"], close
    # The reconnect, with a new ticket, works against the new relay.
    events = run_mqtt(fresh_url(api, base_url, lab), 4, [{"op": "end"}])
    assert event(events, "connect")["ok"] is True, events


def test_after_a_key_rotation_the_relay_opens_the_resealed_password(api, base_url, lab):
    """scripts/rotate-key --add-key re-seals every broker password with a new key: the
    relay is restarted with it, so a session still gets the broker's credentials (a relay
    left on the old keys could open none of them)."""
    root = os.path.abspath(os.path.join(HERE, "..", ".."))
    proc = subprocess.run([os.path.join(root, "scripts", "rotate-key"), "--add-key"], env=os.environ.copy(),
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"rotate-key: {proc.stdout}\n{sb.rotate_key_diagnostics(proc.stderr)}"
    events = run_mqtt(fresh_url(api, base_url, lab), 4, [{"op": "end"}])
    assert event(events, "connect")["ok"] is True, events


# --- a slow database -----------------------------------------------------------------------------

# A session that publishes to its own subscription every 100 ms and prints each message that
# comes back: {"event": "ready"} once subscribed, then {"event": "echo"} per message.
ECHO_JS = r"""
const path = require('path');
const mqtt = require(path.join(process.argv[1], 'node_modules', 'mqtt'));
const [url, topic] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, keepalive: 30, clean: true });
c.on('connect', () => c.subscribe(topic, { qos: 0 }, () => {
  out({ event: 'ready' });
  let n = 0;
  setInterval(() => c.publish(topic, String(n++)), 100);
}));
c.on('message', () => out({ event: 'echo' }));
c.on('close', () => { out({ event: 'close' }); process.exit(0); });
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
"""


class TicketLock:
    """Holds a row lock on a ticket from psql (FOR UPDATE in an open transaction), so the
    relay's UPDATE that consumes it waits until release()."""

    def __init__(self, ticket):
        digest = hashlib.sha256(ticket.encode()).hexdigest()
        cmd = ["psql", "-X", "-h", os.path.join(os.environ["SB_VAR"], "pg", "run"), "-d", "switchboard", "-tA",
               "-v", "ON_ERROR_STOP=1"]
        cmd = ["runuser", "-u", "postgres", "--"] + cmd if os.geteuid() == 0 else cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                                     env={**os.environ, "PGAPPNAME": "sb-e2e-ticket-lock"})
        self.proc.stdin.write(f"BEGIN;\nSELECT 1 FROM mqtt_relay_tickets WHERE ticket_hash = '{digest}' FOR UPDATE;\n")
        self.proc.stdin.flush()
        wait_for(lambda: sb.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sb-e2e-ticket-lock'"
                                 " AND state = 'idle in transaction'") == "1", 15, "lock held by psql")

    @staticmethod
    def wait_for_the_relay():
        wait_for(lambda: sb.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                 " AND query LIKE 'UPDATE mqtt_relay_tickets%'") == "1", 15, "relay query waiting")

    def release(self):
        if self.proc.stdin.closed:
            return
        self.proc.stdin.write("COMMIT;\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def read_until_answer(proc):
    """The raw client's events up to its first packet, close or HTTP answer; then it is ended."""
    events = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1]["event"] in ("packet", "close", "http", "timeout"):
            break
    proc.kill()
    proc.wait(timeout=30)
    return events


def wait_for(cond, timeout, what):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"no {what} in {timeout} s")


def test_a_slow_database_does_not_stall_the_open_sessions(api, base_url, lab):
    """The relay's database work runs off its event loop (relay/offload.c): while the
    session-open query of one browser waits on a row lock held here (psql), an open session
    keeps relaying; once the lock goes, the waiting browser's session opens."""
    root = os.path.abspath(os.path.join(HERE, "..", ".."))
    echo = subprocess.Popen(["node", "-e", ECHO_JS, root, fresh_url(api, base_url, lab), lab.prefix + "/echo"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    seen = []

    def read():
        for line in echo.stdout:
            seen.append(json.loads(line)["event"])

    threading.Thread(target=read, daemon=True).start()
    data = sb.expect_ok(ticket_resp(api, lab))
    wait_for(lambda: "ready" in seen, 15, "subscription of the open session")
    lock = TicketLock(data["ticket"])
    try:
        waiting = subprocess.Popen(["node", CLIENT, "raw", ws_url(base_url, data), "4", "30"], stdout=subprocess.PIPE,
                                   text=True)
        lock.wait_for_the_relay()  # the relay's ticket UPDATE waits on the row lock ...
        # ... and the open session's messages keep coming through the relay meanwhile.
        # Counted, not timed: five more echoes must come while the lock is still held (a
        # relay whose loop waits on the database relays none). The deadline only ends a
        # failing run; it stays under the relay's 10 s limit for a session still opening.
        before = seen.count("echo")
        wait_for(lambda: seen.count("echo") - before >= 5, 8, "message relayed while the database waited")
        assert "close" not in seen and waiting.poll() is None
    finally:
        lock.release()
        echo.stdin.close()
        echo.wait(timeout=30)
    events = read_until_answer(waiting)  # the waiting browser's upgrade goes on: 101, then its CONNACK
    assert event(events, "packet", cmd="connack")["returnCode"] == 0, events


def test_a_relay_stopped_while_its_database_waits_exits_cleanly(api, base_url, lab, stack):
    """SIGTERM while a session-open query waits on a lock: the relay cancels the query, joins
    its worker thread and exits (logging "stopped") before scripts/stack's 5 s SIGKILL; under
    ASan the exit is checked for leaks. The waiting browser gets 503 (service restart)."""
    data = sb.expect_ok(ticket_resp(api, lab))
    lock = TicketLock(data["ticket"])
    try:
        waiting = subprocess.Popen(["node", CLIENT, "raw", ws_url(base_url, data), "4", "30"], stdout=subprocess.PIPE,
                                   text=True)
        lock.wait_for_the_relay()
        log = os.path.join(os.environ["SB_VAR"], "log", "relay.log")
        start = os.path.getsize(log)
        stack("restart", "relay")
        with open(log, errors="replace") as f:
            f.seek(start)
            tail = f.read()
        assert "was cancelled at stop" in tail and '"stopped"' in tail, tail
        answer = event(read_until_answer(waiting), "http")
        assert answer["status"] == 503 and "service_unavailable" in answer["body"], answer
    finally:
        lock.release()
    events = run_mqtt(fresh_url(api, base_url, lab), 4, [{"op": "end"}])
    assert event(events, "connect")["ok"] is True, events
