"""The relay restarted with other settings (issue 18): SB_RELAY_BYTES_PER_SECOND beside
SB_RELAY_MESSAGES_PER_SECOND. The relay is restarted with small limits for each test (and
restarted again with the suite's settings after it). Beyond a limit a 5.0 session gets
DISCONNECT 0x96 (message rate too high), then the WebSocket closes with 1008; 3.1.1 has no
server DISCONNECT, the socket closes with 1008. Each is counted and audited as a refusal.
And the private-address guard, which the suite's stack relaxes for its loopback broker."""

import os

import pytest
import requests

import sb
from test_relay import event, fresh_url, lab, mqtt_url, node, run_mqtt  # noqa: F401 (lab is a fixture)


@pytest.fixture
def small_limits(stack, monkeypatch):
    monkeypatch.setenv("SB_RELAY_BYTES_PER_SECOND", "4096")
    monkeypatch.setenv("SB_RELAY_MESSAGES_PER_SECOND", "20")
    stack("restart", "relay")
    yield
    monkeypatch.undo()
    stack("restart", "relay")


def relay_log():
    with open(os.path.join(os.environ["SB_VAR"], "log", "relay.log"), errors="replace") as f:
        return f.read()


def refusals(api, user, packet):
    audit = sb.expect_ok(requests.get(api + "/users/me/audit-log", params={"limit": 100}, headers=user.headers,
                                      timeout=sb.TIMEOUT))["items"]
    return [a for a in audit if a["action"] == "integration.relay_refused" and a["details"].get("packet") == packet]


def check_refused(api, user, events, version, packet, reason):
    if version == 5:
        assert event(events, "disconnect")["reasonCode"] == 0x96, events
    assert event(events, "wait_close")["closed"] is True, events
    assert f"closed: 1008 {reason}" in relay_log()

    def counted():
        v = sb.expect_ok(requests.get(mqtt_url(api), headers=user.headers, timeout=sb.TIMEOUT))
        return v["relay"] if v["relay"]["refused"] >= 1 else None

    sb.retry_until(counted, timeout=15)
    assert len(refusals(api, user, packet)) == 1


@pytest.mark.parametrize("version", [4, 5])
def test_bytes_per_second_beyond_the_limit_end_the_session(api, base_url, lab, small_limits, version):  # noqa: F811
    topic = f"{lab.prefix}/bulk"
    # 1,000 bytes pass (under 4,096 in a second); then 10 x 2,000 bytes at once do not.
    events = run_mqtt(fresh_url(api, base_url, lab), version, [
        {"op": "subscribe", "topic": topic},
        {"op": "publish", "topic": topic, "payload": "a" * 1000, "qos": 1},
        {"op": "expect", "topic": topic, "ms": 8000},
    ] + [{"op": "publish", "topic": topic, "payload": "b" * 2000} for _ in range(10)] + [
        {"op": "wait_close", "ms": 5000},
    ])
    got = event(events, "expect")
    assert got["received"] is True and len(got["messages"][0]["payload"]) == 1000, events
    check_refused(api, lab, events, version, "bytes_per_second", "too many bytes per second")


def test_messages_per_second_beyond_the_limit_end_the_session(api, base_url, lab, small_limits):  # noqa: F811
    topic = f"{lab.prefix}/chatty"
    # 50 one-byte messages at once: far below 4,096 bytes, beyond 20 messages in a second.
    events = run_mqtt(fresh_url(api, base_url, lab), 5,
                      [{"op": "publish", "topic": topic, "payload": "x"} for _ in range(50)] +
                      [{"op": "wait_close", "ms": 5000}])
    check_refused(api, lab, events, 5, "messages_per_second", "too many messages per second")


@pytest.fixture
def guarded_relay(stack, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "0")
    stack("restart", "relay")
    yield
    monkeypatch.undo()
    stack("restart", "relay")


@pytest.mark.parametrize("scheme", ["mqtt", "ws"])
def test_the_private_address_guard_holds_for_every_scheme(api, base_url, new_user, broker, guarded_relay, scheme):
    # Saved while the API allowed private targets; the relay, restarted without that
    # allowance, refuses to connect to loopback whatever the scheme.
    user = new_user()
    url = f"ws://127.0.0.1:{broker.ws_port}/mqtt" if scheme == "ws" else f"mqtt://127.0.0.1:{broker.port}"
    sb.expect_ok(requests.put(mqtt_url(api), json={"enabled": True, "broker_url": url, "use_authentication": False,
                                                   "device_id": "d", "topic_prefix": "lab/guard"},
                              headers=user.headers, timeout=sb.TIMEOUT))
    close = event(node("raw", fresh_url(api, base_url, user), 4, "10"), "close")
    assert close["code"] == 1011 and "address_blocked" in close["reason"], close
