"""POST .../mqtt/test with spec 000's MQTTTestRequest exactly ({broker_url, username,
password, use_authentication}: no device fields), the latency to CONNACK on loopback,
and broker_info.version in spec 001's form with the raw $SYS string beside it."""

import re

import pytest
import requests

import sb


def probe(api, user, body):
    return requests.post(api + "/users/me/integrations/mqtt/test", json=body, headers=user.headers, timeout=30)


@pytest.fixture
def user(new_user):
    return new_user()


def test_spec_body_with_authentication_connects(api, user, broker):
    body = {"broker_url": f"mqtt://127.0.0.1:{broker.auth_port}", "username": broker.user,
            "password": broker.password, "use_authentication": True}
    result = sb.expect_ok(probe(api, user, body))
    assert result["connected"] is True, result
    assert result["diagnostics"]["pubsub"]["ok"] is True, result


def test_spec_body_wrong_password_fails_as_credentials(api, user, broker):
    body = {"broker_url": f"mqtt://127.0.0.1:{broker.auth_port}", "username": broker.user,
            "password": broker.password + "x", "use_authentication": True}
    result = sb.expect_ok(probe(api, user, body))
    assert result["connected"] is False, result
    assert result["error_code"] in ("bad_credentials", "not_authorized"), result


def test_without_topic_prefix_the_round_trip_uses_the_reserved_prefix(api, user, broker):
    body = {"broker_url": f"mqtt://127.0.0.1:{broker.port}", "use_authentication": False}
    result = sb.expect_ok(probe(api, user, body))
    pubsub = result["diagnostics"]["pubsub"]
    assert pubsub["ok"] is True, result
    assert pubsub["topic_source"] == "reserved_prefix", result
    assert re.fullmatch(r"_switchboard/test/[A-Za-z0-9_-]+", pubsub["topic"]), result
    assert "_switchboard/test/" in pubsub["topic_note"], result
    # two tests never share a topic
    again = sb.expect_ok(probe(api, user, body))["diagnostics"]["pubsub"]["topic"]
    assert again != pubsub["topic"]


def test_with_topic_prefix_the_round_trip_stays_under_it(api, user, broker):
    body = {"broker_url": f"mqtt://127.0.0.1:{broker.port}", "topic_prefix": "lab/spec"}
    pubsub = sb.expect_ok(probe(api, user, body))["diagnostics"]["pubsub"]
    assert pubsub["ok"] is True and pubsub["topic"].startswith("lab/spec/"), pubsub
    assert pubsub["topic_source"] == "topic_prefix" and "topic_note" not in pubsub, pubsub


def test_only_broker_url_is_required(api, user):
    err = sb.expect_error(probe(api, user, {"use_authentication": False}), 422, "validation_failed")
    assert set(err["fields"]) == {"broker_url"}, err
    err = sb.expect_error(probe(api, user, {"broker_url": "mqtt://127.0.0.1:1883", "use_authentication": True}),
                          422, "validation_failed")
    assert set(err["fields"]) == {"username"}, err
    # device fields, when given, are still checked
    err = sb.expect_error(probe(api, user, {"broker_url": "mqtt://127.0.0.1:1883", "topic_prefix": "a/#"}),
                          422, "validation_failed")
    assert set(err["fields"]) == {"topic_prefix"}, err


@pytest.mark.parametrize("scheme_port", ["mqtt:port", "ws:ws_port"])
def test_loopback_latency_is_the_real_time_to_connack(api, user, broker, scheme_port):
    """A bound far from the real value (single-digit ms), not a benchmark: the client
    library's polling used to make every loopback test read ~100 ms."""
    scheme, attr = scheme_port.split(":")
    body = {"broker_url": f"{scheme}://127.0.0.1:{getattr(broker, attr)}", "use_authentication": False}
    samples = []
    for _ in range(3):
        result = sb.expect_ok(probe(api, user, body))
        assert result["connected"] is True, result
        assert isinstance(result["latency_ms"], int), result
        samples.append(result["latency_ms"])
        diag = result["diagnostics"]
        assert diag["connack_ms"] <= diag["mqtt_connect_ms"] + 1, diag
    assert min(samples) < 50, samples


def test_broker_version_in_spec_form_and_raw(api, user, broker):
    body = {"broker_url": f"mqtt://127.0.0.1:{broker.port}", "use_authentication": False}
    info = sb.expect_ok(probe(api, user, body))["broker_info"]
    assert re.fullmatch(r"mosquitto/\d+\.\d+\.\d+", info["version"]), info
    assert re.fullmatch(r"mosquitto version \d+\.\d+\.\d+", info["version_raw"]), info
    assert info["version"].split("/")[1] == info["version_raw"].split()[-1], info
