"""Azure Blob Storage: the config (account key write-only and sealed), the test action
that writes, reads back and deletes a probe blob, a wrong key (AuthenticationFailed), a
missing container, an unreachable endpoint, health, isolation and validation, against a
fake account that verifies Shared Key signatures the way the service does
(tests/e2e/fakes/azure_blob_fake.js, SB_FAKE_AZURE_PORT)."""

import base64
import json
import os

import pytest
import requests

import sb

VIEW_KEYS = {"enabled", "endpoint", "account_name", "container", "prefix", "has_account_key", "status",
             "last_error", "last_checked_at", "updated_at"}


@pytest.fixture(scope="session")
def azure():
    port = os.environ.get("SB_FAKE_AZURE_PORT")
    if not port:
        pytest.skip("SB_FAKE_AZURE_PORT not set: run the suite through scripts/test-e2e")
    base = f"http://127.0.0.1:{port}"
    state = requests.get(base + "/_fake/state", timeout=sb.TIMEOUT).json()
    return {"url": base, "account": state["account"], "key": state["key"]}


def config(azure, **extra):
    body = {"endpoint": azure["url"], "account_name": azure["account"], "account_key": azure["key"],
            "container": "sb-exports"}
    body.update(extra)
    return body


def url(api, rest=""):
    return api + "/users/me/integrations/azure-blob" + rest


def put(api, user, body):
    return requests.put(url(api), json=body, headers=user.headers, timeout=sb.TIMEOUT)


def probe(api, user):
    return requests.post(url(api, "/test"), headers=user.headers, timeout=30)


def fake_log(azure):
    return requests.get(azure["url"] + "/_fake/requests", timeout=sb.TIMEOUT).json()


def test_save_probe_and_sealed_key(api, new_user, azure):
    u = new_user()
    r = put(api, u, config(azure, prefix="team/"))
    v = sb.expect_ok(r)
    assert set(v) == VIEW_KEYS and v["has_account_key"] is True and v["container"] == "sb-exports", v
    assert azure["key"] not in r.text
    stored = sb.psql(f"SELECT config::text FROM user_integrations WHERE user_id = '{sb.sql_uuid(u.id)}' "
                     "AND provider = 'azure_blob'")
    assert azure["key"] not in stored and "account_key_encrypted" in stored
    before = len(fake_log(azure))
    d = sb.expect_ok(probe(api, u))
    assert d["container"] == "sb-exports"
    assert [(s["step"], s["ok"]) for s in d["steps"]] == [("write", True), ("read", True), ("delete", True)], d
    calls = fake_log(azure)[before:]
    assert [c["method"] for c in calls] == ["PUT", "GET", "DELETE"] and all(c["verified"] for c in calls), calls
    assert calls[0]["path"].startswith("/sb-exports/team/.switchboard-probe-"), calls
    blob = calls[0]["path"].split("/", 2)[2]
    assert requests.get(f"{azure['url']}/_fake/blob/sb-exports/{blob}", timeout=sb.TIMEOUT).status_code == 404
    v = sb.expect_ok(requests.get(url(api), headers=u.headers, timeout=sb.TIMEOUT))
    assert v["status"] == "connected" and azure["key"] not in json.dumps(v), v
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=sb.TIMEOUT))
    assert h["status"] in ("connected", "active"), h


def test_wrong_key_is_authentication_failed(api, new_user, azure):
    u = new_user()
    wrong = base64.b64encode(b"not-the-account-key-0123456789").decode()
    sb.expect_ok(put(api, u, config(azure, account_key=wrong)))
    err = sb.expect_error(probe(api, u), 502)
    assert "write failed" in err["message"] and "AuthenticationFailed" in err["message"], err
    assert wrong not in json.dumps(err)
    h = sb.expect_ok(requests.get(url(api, "/health"), headers=u.headers, timeout=sb.TIMEOUT))
    assert h["status"] == "error", h


def test_missing_container_and_unreachable(api, new_user, azure):
    u = new_user()
    sb.expect_ok(put(api, u, config(azure, container="no-such-container")))
    assert "ContainerNotFound" in sb.expect_error(probe(api, u), 502)["message"]
    sb.expect_ok(put(api, u, config(azure, endpoint=f"http://127.0.0.1:{sb.free_port()}")))
    r = probe(api, u)
    assert r.status_code in (502, 504) and "write failed" in r.json()["error"]["message"], r.text


def test_key_kept_isolation_and_delete(api, new_user, azure):
    owner, other = new_user(), new_user()
    sb.expect_ok(put(api, owner, config(azure)))
    body = config(azure)
    del body["account_key"]
    assert sb.expect_ok(put(api, owner, body))["has_account_key"] is True
    sb.expect_ok(probe(api, owner))
    sb.expect_error(requests.get(url(api), headers=other.headers, timeout=sb.TIMEOUT), 404)
    sb.expect_error(probe(api, other), 404)
    err = sb.expect_error(put(api, other, body), 422)  # a first save needs the key
    assert "account_key" in err["fields"], err
    sb.expect_ok(requests.delete(url(api), headers=owner.headers, timeout=sb.TIMEOUT))
    sb.expect_error(probe(api, owner), 404)


def test_default_endpoint(api, new_user, azure):
    u = new_user()
    body = config(azure)
    del body["endpoint"]
    assert sb.expect_ok(put(api, u, body))["endpoint"] == f"https://{azure['account']}.blob.core.windows.net"


@pytest.mark.parametrize("field,value", [
    ("account_name", "Bad_Name"),
    ("account_name", "ab"),
    ("container", "Bad--container"),
    ("account_key", "not base64 at all!"),
    ("endpoint", "ftp://example.org"),
    ("prefix", "../x"),
])
def test_validation(api, new_user, azure, field, value):
    u = new_user()
    body = config(azure)
    body[field] = value
    err = sb.expect_error(put(api, u, body), 422)
    assert field in err["fields"], err


def test_export_delivered_to_the_container(api, new_user, azure):
    from test_transfer_export import export, h, wait_job
    u = new_user()
    sb.expect_ok(put(api, u, config(azure, prefix="team/")))
    job = export(api, u, {"entity": "audit_log", "format": "xlsx",
                          "destination": {"type": "azure_blob", "prefix": "exports/"}})
    assert job["destination"] == {"type": "azure_blob", "prefix": "exports/"}
    done = wait_job(api, u, job["id"])
    assert done["status"] == "completed" and done["destination_status"] == "delivered", done
    assert done["destination_key"] == f"team/exports/audit_log-{job['id']}.xlsx"
    blob = requests.get(f"{azure['url']}/_fake/blob/sb-exports/{done['destination_key']}", timeout=sb.TIMEOUT)
    local = requests.get(f"{api}/export/{job['id']}/download", headers=h(u), timeout=sb.TIMEOUT)
    assert blob.status_code == 200 and local.status_code == 200 and blob.content == local.content
    # A wrong key fails the job with the service's reason.
    wrong = base64.b64encode(b"not-the-account-key-0123456789").decode()
    sb.expect_ok(put(api, u, config(azure, account_key=wrong)))
    job = export(api, u, {"entity": "audit_log", "destination": {"type": "azure_blob"}})
    done = wait_job(api, u, job["id"])
    assert done["status"] == "failed" and done["destination_status"] == "failed", done
    assert "delivery to container sb-exports failed" in done["error_message"], done
    assert "AuthenticationFailed" in done["error_message"], done


def test_export_destination_needs_the_azure_integration(api, new_user, azure):
    u = new_user()
    r = requests.post(api + "/export", json={"entity": "audit_log", "destination": {"type": "azure_blob"}},
                      headers={**u.headers, "User-Agent": sb.USER_AGENT}, timeout=sb.TIMEOUT)
    err = sb.expect_error(r, 422)
    assert "no azure_blob integration" in err["fields"]["destination.type"], err
