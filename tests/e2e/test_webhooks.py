"""Webhook registration (issue 5): create with a one-time secret, validation, listing,
get/update/delete, secret rotation at the API level, ownership (another user's webhook
is a 404 on every route), and the event-type catalog."""

import base64
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

import sb

# The worker starts from the current env file (earlier modules change it).
pytestmark = pytest.mark.usefixtures("fresh_worker")

SECRET_RE = re.compile(r"^whsec_([A-Za-z0-9+/]+={0,2})$")
WEBHOOK_FIELDS = {"id", "name", "url", "events", "retry_count", "timeout_seconds", "is_active", "disabled_reason",
                  "previous_secret_expires_at", "created_at", "updated_at"}
BUILTIN_TYPES = {"integration.connected", "integration.updated", "integration.disconnected",
                 "integration.token_refreshed", "integration.health_changed", "webhook.test"}


def H(user):
    return {**user.headers, "User-Agent": sb.USER_AGENT}


def assert_secret(secret):
    m = SECRET_RE.match(secret)
    assert m, secret
    assert len(base64.b64decode(m.group(1), validate=True)) == 32, secret


def assert_webhook_shape(w):
    assert set(w) >= WEBHOOK_FIELDS, w
    assert sb.UUID_RE.match(w["id"]), w
    assert sb.RFC3339_UTC_RE.match(w["created_at"]) and sb.RFC3339_UTC_RE.match(w["updated_at"]), w
    for leaked in ("secret", "previous_secret", "failing_since", "user_id"):
        assert leaked not in w, w


def body(receiver, **over):
    b = {"name": "My hook", "url": receiver.url("ok", receiver.bucket()), "events": ["ticket.created"]}
    b.update(over)
    return {k: v for k, v in b.items() if v is not None}


# --- create ---------------------------------------------------------------------------------


def test_create_answers_the_webhook_and_its_secret_once(api, new_user, receiver):
    u = new_user()
    url = receiver.url("ok", receiver.bucket())
    resp = requests.post(api + "/webhooks", json={"name": "CRM sync", "url": url, "events": ["integration.*", "*"]},
                         headers=H(u), timeout=sb.TIMEOUT)
    w = sb.expect_ok(resp, 201)
    assert_secret(w["secret"])
    assert w["name"] == "CRM sync" and w["url"] == url and w["events"] == ["integration.*", "*"]
    assert w["retry_count"] == 3 and w["timeout_seconds"] == 30 and w["is_active"] is True, w
    assert w["disabled_reason"] is None and w["previous_secret_expires_at"] is None, w
    shown = {k: v for k, v in w.items() if k != "secret"}
    assert_webhook_shape(shown)

    got = sb.expect_ok(requests.get(f"{api}/webhooks/{w['id']}", headers=H(u), timeout=sb.TIMEOUT))
    assert_webhook_shape(got)
    assert got == shown
    listed = sb.expect_ok(requests.get(api + "/webhooks", headers=H(u), timeout=sb.TIMEOUT))
    assert [x["id"] for x in listed["items"]] == [w["id"]]
    assert_webhook_shape(listed["items"][0])
    assert w["secret"] not in resp.text.replace(w["secret"], "", 1)  # shown exactly once, in "secret"
    for r in (got, listed):
        assert w["secret"] not in str(r)


def test_create_with_every_field(api, new_user, receiver):
    u = new_user()
    w = sb.expect_ok(requests.post(api + "/webhooks", json=body(receiver, retry_count=10, timeout_seconds=60,
                                                                is_active=False, events=["a.b", "c-d_e.f"]),
                                   headers=H(u), timeout=sb.TIMEOUT), 201)
    assert (w["retry_count"], w["timeout_seconds"], w["is_active"]) == (10, 60, False), w
    assert w["events"] == ["a.b", "c-d_e.f"]
    w0 = sb.expect_ok(requests.post(api + "/webhooks", json=body(receiver, retry_count=0, timeout_seconds=1),
                                    headers=H(u), timeout=sb.TIMEOUT), 201)
    assert (w0["retry_count"], w0["timeout_seconds"]) == (0, 1), w0


def test_each_webhook_gets_its_own_secret(wh, new_user, receiver):
    u = new_user()
    a = wh.create(u, receiver.url("ok", receiver.bucket()))
    b = wh.create(u, receiver.url("ok", receiver.bucket()))
    assert a["secret"] != b["secret"] and a["id"] != b["id"]


def test_secret_is_stored_sealed(wh, new_user, receiver):
    u = new_user()
    w = wh.create(u, receiver.url("ok", receiver.bucket()))
    stored = sb.psql(f"SELECT secret FROM webhooks WHERE id = '{sb.sql_uuid(w['id'])}'")
    assert stored and w["secret"] not in stored and w["secret"][6:] not in stored, stored


INVALID = [
    ("name", {"name": None}),
    ("name", {"name": ""}),
    ("name", {"name": "   "}),
    ("name", {"name": "x" * 101}),
    ("name", {"name": 5}),
    ("url", {"url": None}),
    ("url", {"url": "ftp://127.0.0.1/hook"}),
    ("url", {"url": "http://user:pw@127.0.0.1/hook"}),
    ("url", {"url": "https://user@example.com/hook"}),
    ("url", {"url": "not a url"}),
    ("url", {"url": "http://"}),
    ("url", {"url": "http://127.0.0.1:99999/x"}),
    ("url", {"url": 42}),
    ("events", {"events": None}),
    ("events", {"events": []}),
    ("events", {"events": [f"t.e{i}" for i in range(51)]}),
    ("events", {"events": ["Foo Bar"]}),
    ("events", {"events": ["a..b"]}),
    ("events", {"events": [".a"]}),
    ("events", {"events": ["a."]}),
    ("events", {"events": ["**"]}),
    ("events", {"events": ["*.*"]}),
    ("events", {"events": ["a.*.b"]}),
    ("events", {"events": ["Ticket.Created"]}),
    ("events", {"events": ["ok.type", 7]}),
    ("events", {"events": "integration.*"}),
    ("retry_count", {"retry_count": 11}),
    ("retry_count", {"retry_count": -1}),
    ("retry_count", {"retry_count": "3"}),
    ("retry_count", {"retry_count": 2.5}),
    ("timeout_seconds", {"timeout_seconds": 0}),
    ("timeout_seconds", {"timeout_seconds": 61}),
    ("timeout_seconds", {"timeout_seconds": "30"}),
    ("is_active", {"is_active": "yes"}),
    ("is_active", {"is_active": 1}),
]


@pytest.mark.parametrize("field,over", INVALID, ids=[f"{f}-{i}" for i, (f, _) in enumerate(INVALID)])
def test_create_validation(api, new_user, receiver, field, over):
    u = new_user()
    resp = requests.post(api + "/webhooks", json=body(receiver, **over), headers=H(u), timeout=sb.TIMEOUT)
    err = sb.expect_error(resp, 422, "validation_failed")
    assert field in err.get("fields", {}), err
    listed = sb.expect_ok(requests.get(api + "/webhooks", headers=H(u), timeout=sb.TIMEOUT))
    assert listed["total"] == 0, listed


def test_create_reports_every_invalid_field(api, new_user):
    u = new_user()
    resp = requests.post(api + "/webhooks", json={"retry_count": 11, "timeout_seconds": 0}, headers=H(u),
                         timeout=sb.TIMEOUT)
    err = sb.expect_error(resp, 422, "validation_failed")
    assert set(err["fields"]) >= {"name", "url", "events", "retry_count", "timeout_seconds"}, err


def test_create_needs_a_json_object(api, new_user):
    u = new_user()
    resp = requests.post(api + "/webhooks", data="[1]", headers={**H(u), "Content-Type": "application/json"},
                         timeout=sb.TIMEOUT)
    assert resp.status_code in (400, 422), resp.text
    sb.expect_error(resp, resp.status_code)
    resp = requests.post(api + "/webhooks", data="{", headers={**H(u), "Content-Type": "application/json"},
                         timeout=sb.TIMEOUT)
    sb.expect_error(resp, 400)


def test_create_needs_authentication(api, receiver):
    resp = requests.post(api + "/webhooks", json=body(receiver), headers={"User-Agent": sb.USER_AGENT},
                         timeout=sb.TIMEOUT)
    sb.expect_error(resp, 401)
    sb.expect_error(requests.get(api + "/webhooks", headers={"User-Agent": sb.USER_AGENT}, timeout=sb.TIMEOUT), 401)


# --- list -----------------------------------------------------------------------------------


def test_list_paginates_newest_first_with_a_total(api, wh, new_user, receiver):
    u = new_user()
    created = [wh.create(u, receiver.url("ok", receiver.bucket()), name=f"hook {i}")["id"] for i in range(5)]
    newest_first = list(reversed(created))
    seen = []
    for page in (1, 2, 3):
        d = sb.expect_ok(requests.get(api + "/webhooks", params={"page": page, "limit": 2}, headers=H(u),
                                      timeout=sb.TIMEOUT))
        assert (d["page"], d["limit"], d["total"]) == (page, 2, 5), d
        seen += [x["id"] for x in d["items"]]
    assert seen == newest_first
    d = sb.expect_ok(requests.get(api + "/webhooks", params={"page": 4, "limit": 2}, headers=H(u), timeout=sb.TIMEOUT))
    assert d["items"] == [] and d["total"] == 5
    d = sb.expect_ok(requests.get(api + "/webhooks", headers=H(u), timeout=sb.TIMEOUT))
    assert (d["page"], d["limit"], len(d["items"])) == (1, 20, 5), d


@pytest.mark.parametrize("params", [{"page": 0}, {"page": "x"}, {"limit": 0}, {"limit": 101}, {"limit": "ten"}])
def test_list_rejects_bad_paging(api, new_user, params):
    u = new_user()
    sb.expect_error(requests.get(api + "/webhooks", params=params, headers=H(u), timeout=sb.TIMEOUT), 422,
                    "validation_failed")


def test_list_shows_only_my_webhooks(api, wh, new_user, receiver):
    a, b = new_user(), new_user()
    wa = wh.create(a, receiver.url("ok", receiver.bucket()))
    wh.create(b, receiver.url("ok", receiver.bucket()))
    d = sb.expect_ok(requests.get(api + "/webhooks", headers=H(a), timeout=sb.TIMEOUT))
    assert d["total"] == 1 and [x["id"] for x in d["items"]] == [wa["id"]]


# --- get / put / delete ---------------------------------------------------------------------


def test_update_changes_only_the_given_fields(api, wh, new_user, receiver):
    u = new_user()
    w = wh.create(u, receiver.url("ok", receiver.bucket()), events=["ticket.created"], name="before")
    new_url = receiver.url("ok", receiver.bucket())
    d = sb.expect_ok(requests.put(f"{api}/webhooks/{w['id']}", json={"name": "after", "url": new_url},
                                  headers=H(u), timeout=sb.TIMEOUT))
    assert_webhook_shape(d)
    assert (d["name"], d["url"], d["events"], d["retry_count"], d["timeout_seconds"], d["is_active"]) == (
        "after", new_url, ["ticket.created"], 3, 30, True), d
    d = sb.expect_ok(requests.put(f"{api}/webhooks/{w['id']}",
                                  json={"events": ["integration.*", "x.y"], "retry_count": 0, "timeout_seconds": 5,
                                        "is_active": False},
                                  headers=H(u), timeout=sb.TIMEOUT))
    assert (d["name"], d["events"], d["retry_count"], d["timeout_seconds"], d["is_active"]) == (
        "after", ["integration.*", "x.y"], 0, 5, False), d
    got = sb.expect_ok(requests.get(f"{api}/webhooks/{w['id']}", headers=H(u), timeout=sb.TIMEOUT))
    assert got == d
    assert got["updated_at"] >= got["created_at"]
    # An empty update changes nothing.
    same = sb.expect_ok(requests.put(f"{api}/webhooks/{w['id']}", json={}, headers=H(u), timeout=sb.TIMEOUT))
    assert {k: v for k, v in same.items() if k != "updated_at"} == {k: v for k, v in d.items() if k != "updated_at"}


@pytest.mark.parametrize("over", [{"url": "ftp://127.0.0.1/x"}, {"url": "http://a:b@127.0.0.1/x"}, {"events": []},
                                  {"events": ["Foo Bar"]}, {"retry_count": 11}, {"timeout_seconds": 0},
                                  {"timeout_seconds": 61}, {"name": ""}, {"is_active": "no"}])
def test_update_validation(api, wh, new_user, receiver, over):
    u = new_user()
    w = wh.create(u, receiver.url("ok", receiver.bucket()))
    err = sb.expect_error(requests.put(f"{api}/webhooks/{w['id']}", json=over, headers=H(u), timeout=sb.TIMEOUT),
                          422, "validation_failed")
    assert set(over) <= set(err["fields"]), err
    got = sb.expect_ok(requests.get(f"{api}/webhooks/{w['id']}", headers=H(u), timeout=sb.TIMEOUT))
    assert got == {k: v for k, v in w.items() if k != "secret"}


def test_delete(api, wh, new_user, receiver):
    u = new_user()
    w = wh.create(u, receiver.url("ok", receiver.bucket()))
    sb.expect_ok(requests.delete(f"{api}/webhooks/{w['id']}", headers=H(u), timeout=sb.TIMEOUT))
    sb.expect_error(requests.get(f"{api}/webhooks/{w['id']}", headers=H(u), timeout=sb.TIMEOUT), 404, "not_found")
    sb.expect_error(requests.delete(f"{api}/webhooks/{w['id']}", headers=H(u), timeout=sb.TIMEOUT), 404, "not_found")
    d = sb.expect_ok(requests.get(api + "/webhooks", headers=H(u), timeout=sb.TIMEOUT))
    assert d["total"] == 0


def test_changes_are_audited(api, wh, new_user, receiver):
    u = new_user()
    w = wh.create(u, receiver.url("ok", receiver.bucket()))
    sb.expect_ok(requests.put(f"{api}/webhooks/{w['id']}", json={"name": "n"}, headers=H(u), timeout=sb.TIMEOUT))
    sb.expect_ok(requests.post(f"{api}/webhooks/{w['id']}/rotate-secret", headers=H(u), timeout=sb.TIMEOUT))
    sb.expect_ok(requests.delete(f"{api}/webhooks/{w['id']}", headers=H(u), timeout=sb.TIMEOUT))
    actions = [(e["action"], e["details"].get("webhook_id")) for e in wh.audit(u)]
    for action in ("webhook.created", "webhook.updated", "webhook.secret_rotated", "webhook.deleted"):
        assert (action, w["id"]) in actions, actions


# --- ownership: 404 on every route ------------------------------------------------------------


def routes(api, wid, did):
    return [
        ("GET", f"{api}/webhooks/{wid}", None),
        ("PUT", f"{api}/webhooks/{wid}", {"name": "stolen"}),
        ("DELETE", f"{api}/webhooks/{wid}", None),
        ("GET", f"{api}/webhooks/{wid}/deliveries", None),
        ("POST", f"{api}/webhooks/{wid}/test", None),
        ("POST", f"{api}/webhooks/{wid}/rotate-secret", None),
        ("POST", f"{api}/webhooks/{wid}/redeliver/{did}", None),
    ]


def call(method, url, json_body, user):
    return requests.request(method, url, json=json_body, headers=H(user), timeout=sb.TIMEOUT)


def test_another_users_webhook_is_404_on_every_route(api, wh, new_user, receiver):
    owner, other = new_user(), new_user()
    w = wh.hook(owner, "ok")
    wh.publish(owner, "ticket.created", {"n": 1})
    delivery = wh.settled(owner, w.id, 1)["items"][0]
    before = receiver.log(w.bucket)
    for method, url, json_body in routes(api, w.id, delivery["id"]):
        sb.expect_error(call(method, url, json_body, other), 404, "not_found")
    # Nothing happened to the owner's webhook.
    got = sb.expect_ok(requests.get(f"{api}/webhooks/{w.id}", headers=H(owner), timeout=sb.TIMEOUT))
    assert got == {k: v for k, v in w.webhook.items() if k != "secret"}
    d = wh.deliveries(owner, w.id)
    assert d["total"] == 1, d
    assert receiver.log(w.bucket) == before
    actions = [e["action"] for e in wh.audit(owner)]
    assert "webhook.secret_rotated" not in actions and "webhook.updated" not in actions


@pytest.mark.parametrize("wid", ["00000000-0000-4000-8000-000000000000", "not-a-uuid", "1"])
def test_unknown_webhook_is_404_on_every_route(api, new_user, wid):
    u = new_user()
    for method, url, json_body in routes(api, wid, str(uuid.uuid4())):
        sb.expect_error(call(method, url, json_body, u), 404, "not_found")


def test_redeliver_of_an_unknown_or_foreign_delivery_is_404(api, wh, new_user):
    u = new_user()
    a = wh.hook(u, "ok", events=["ticket.created"])
    b = wh.hook(u, "ok", events=["ticket.created"])
    wh.publish(u, "ticket.created")
    da = wh.settled(u, a.id, 1)["items"][0]
    for did in (str(uuid.uuid4()), "nope"):
        sb.expect_error(requests.post(f"{api}/webhooks/{a.id}/redeliver/{did}", headers=H(u), timeout=sb.TIMEOUT),
                        404, "not_found")
    # A's delivery is not B's.
    sb.expect_error(requests.post(f"{api}/webhooks/{b.id}/redeliver/{da['id']}", headers=H(u), timeout=sb.TIMEOUT),
                    404, "not_found")


# --- rotate-secret (API level; signing with both is in test_webhook_delivery.py) -------------


def test_rotate_secret_answers_a_new_secret_and_the_overlap(api, wh, new_user, receiver):
    u = new_user()
    w = wh.create(u, receiver.url("ok", receiver.bucket()))
    before = datetime.now(timezone.utc)
    d = sb.expect_ok(requests.post(f"{api}/webhooks/{w['id']}/rotate-secret", headers=H(u), timeout=sb.TIMEOUT))
    assert_secret(d["secret"])
    assert d["secret"] != w["secret"]
    assert sb.RFC3339_UTC_RE.match(d["previous_secret_expires_at"]), d
    expires = datetime.fromisoformat(d["previous_secret_expires_at"].replace("Z", "+00:00"))
    # 24 hours from now (a minute either way for clocks and the request itself).
    assert before + timedelta(hours=24) - timedelta(minutes=1) <= expires <= before + timedelta(hours=24, minutes=1)
    got = sb.expect_ok(requests.get(f"{api}/webhooks/{w['id']}", headers=H(u), timeout=sb.TIMEOUT))
    assert got["previous_secret_expires_at"] == d["previous_secret_expires_at"]
    assert "secret" not in got and d["secret"] not in str(got)


# --- event types ----------------------------------------------------------------------------


def event_types(api, user):
    return sb.expect_ok(requests.get(api + "/webhooks/event-types", headers=H(user), timeout=sb.TIMEOUT))


def test_event_types_lists_builtins_then_published_types(api, wh, new_user):
    u, other = new_user(), new_user()
    d = event_types(api, u)
    names = {t["name"]: t for t in d["event_types"]}
    assert BUILTIN_TYPES <= set(names), d
    for n in BUILTIN_TYPES:
        assert names[n]["source"] == "builtin" and names[n]["description"], names[n]
    assert "*" in d["wildcards"], d
    custom = "ticket.created-" + uuid.uuid4().hex[:8]
    assert custom not in names

    wh.publish(u, custom, {"id": 1})
    wh.publish(u, custom, {"id": 2})  # listed once
    d = event_types(api, u)
    mine = [t for t in d["event_types"] if t["name"] == custom]
    assert len(mine) == 1, d
    assert mine[0]["source"] == "published" and sb.RFC3339_UTC_RE.match(mine[0]["first_seen"]), mine
    assert BUILTIN_TYPES <= {t["name"] for t in d["event_types"]}
    # Another account's catalog does not show my types.
    assert custom not in {t["name"] for t in event_types(api, other)["event_types"]}


def test_event_types_needs_authentication(api):
    sb.expect_error(requests.get(api + "/webhooks/event-types", headers={"User-Agent": sb.USER_AGENT},
                                 timeout=sb.TIMEOUT), 401)
