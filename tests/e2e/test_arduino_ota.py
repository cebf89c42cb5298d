"""Arduino Cloud over-the-air deploys against the fake (fakes/arduino_fake.py), which speaks
Arduino's OTA API as arduino/iot-client-go and arduino-cloud-cli use it: POST
/iot/v2/devices/{id}/ota multipart (ota_file, async, expire_in_mins), GET /ota/v1/ota/{id}
and GET /ota/v1/ota?device_id=. Through Switchboard: POST
.../arduino-cloud/devices/{device_id}/ota {firmware: base64 .ota file} -> 202 with the OTA
id, GET .../arduino-cloud/ota/{ota_id} and GET .../arduino-cloud/devices/{device_id}/ota.
Also: no such device, another user's device and OTA, a file too big, not an .ota file,
Arduino failing (502 with its reason), an OTA already running (409), disabled, scope."""

import base64
import binascii
import hashlib
import os
import uuid

import pytest
import requests

import sb
from test_arduino import Fake, connect, url

NANO_33_IOT = 0x23418057  # the header's magic number (VID 0x2341, PID 0x8057)


def ota_file(payload=None, magic=NANO_33_IOT):
    """An .ota file as arduino-cloud-cli's internal/ota encoder writes it: LENGTH | CRC32 |
    MAGIC | VERSION (8 bytes) | payload, little-endian."""
    payload = os.urandom(2048) if payload is None else payload
    body = magic.to_bytes(4, "little") + bytes([0, 0, 0, 0, 0, 0, 0, 0x40]) + payload
    return len(body).to_bytes(4, "little") + (binascii.crc32(body) & 0xFFFFFFFF).to_bytes(4, "little") + body


def dev(name="Nano", status="ONLINE"):
    return {"id": str(uuid.uuid4()), "name": name, "type": "nano_33_iot", "device_status": status,
            "last_activity_at": "2026-01-15T10:00:00Z"}


@pytest.fixture(scope="module")
def fake():
    return Fake()


@pytest.fixture
def owner(api, new_user, fake):
    """A user connected to a fresh Arduino client with one device: (user, client id, device id)."""
    u = new_user()
    d = dev()
    cid, _, _ = connect(api, u, fake, devices=[d], things=[])
    return u, cid, d["id"]


def upload(api, u, device_id, data=None, **extra):
    body = {"firmware": base64.b64encode(ota_file() if data is None else data).decode()}
    body.update(extra)
    return requests.post(url(api) + f"/devices/{device_id}/ota", json=body, headers=u.headers, timeout=60)


def status(api, u, ota_id):
    return requests.get(url(api) + f"/ota/{ota_id}", headers=u.headers, timeout=30)


def listing(api, u, device_id, **params):
    return requests.get(url(api) + f"/devices/{device_id}/ota", params=params, headers=u.headers, timeout=30)


def uploads(fake, cid):
    return fake.info(cid)["ota_uploads"]


def advance(fake, cid, ota_id, **body):
    r = requests.post(fake.base + f"/_fake/clients/{cid}/otas/{ota_id}", json=body, timeout=5)
    assert r.status_code == 200, r.text


def test_upload_reaches_arduino_and_status_follows_the_device(api, fake, owner):
    u, cid, device = owner
    f = ota_file()
    d = sb.expect_ok(upload(api, u, device, f, expire_in_mins=60, filename="blink.ino.ota"), 202)
    assert d["device_id"] == device and d["status"] == "pending" and d["ota_version"] == 2, d
    assert d["file_sha"] == hashlib.sha256(f).hexdigest() and d["firmware_size"] == len(f), d
    assert d["expire_in_mins"] == 60 and uuid.UUID(d["ota_id"]), d
    got = uploads(fake, cid)
    assert got == [{"device_id": device, "filename": "blink.ino.ota", "content_type": "application/octet-stream",
                    "size": len(f), "sha256": hashlib.sha256(f).hexdigest(), "expire_in_mins": 60,
                    "async": "true"}], got
    s = sb.expect_ok(status(api, u, d["ota_id"]))
    assert s["ota_id"] == d["ota_id"] and s["device_id"] == device and s["status"] == "pending", s
    assert s["states"] == [] and s["ended_at"] is None and s["firmware_size"] == len(f) - 20, s
    advance(fake, cid, d["ota_id"], status="in_progress", states=[{"state": "start"},
                                                                  {"state": "fetch", "state_data": "1024"}])
    s = sb.expect_ok(status(api, u, d["ota_id"]))
    assert s["status"] == "in_progress" and [x["state"] for x in s["states"]] == ["start", "fetch"], s
    assert s["states"][1]["state_data"] == "1024" and s["states"][1]["timestamp"], s
    advance(fake, cid, d["ota_id"], status="succeeded", states=[{"state": "flash"}, {"state": "reboot"}])
    s = sb.expect_ok(status(api, u, d["ota_id"]))
    assert s["status"] == "succeeded" and s["ended_at"], s
    second = sb.expect_ok(upload(api, u, device), 202)
    assert uploads(fake, cid)[-1]["expire_in_mins"] == 10  # arduino-cloud-cli's default
    lst = sb.expect_ok(listing(api, u, device))
    assert lst["device_id"] == device and {o["ota_id"] for o in lst["otas"]} == {d["ota_id"], second["ota_id"]}
    assert [o["ota_id"] for o in sb.expect_ok(listing(api, u, device, limit=1, order="asc"))["otas"]] == [d["ota_id"]]
    log = sb.expect_ok(requests.get(api + "/users/me/audit-log", params={"limit": 100}, headers=u.headers,
                                    timeout=sb.TIMEOUT))["items"]
    entries = [e for e in log if e["action"] == "integration.arduino_ota_uploaded"]
    assert len(entries) == 2, log
    assert {e["details"]["ota_id"] for e in entries} == {d["ota_id"], second["ota_id"]}, entries
    assert all(e["details"]["device_id"] == device and "firmware" not in e["details"] for e in entries), entries


def test_an_ota_already_running_is_409(api, fake, owner):
    u, cid, device = owner
    sb.expect_ok(upload(api, u, device), 202)
    err = sb.expect_error(upload(api, u, device), 409, "ota_in_progress")
    assert "already in progress" in err["message"], err
    assert len(uploads(fake, cid)) == 1


def test_unknown_device_is_404_and_nothing_uploaded(api, fake, owner):
    u, cid, _ = owner
    sb.expect_error(upload(api, u, str(uuid.uuid4())), 404, "device_not_found")
    sb.expect_error(upload(api, u, "dev-1"), 404, "device_not_found")  # not an Arduino device id
    sb.expect_error(listing(api, u, str(uuid.uuid4())), 404, "device_not_found")
    sb.expect_error(status(api, u, str(uuid.uuid4())), 404, "ota_not_found")
    sb.expect_error(status(api, u, "not*an*id"), 404, "ota_not_found")
    assert uploads(fake, cid) == []


def test_another_users_device_and_ota_are_404(api, new_user, fake, owner):
    u, cid, device = owner
    mine = sb.expect_ok(upload(api, u, device), 202)
    other = new_user()
    connect(api, other, fake, devices=[dev("Theirs")], things=[])
    sb.expect_error(upload(api, other, device), 404, "device_not_found")
    sb.expect_error(status(api, other, mine["ota_id"]), 404, "ota_not_found")
    sb.expect_error(listing(api, other, device), 404, "device_not_found")
    assert len(uploads(fake, cid)) == 1
    stranger = new_user()  # no Arduino integration at all
    sb.expect_error(upload(api, stranger, device), 404, "not_found")
    sb.expect_error(status(api, stranger, mine["ota_id"]), 404, "not_found")


def test_firmware_over_the_limit_is_413_before_arduino(api, fake, owner):
    u, cid, device = owner
    big = ota_file(os.urandom(512 * 1024))  # SB_ARDUINO_OTA_MAX_BYTES: 512 KiB by default
    err = sb.expect_error(upload(api, u, device, big), 413, "payload_too_large")
    assert str(len(big)) in err["message"] and "524288" in err["message"], err
    assert uploads(fake, cid) == []
    sb.expect_ok(upload(api, u, device, ota_file(os.urandom(400 * 1024))), 202)


@pytest.mark.parametrize("body,field", [
    ({"firmware": base64.b64encode(os.urandom(4096)).decode()}, "firmware"),  # a bare .bin, no header
    ({"firmware": base64.b64encode(ota_file()[:-1]).decode()}, "firmware"),  # cut short: length mismatch
    ({"firmware": base64.b64encode(b"tiny").decode()}, "firmware"),
    ({"firmware": "***not base64***"}, "firmware"),
    ({"firmware": ""}, "firmware"),
    ({}, "firmware"),
    ({"firmware": 12}, "firmware"),
    ({"firmware": "QUJD", "expire_in_mins": 0}, "expire_in_mins"),
    ({"firmware": "QUJD", "expire_in_mins": 10081}, "expire_in_mins"),
    ({"firmware": "QUJD", "filename": "../x.ota"}, "filename"),
    ({"firmware": "QUJD", "async": False}, "async"),
])
def test_bad_bodies_are_422_before_arduino(api, fake, owner, body, field):
    u, cid, device = owner
    r = requests.post(url(api) + f"/devices/{device}/ota", json=body, headers=u.headers, timeout=30)
    err = sb.expect_error(r, 422, "validation_failed")
    assert field in err["fields"], err
    assert uploads(fake, cid) == []


def test_listing_parameters_are_checked(api, owner):
    u, _, device = owner
    for params, field in (({"limit": 0}, "limit"), ({"limit": "x"}, "limit"), ({"limit": 101}, "limit"),
                          ({"order": "up"}, "order")):
        err = sb.expect_error(listing(api, u, device, **params), 422, "validation_failed")
        assert field in err["fields"], err


def test_a_corrupted_file_names_the_crc(api, fake, owner):
    u, cid, device = owner
    f = bytearray(ota_file())
    f[-1] ^= 0xFF
    err = sb.expect_error(upload(api, u, device, bytes(f)), 422, "validation_failed")
    assert "CRC32" in err["fields"]["firmware"], err


def test_not_json_is_refused(api, owner):
    u, _, device = owner
    r = requests.post(url(api) + f"/devices/{device}/ota", data=ota_file(),
                      headers={**u.headers, "Content-Type": "application/octet-stream"}, timeout=30)
    err = sb.expect_error(r, 415, "unsupported_media_type")
    assert "application/json" in err["message"], err


def test_arduino_failures_are_502_with_the_reason(api, fake, owner):
    u, cid, device = owner
    fake.mode(cid, ota="error")
    err = sb.expect_error(upload(api, u, device), 502, "provider_unavailable")
    assert "500" in err["message"] and "OTA service unavailable" in err["message"], err
    sb.expect_error(listing(api, u, device), 502, "provider_unavailable")
    fake.mode(cid, ota="reject")
    err = sb.expect_error(upload(api, u, device), 502, "provider_rejected")
    assert "412" in err["message"] and "does not support OTA" in err["message"], err
    fake.mode(cid, ota="ok")
    sb.expect_ok(upload(api, u, device), 202)


def test_revoked_token_is_exchanged_again(api, fake, owner):
    u, cid, device = owner
    fake.mode(cid, expire_tokens=True)
    sb.expect_ok(upload(api, u, device), 202)
    fake.mode(cid, api="unauthorized")
    err = sb.expect_error(upload(api, u, device), 502, "provider_rejected")
    assert "refused" in err["message"], err


def test_disabled_integration_refuses_deploys(api, fake, owner):
    u, cid, device = owner
    sb.expect_ok(requests.patch(url(api), json={"enabled": False}, headers=u.headers, timeout=sb.TIMEOUT))
    sb.expect_error(upload(api, u, device), 409, "integration_disabled")
    assert uploads(fake, cid) == []


def test_deploy_needs_the_write_scope(api, owner):
    u, _, device = owner
    key = sb.expect_ok(requests.post(api + "/api-keys", json={"name": "ro", "scopes": ["integrations:read"]},
                                     headers=u.headers, timeout=sb.TIMEOUT), 201)
    h = {"Authorization": f"Bearer {key['key']}"}
    body = {"firmware": base64.b64encode(ota_file()).decode()}
    sb.expect_error(requests.post(url(api) + f"/devices/{device}/ota", json=body, headers=h, timeout=30), 403)
    sb.expect_ok(requests.get(url(api) + f"/devices/{device}/ota", headers=h, timeout=30))
    sb.expect_error(requests.post(url(api) + f"/devices/{device}/ota", json=body, timeout=30), 401)
