"""Per-webhook delivery options (issue 12): payload_format (standard or spec 002's
envelope), the include/exclude field filter of JSON pointers over data, custom static
headers, and allowed_ips (the receiver's address checked at connect time). Every
delivered body is verified by the receiver with the npm standardwebhooks package: the
signature covers the body actually sent."""

import os

import pytest
import requests

import sb

pytestmark = pytest.mark.usefixtures("fresh_worker")


def H(user):
    return {**user.headers, "User-Agent": sb.USER_AGENT}


def only(items):
    assert len(items) == 1, items
    return items[0]


ORDER = {"order": {"id": 7, "secret": "s3", "items": [{"sku": "a", "price": 1}, {"sku": "b", "price": 2}]},
         "customer": {"email": "c@example.com", "name": "C"}, "a/b": {"~x": 1, "y": 2}}


def delivered(wh, receiver, u, w):
    d = only(wh.settled(u, w.id, 1)["items"])
    assert d["status"] == "delivered", d
    e = only(receiver.wait_count(w.bucket, 1))
    assert e["verified"] is True, e
    return d, e


def test_standard_is_the_default(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok")
    assert w.webhook["payload_format"] == "standard", w.webhook
    assert w.webhook["include_fields"] == [] and w.webhook["exclude_fields"] == [], w.webhook
    assert w.webhook["headers"] == {} and w.webhook["allowed_ips"] == [], w.webhook
    ev = wh.publish(u, "order.placed", ORDER)
    _, e = delivered(wh, receiver, u, w)
    assert set(e["body"]) == {"type", "timestamp", "data"}, e["body"]
    assert e["body"]["type"] == "order.placed" and e["body"]["data"] == ORDER, e["body"]
    assert e["headers"]["webhook-id"] == ev["message_id"]


def test_envelope_format_is_spec_002s_example_shape(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok", payload_format="envelope")
    assert w.webhook["payload_format"] == "envelope", w.webhook
    ev = wh.publish(u, "order.placed", ORDER)
    _, e = delivered(wh, receiver, u, w)
    b = e["body"]
    assert list(b) == ["id", "event", "created_at", "data"], b
    assert b["id"] == ev["message_id"] == e["headers"]["webhook-id"], b
    assert b["event"] == "order.placed" and b["data"] == ORDER, b
    assert b["created_at"].endswith("Z") and "T" in b["created_at"], b


def test_field_filter_include_then_exclude(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok", include_fields=["/order", "/customer/email", "/a~1b/~0x", "/missing/member"],
                exclude_fields=["/order/secret", "/order/items/1", "/order/items/0/price", "/nothing"])
    wh.publish(u, "order.placed", ORDER)
    _, e = delivered(wh, receiver, u, w)
    assert e["body"]["data"] == {"order": {"id": 7, "items": [{"sku": "a"}]}, "customer": {"email": "c@example.com"},
                                 "a/b": {"~x": 1}}, e["body"]
    # The event itself is untouched: another webhook gets all of it.
    w2 = wh.hook(u, "ok", payload_format="envelope", exclude_fields=["/customer"])
    wh.publish(u, "order.placed", ORDER)
    _, e2 = delivered(wh, receiver, u, w2)
    assert e2["body"]["data"] == {k: v for k, v in ORDER.items() if k != "customer"}, e2["body"]


def test_custom_headers_are_sent_and_logged(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok", headers={"X-Tenant": "acme", "Authorization": "Bearer abc.def"})
    assert w.webhook["headers"] == {"X-Tenant": "acme", "Authorization": "Bearer abc.def"}, w.webhook
    wh.publish(u, "order.placed", {"n": 1})
    d, e = delivered(wh, receiver, u, w)
    assert e["all_headers"]["x-tenant"] == "acme" and e["all_headers"]["authorization"] == "Bearer abc.def", e
    assert e["all_headers"]["content-type"] == "application/json", e
    assert only(d["attempts"])["request_headers"]["X-Tenant"] == "acme", d
    # PATCH replaces them; the view shows the new ones.
    got = sb.expect_ok(requests.patch(f"{api}/webhooks/{w.id}", json={"headers": {"X-Other": "1"},
                                                                      "payload_format": "envelope"},
                                      headers=H(u), timeout=sb.TIMEOUT))
    assert got["headers"] == {"X-Other": "1"} and got["payload_format"] == "envelope", got
    view = sb.expect_ok(requests.get(f"{api}/webhooks/{w.id}", headers=H(u), timeout=sb.TIMEOUT))
    assert view["headers"] == {"X-Other": "1"} and view["payload_format"] == "envelope", view
    wh.publish(u, "order.placed", {"n": 2})
    log = receiver.wait_count(w.bucket, 2)
    assert log[1]["verified"] is True and "x-tenant" not in log[1]["all_headers"], log[1]
    assert log[1]["all_headers"]["x-other"] == "1" and set(log[1]["body"]) == {"id", "event", "created_at", "data"}


def test_test_send_uses_the_options(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok", payload_format="envelope", headers={"X-Env": "test"}, exclude_fields=["/message"])
    t = sb.expect_ok(requests.post(f"{api}/webhooks/{w.id}/test", headers=H(u), timeout=sb.TIMEOUT))
    assert t["success"] is True, t
    e = only(receiver.wait_count(w.bucket, 1))
    assert e["verified"] is True and e["body"]["event"] == "webhook.test", e
    assert "message" not in e["body"]["data"] and e["body"]["data"]["webhook_id"] == w.id, e
    assert e["all_headers"]["x-env"] == "test", e


@pytest.mark.parametrize("field,value", [
    ("payload_format", "xml"),
    ("payload_format", 3),
    ("include_fields", ["order"]),
    ("include_fields", ["/a~2b"]),
    ("include_fields", [""]),
    ("exclude_fields", [7]),
    ("exclude_fields", ["/x"] * 21),
    ("headers", {"webhook-signature": "v1,forged"}),
    ("headers", {"Webhook-Id": "msg_x"}),
    ("headers", {"Content-Type": "text/plain"}),
    ("headers", {"Host": "evil.example"}),
    ("headers", {"content-length": "1"}),
    ("headers", {"Transfer-Encoding": "chunked"}),
    ("headers", {"X-A": "ok\r\nX-Injected: 1"}),
    ("headers", {"X-A": "line\nbreak"}),
    ("headers", {"Bad Name": "v"}),
    ("headers", {"X:Colon": "v"}),
    ("headers", {"": "v"}),
    ("headers", {"X-N": 5}),
    ("headers", {"X-" + "n" * 70: "v"}),
    ("headers", {"X-V": "v" * 1025}),
    ("headers", {f"X-{i}": "v" for i in range(11)}),
    ("headers", ["X-A: b"]),
    ("allowed_ips", ["10.0.0.1/8"]),
    ("allowed_ips", ["300.1.1.1"]),
    ("allowed_ips", ["10.0.0.0/33"]),
    ("allowed_ips", ["2001:db8::/129"]),
    ("allowed_ips", ["example.com"]),
    ("allowed_ips", ["10.0.0.0/8"] * 21),
    ("disable_after_failures", -1),
    ("disable_after_days", 366),
])
def test_invalid_options_are_422_naming_the_field(api, wh, new_user, receiver, field, value):
    u = new_user()
    body = {"name": "bad", "url": receiver.url("ok", receiver.bucket()), "events": ["*"], field: value}
    err = sb.expect_error(requests.post(f"{api}/webhooks", json=body, headers=H(u), timeout=sb.TIMEOUT), 422,
                          "validation_failed")
    assert field in err["fields"], err
    w = wh.hook(u, "ok")
    for method in (requests.put, requests.patch):
        err = sb.expect_error(method(f"{api}/webhooks/{w.id}", json={field: value}, headers=H(u),
                                     timeout=sb.TIMEOUT), 422, "validation_failed")
        assert field in err["fields"], err


def test_allowed_ips_outside_fails_with_address_not_allowed(api, wh, new_user, receiver):
    u = new_user()
    # A delivery to the same receiver first leaves a kept-alive connection in the
    # worker: the allow-list must not be skipped by reusing it.
    warm = wh.hook(u, "ok", events=["warm.up"])
    wh.publish(u, "warm.up")
    assert only(wh.settled(u, warm.id, 1)["items"])["status"] == "delivered"
    w = wh.hook(u, "ok", retry_count=0, allowed_ips=["203.0.113.0/24", "2001:db8::/32"])
    assert w.webhook["allowed_ips"] == ["203.0.113.0/24", "2001:db8::/32"], w.webhook
    wh.publish(u, "order.placed")
    d = only(wh.settled(u, w.id, 1)["items"])
    assert d["status"] == "failed" and d["last_error"].startswith("address_not_allowed"), d
    assert "127.0.0.1" in d["last_error"], d
    assert receiver.log(w.bucket) == []  # never connected
    # Allowing the receiver's address lets the next one through.
    sb.expect_ok(requests.patch(f"{api}/webhooks/{w.id}", json={"allowed_ips": ["::1", "127.0.0.0/8"]},
                                headers=H(u), timeout=sb.TIMEOUT))
    wh.publish(u, "order.placed")
    items = wh.settled(u, w.id, 2)["items"]
    assert items[0]["status"] == "delivered", items
    assert only(receiver.wait_count(w.bucket, 1))["verified"] is True
    # An empty list allows any address again.
    got = sb.expect_ok(requests.patch(f"{api}/webhooks/{w.id}", json={"allowed_ips": []}, headers=H(u),
                                      timeout=sb.TIMEOUT))
    assert got["allowed_ips"] == [], got


def test_allowed_ips_single_address_and_test_send(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok", allowed_ips=["127.0.0.2"])
    t = sb.expect_ok(requests.post(f"{api}/webhooks/{w.id}/test", headers=H(u), timeout=sb.TIMEOUT))
    assert t["success"] is False and t["attempt"]["error"].startswith("address_not_allowed"), t
    w2 = wh.hook(u, "ok", allowed_ips=["127.0.0.1"])
    t = sb.expect_ok(requests.post(f"{api}/webhooks/{w2.id}/test", headers=H(u), timeout=sb.TIMEOUT))
    assert t["success"] is True, t


def set_env_value(path, key, value):
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f.read().splitlines(keepends=True) if not line.startswith(f"{key}=")]
    if value is not None:
        lines.append(f"{key}={value}\n")
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)


def test_source_address_binds_deliveries_and_is_listed(api, wh, new_user, receiver, stack):
    u = new_user()
    got = sb.expect_ok(requests.get(f"{api}/webhooks/source-ips", headers=H(u), timeout=sb.TIMEOUT))
    assert got == {"source_ips": [], "configured": False}, got
    env_file = os.path.join(os.environ["SB_VAR"], "switchboard.env")
    try:
        # An address this host does not have: deliveries cannot bind it, so they fail,
        # which shows the setting is applied to every attempt.
        set_env_value(env_file, "SB_WEBHOOK_SOURCE_ADDRESS", "192.0.2.77")
        stack("restart", "worker")
        stack("restart", "webhooks")
        listed = sb.retry_until(lambda: (lambda d: d if d["configured"] else None)(sb.expect_ok(
            requests.get(f"{api}/webhooks/source-ips", headers=H(u), timeout=sb.TIMEOUT))), timeout=10)
        assert listed == {"source_ips": ["192.0.2.77"], "configured": True}, listed
        w = wh.hook(u, "ok", retry_count=0)
        wh.publish(u, "order.placed")
        d = only(wh.settled(u, w.id, 1)["items"])
        assert d["status"] == "failed" and d["last_error"], d
        assert receiver.log(w.bucket) == []
        # The loopback address works, and the receiver sees that address.
        set_env_value(env_file, "SB_WEBHOOK_SOURCE_ADDRESS", "127.0.0.1")
        stack("restart", "worker")
        w2 = wh.hook(u, "ok", retry_count=0)
        wh.publish(u, "order.placed")
        assert only(wh.settled(u, w2.id, 1)["items"])["status"] == "delivered"
    finally:
        set_env_value(env_file, "SB_WEBHOOK_SOURCE_ADDRESS", None)
        stack("restart", "worker")
        stack("restart", "webhooks")
