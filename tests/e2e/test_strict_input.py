"""Strict input (issue 12): a JSON body member that the route does not declare is a 422
validation_failed naming it ("unknown field"), on every route with a JSON body, instead
of being silently dropped (a typo like expires_in_day used to do nothing)."""

import uuid

import pytest
import requests

import sb


@pytest.fixture(scope="module")
def user(new_user):
    return new_user()


def send(method, url, body, headers=None):
    h = {"User-Agent": sb.USER_AGENT, **(headers or {})}
    return requests.request(method, url, json=body, headers=h, timeout=sb.TIMEOUT)


def expect_unknown(resp, *names):
    err = sb.expect_error(resp, 422, "validation_failed")
    for n in names:
        assert err["fields"].get(n) == "unknown field", err
    return err


def valid_bodies(api, user):
    """(method, path, valid body, needs auth) for every route with a JSON body."""
    webhook = {"name": "w", "url": "https://example.com/hook", "events": ["integration.connected"]}
    return [
        ("POST", "/auth/register", {"email": sb.unique_email(), "password": "correct horse battery", "name": "N"},
         False),
        ("POST", "/auth/login", {"email": user.email, "password": user.password}, False),
        ("POST", "/auth/refresh", {"refresh_token": user.refresh_token}, False),
        ("POST", "/auth/logout", {"refresh_token": user.refresh_token}, False),
        ("POST", "/api-keys", {"name": "k"}, True),
        ("POST", "/oauth/clients", {"name": "c"}, True),
        ("POST", "/webhooks", webhook, True),
        ("POST", "/events", {"type": "custom.thing", "data": {}}, True),
        ("POST", "/export", {"entity": "integrations", "format": "csv"}, True),
        ("POST", "/export/schedules", {"entity": "integrations", "interval": "daily"}, True),
        ("PUT", "/users/me/integrations/mqtt", {"broker_url": "mqtt://broker.example.com:1883",
                                                  "device_id": "d1", "topic_prefix": "lab/"}, True),
        ("PATCH", "/users/me/integrations/mqtt", {"enabled": True}, True),
        ("POST", "/users/me/integrations/mqtt/test", {"broker_url": "mqtt://127.0.0.1:1"}, True),
        ("POST", "/users/me/integrations/github/sync", {"repository_id": 1, "project_ids": [1]}, True),
        ("POST", "/users/me/integrations/google/drive/export", {"project_ids": [1]}, True),
        ("POST", "/users/me/integrations/blynk/virtual-pin", {"device": "d", "pin": "V1", "value": 1}, True),
        ("POST", "/users/me/integrations/arduino-cloud/refresh-token", {"force": True}, True),
        ("POST", "/integrations/connect", {"integration_type": "github"}, True),
        ("POST", "/integrations/github/connect", {"scopes": ["repo"]}, True),
        ("POST", "/integrations/mqtt/connect", {"broker_url": "mqtt://broker.example.com:1883"}, True),
        ("POST", "/integrations/github/sync", {"repository_id": 1, "project_ids": [1]}, True),
        ("POST", "/integrations/github/refresh-token", {"force": True}, True),
        ("PUT", "/integrations/github", {"name": "n", "is_active": True, "config": {}}, True),
    ]


def test_every_json_route_names_unknown_fields(api, user):
    for method, path, body, auth in valid_bodies(api, user):
        bad = dict(body, bogus_member=1, another_one="x")
        resp = send(method, api + path, bad, user.headers if auth else None)
        err = expect_unknown(resp, "bogus_member", "another_one")
        # Only the unknown members are wrong in these bodies.
        assert set(err["fields"]) == {"bogus_member", "another_one"}, (method, path, err)


def test_unknown_and_invalid_are_reported_together(api, user):
    err = expect_unknown(send("POST", api + "/api-keys", {"name": "", "nmae": "typo"}, user.headers), "nmae")
    assert err["fields"]["name"] != "unknown field", err


def test_a_typo_creates_nothing(api, user):
    before = sb.expect_ok(requests.get(api + "/api-keys", headers=user.headers, timeout=sb.TIMEOUT))
    expect_unknown(send("POST", api + "/api-keys", {"name": "typo", "expires_in_day": 3}, user.headers),
                   "expires_in_day")
    after = sb.expect_ok(requests.get(api + "/api-keys", headers=user.headers, timeout=sb.TIMEOUT))
    assert len(after) == len(before)


def test_unknown_webhook_field_saves_nothing(api, user):
    w = sb.expect_ok(send("POST", api + "/webhooks", {"name": "w", "url": "https://example.com/h",
                                                      "events": ["integration.connected"]}, user.headers), 201)
    expect_unknown(send("PUT", api + f"/webhooks/{w['id']}", {"name": "renamed", "colour": "red"}, user.headers),
                   "colour")
    got = sb.expect_ok(requests.get(api + f"/webhooks/{w['id']}", headers=user.headers, timeout=sb.TIMEOUT))
    assert got["name"] == "w"


def test_provider_tables_decide(api, user):
    # A member of another provider's table is unknown here.
    expect_unknown(send("PUT", api + "/users/me/integrations/mqtt",
                        {"broker_url": "mqtt://broker.example.com", "client_secret": "x"}, user.headers),
                   "client_secret")
    # PATCH: enabled and the provider's settings only.
    expect_unknown(send("PATCH", api + "/users/me/integrations/github", {"auto_sync": True, "broker_url": "x"},
                        user.headers), "broker_url")
    # The MQTT test accepts the config and timeout_seconds, nothing else.
    expect_unknown(send("POST", api + "/users/me/integrations/mqtt/test",
                        {"broker_url": "mqtt://127.0.0.1:1", "timeout_seconds": 1, "qos": 1}, user.headers), "qos")


def test_unknown_provider_or_action_is_still_404(api, user):
    sb.expect_error(send("PUT", api + "/users/me/integrations/nope", {"x": 1}, user.headers), 404)
    sb.expect_error(send("POST", api + "/users/me/integrations/mqtt/nope", {"x": 1}, user.headers), 404)


def test_oauth_provider_put_is_still_405(api, user):
    sb.expect_error(send("PUT", api + "/users/me/integrations/github", {"x": 1}, user.headers), 405)


def test_nested_objects_are_not_judged_here(api, user):
    # data of an event is the publisher's own object: its members are free.
    sb.expect_ok(send("POST", api + "/events", {"type": "custom.free", "data": {"anything": uuid.uuid4().hex}},
                      user.headers), 202)
