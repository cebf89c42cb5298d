"""Spec 001's `username` and `organization` of the Arduino Cloud view. Arduino gives an API
client (client_credentials) no user profile and no organization name; what it has is the
organization an API client acts in, which the caller names: `organization_id` on the token
request and `X-Organization` on every call (arduino-cloud-cli's credentials). So the PUT
takes an optional `organization_id`, the fake checks both places and serves that
organization's devices, things and OTAs; the view shows `organization` (the id, or
"Personal" without one), `organization_id` and `username: null`."""

import base64
import uuid

import requests

import sb
from test_arduino import Fake, get, put, url
from test_arduino_ota import dev, ota_file

import pytest


@pytest.fixture(scope="module")
def fake():
    return Fake()


def client(fake, orgs=None, devices=None):
    cid, secret = "cid-" + uuid.uuid4().hex[:12], "csecret-" + uuid.uuid4().hex
    r = requests.post(fake.base + "/_fake/clients", json={
        "client_id": cid, "client_secret": secret, "devices": devices or [], "things": [],
        "organizations": orgs or {}}, timeout=5)
    assert r.status_code == 201, r.text
    return cid, secret


def test_personal_space_has_no_organization_and_no_username(api, new_user, fake):
    u = new_user()
    cid, secret = client(fake, devices=[dev("Mine")])
    v = sb.expect_ok(put(api, u, {"client_id": cid, "client_secret": secret}))
    assert v["username"] is None and v["organization"] == "Personal" and v["organization_id"] is None, v
    assert [d["name"] for d in v["devices"]] == ["Mine"], v
    info = fake.info(cid)
    assert "organization_id" not in info["last_form"], info["last_form"]
    assert set(info["x_organization"]) == {None}, info["x_organization"]


def test_organization_is_sent_on_the_token_and_every_call(api, new_user, fake):
    u = new_user()
    org = str(uuid.uuid4())
    mine, theirs = dev("Personal board"), dev("Org board")
    cid, secret = client(fake, orgs={org: {"devices": [theirs], "things": [
        {"id": "t-org", "name": "Org thing", "device_id": theirs["id"]}]}}, devices=[mine])
    v = sb.expect_ok(put(api, u, {"client_id": cid, "client_secret": secret, "organization_id": org}))
    assert v["organization"] == org and v["organization_id"] == org and v["username"] is None, v
    assert [d["name"] for d in v["devices"]] == ["Org board"] and [t["name"] for t in v["things"]] == ["Org thing"], v
    assert fake.info(cid)["last_form"]["organization_id"] == org
    g = sb.expect_ok(get(api, u))
    assert g["organization"] == org and [d["name"] for d in g["devices"]] == ["Org board"], g
    body = {"firmware": base64.b64encode(ota_file()).decode()}
    sb.expect_ok(requests.post(url(api) + f"/devices/{theirs['id']}/ota", json=body, headers=u.headers,
                               timeout=30), 202)
    sb.expect_error(requests.post(url(api) + f"/devices/{mine['id']}/ota", json=body, headers=u.headers,
                                  timeout=30), 404, "device_not_found")
    info = fake.info(cid)
    assert set(info["x_organization"]) == {org}, info["x_organization"]
    assert [x["device_id"] for x in info["ota_uploads"]] == [theirs["id"]]
    # Saved again without it: the personal space.
    v = sb.expect_ok(put(api, u, {"client_id": cid}))
    assert v["organization"] == "Personal" and v["organization_id"] is None, v
    assert [d["name"] for d in v["devices"]] == ["Personal board"], v
    assert "organization_id" not in fake.info(cid)["last_form"]


def test_unknown_or_malformed_organization_is_422_and_nothing_saved(api, new_user, fake):
    u = new_user()
    cid, secret = client(fake)
    err = sb.expect_error(put(api, u, {"client_id": cid, "client_secret": secret,
                                       "organization_id": str(uuid.uuid4())}), 422, "validation_failed")
    assert "client_secret" in err["fields"], err
    sb.expect_error(get(api, u), 404, "not_found")
    for bad in ("Personal", "", "x" * 36, 12):
        err = sb.expect_error(put(api, u, {"client_id": cid, "client_secret": secret, "organization_id": bad}),
                              422, "validation_failed")
        assert "organization_id" in err["fields"], (bad, err)
    sb.expect_error(get(api, u), 404, "not_found")
