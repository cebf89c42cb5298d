"""Imports (issue 13): webhooks and Blynk devices from CSV (text/csv and multipart), the
three modes with 1,000 rows of which 3 are bad, the report and errors CSV, malformed
files refused whole, Idempotency-Key, templates in CSV and XLSX, other users' imports."""

import csv
import io
import uuid

import openpyxl
import pytest
import requests

import sb

HEADER = "name,url,events,retry_count,timeout_seconds,is_active\r\n"


def h(user, **extra):
    return {**user.headers, "User-Agent": sb.USER_AGENT, **extra}


def upload(api, user, body, entity="webhooks", mode=None, ctype="text/csv", key=None):
    params = {"entity": entity}
    if mode:
        params["mode"] = mode
    headers = h(user, **{"Content-Type": ctype})
    if key:
        headers["Idempotency-Key"] = key
    return requests.post(api + "/import", params=params, data=body, headers=headers, timeout=60)


def webhook_rows(n, bad=(), tag="imp"):
    lines = [HEADER]
    for i in range(1, n + 1):
        if i in bad:
            kind = bad[i]
            if kind == "url":
                lines.append(f"{tag} {i},ftp://example.com/{i},integration.*,3,30,true\r\n")
            elif kind == "retry":
                lines.append(f"{tag} {i},http://127.0.0.1:9/{i},integration.*,99,30,true\r\n")
            else:
                lines.append(f"{tag} {i},http://127.0.0.1:9/{i},Bad Events!,3,abc,true\r\n")
        else:
            lines.append(f"\"{tag} {i}, quoted\",http://127.0.0.1:9/{i},\"integration.* webhook.test\",{i % 11},"
                         f"{1 + i % 60},{'true' if i % 2 else 'false'}\r\n")
    return "".join(lines).encode()


BAD = {10: "url", 500: "retry", 999: "events"}  # file rows 11, 501, 1000


def count_webhooks(user):
    return int(sb.psql(f"SELECT count(*) FROM webhooks WHERE user_id = '{sb.sql_uuid(user.id)}'"))


@pytest.fixture
def user(new_user):
    return new_user()


def test_all_or_nothing_writes_nothing_and_reports(api, user, http):
    resp = upload(api, user, webhook_rows(1000, BAD))
    job = sb.expect_ok(resp, 201)
    assert job["status"] == "failed" and job["mode"] == "all_or_nothing"
    assert (job["total_rows"], job["processed_rows"], job["success_count"], job["error_count"]) == (1000, 1000, 0, 3)
    assert "nothing was imported" in job["error_message"]
    assert count_webhooks(user) == 0
    by_row = {e["row"]: e for e in job["errors"]}
    assert set(by_row) == {11, 501, 1000}
    assert by_row[11]["column"] == "url" and by_row[11]["code"] == "invalid"
    assert by_row[501]["column"] == "retry_count" and by_row[501]["code"] == "out_of_range"
    assert by_row[1000]["column"] in ("events", "timeout_seconds")
    got = sb.expect_ok(http.get(f"{api}/import/{job['id']}", headers=h(user), timeout=sb.TIMEOUT))
    assert got["error_count"] == 3 and got["status"] == "failed"
    # The errors CSV: every failing row as uploaded, with its error.
    err = http.get(f"{api}/import/{job['id']}/errors", headers=h(user), timeout=sb.TIMEOUT)
    assert err.status_code == 200 and err.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(err.text, newline="")))
    assert rows[0][0] == "row" and rows[0][-1] == "error"
    assert [r[0] for r in rows[1:]] == ["11", "501", "1000"]
    assert rows[1][2] == "ftp://example.com/10" and rows[1][-1].startswith("url: ")
    assert "timeout_seconds: must be a whole number" in rows[3][-1]


def test_valid_rows_and_dry_run(api, user, http):
    job = sb.expect_ok(upload(api, user, webhook_rows(1000, BAD), mode="dry_run"), 201)
    assert job["status"] == "completed" and job["success_count"] == 997 and job["error_count"] == 3
    assert count_webhooks(user) == 0
    job = sb.expect_ok(upload(api, user, webhook_rows(1000, BAD), mode="valid_rows"), 201)
    assert job["status"] == "completed" and job["success_count"] == 997 and job["error_count"] == 3
    assert count_webhooks(user) == 997
    # Created through the webhooks API's rules: visible there, with their values.
    hooks = sb.expect_ok(http.get(api + "/webhooks", params={"limit": 100}, headers=h(user), timeout=sb.TIMEOUT))
    assert hooks["total"] == 997
    wid = sb.psql(f"SELECT id FROM webhooks WHERE user_id = '{sb.sql_uuid(user.id)}' AND name = 'imp 2, quoted'")
    w = sb.expect_ok(http.get(f"{api}/webhooks/{wid}", headers=h(user), timeout=sb.TIMEOUT))
    assert w["url"] == "http://127.0.0.1:9/2" and w["events"] == ["integration.*", "webhook.test"]
    assert (w["retry_count"], w["timeout_seconds"], w["is_active"]) == (2, 3, False)
    # Each has a sealed secret of its own: rotating shows a fresh one.
    rot = http.post(f"{api}/webhooks/{w['id']}/rotate-secret", headers=h(user), timeout=sb.TIMEOUT)
    assert rot.status_code == 200 and sb.body_of(rot)["data"]["secret"].startswith("whsec_")
    audit = sb.expect_ok(http.get(api + "/users/me/audit-log", params={"limit": 100}, headers=h(user),
                                  timeout=sb.TIMEOUT))["items"]
    assert any(a["action"] == "import.completed" for a in audit)
    # The listing.
    listing = sb.expect_ok(http.get(api + "/import", headers=h(user), timeout=sb.TIMEOUT))
    assert listing["total"] == 2 and listing["items"][0]["mode"] == "valid_rows"


def test_multipart_upload_and_idempotency(api, user, http):
    body = webhook_rows(5, tag="mp")
    key = "upload-" + uuid.uuid4().hex
    files = {"file": ("hooks.csv", body, "text/csv")}
    r1 = http.post(api + "/import", files=files, data={"entity": "webhooks", "mode": "valid_rows"},
                   headers=h(user, **{"Idempotency-Key": key}), timeout=sb.TIMEOUT)
    job = sb.expect_ok(r1, 201)
    assert job["original_filename"] == "hooks.csv" and job["success_count"] == 5
    r2 = http.post(api + "/import", files=files, data={"entity": "webhooks", "mode": "valid_rows"},
                   headers=h(user, **{"Idempotency-Key": key}), timeout=sb.TIMEOUT)
    again = sb.expect_ok(r2, 200)
    assert again["id"] == job["id"] and r2.headers.get("Idempotent-Replayed") == "true"
    assert count_webhooks(user) == 5
    r3 = upload(api, user, webhook_rows(6, tag="other"), mode="valid_rows", key=key)
    sb.expect_error(r3, 409, "idempotency_key_reused")
    assert count_webhooks(user) == 5
    sb.expect_error(http.post(api + "/import", data=b"--x\r\n", params={"entity": "webhooks"},
                              headers=h(user, **{"Content-Type": "multipart/form-data; boundary=x"}),
                              timeout=sb.TIMEOUT), 400, "malformed_multipart")


@pytest.mark.parametrize("body,code", [
    (HEADER.encode() + b'"unclosed,http://127.0.0.1:9/a,*,3,30,true\r\n', "malformed_csv"),
    (b"name,url\r\nx,http://127.0.0.1:9/a\r\n", "header_mismatch"),  # events is required
    (b"name,url,events,retry_count,timeout_seconds,is_active,secret\r\n", "header_mismatch"),
    (HEADER.encode() + "Caf\u00e9,http://127.0.0.1:9/a,*,3,30,true\r\n".encode("latin-1"), "invalid_encoding"),
    (b"", "empty_file"),
])
def test_malformed_files_are_refused_whole(api, user, body, code):
    good = HEADER.encode() + b"fine,http://127.0.0.1:9/ok,*,3,30,true\r\n"
    data = good + body[len(HEADER):] if code in ("malformed_csv", "invalid_encoding") else body
    err = sb.expect_error(upload(api, user, data, mode="valid_rows"), 422, code)
    assert err["message"]
    assert count_webhooks(user) == 0
    assert int(sb.psql(f"SELECT count(*) FROM import_jobs WHERE user_id = '{sb.sql_uuid(user.id)}'")) == 0


def test_caps_bom_and_request_errors(api, user, http):
    big = HEADER.encode() + b"x" * (10 * 1024 * 1024)
    sb.expect_error(upload(api, user, big), 413)
    # A BOM (Excel's CSV UTF-8) is fine.
    job = sb.expect_ok(upload(api, user, b"\xef\xbb\xbf" + webhook_rows(2, tag="bom"), mode="valid_rows"), 201)
    assert job["success_count"] == 2
    sb.expect_error(upload(api, user, webhook_rows(1), ctype="application/json"), 415)
    err = sb.expect_error(upload(api, user, webhook_rows(1), entity="users"), 422, "validation_failed")
    assert "entity" in err["fields"]
    err = sb.expect_error(upload(api, user, webhook_rows(1), mode="some"), 422, "validation_failed")
    assert "mode" in err["fields"]
    sb.expect_error(requests.post(api + "/import", params={"entity": "webhooks"}, data=webhook_rows(1),
                                  headers={"Content-Type": "text/csv"}, timeout=sb.TIMEOUT), 401)
    key = sb.expect_ok(http.post(api + "/api-keys", headers=h(user), timeout=sb.TIMEOUT,
                                 json={"name": "ro", "scopes": ["transfer:read"]}), 201)["key"]
    sb.expect_error(requests.post(api + "/import", params={"entity": "webhooks"}, data=webhook_rows(1),
                                  headers={"Content-Type": "text/csv", "X-API-Key": key}, timeout=sb.TIMEOUT), 403)


def test_other_users_import_is_404(api, user, new_user, http):
    job = sb.expect_ok(upload(api, user, webhook_rows(3, {2: "url"}), mode="valid_rows"), 201)
    other = new_user()
    for path in ("", "/errors"):
        sb.expect_error(http.get(f"{api}/import/{job['id']}{path}", headers=h(other), timeout=sb.TIMEOUT), 404)
    sb.expect_error(http.get(f"{api}/import/not-a-uuid", headers=h(user), timeout=sb.TIMEOUT), 404)
    assert sb.expect_ok(http.get(api + "/import", headers=h(other), timeout=sb.TIMEOUT))["total"] == 0


def test_templates(api, user, http):
    r = http.get(api + "/import/templates/webhooks", headers=h(user), timeout=sb.TIMEOUT)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text, newline="")))
    assert rows[0] == ["name", "url", "events", "retry_count", "timeout_seconds", "is_active", "payload_format",
                       "include_fields", "exclude_fields", "headers", "allowed_ips", "disable_after_failures",
                       "disable_after_days"] and len(rows) == 2
    # The template is importable as it is (once the example URL is one this stack may reach).
    body = r.text.replace("https://erp.example.com/hooks/switchboard", "http://127.0.0.1:9/erp").encode()
    assert sb.expect_ok(upload(api, user, body, mode="dry_run"), 201)["error_count"] == 0
    r = http.get(api + "/import/templates/blynk_devices", params={"format": "xlsx"}, headers=h(user),
                 timeout=sb.TIMEOUT)
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert [c.value for c in wb.worksheets[0][1]] == ["device_name", "auth_token"]
    assert wb.worksheets[0]["A1"].font.b and wb.worksheets[0].max_row == 2
    rules = list(wb.worksheets[1].iter_rows(values_only=True))
    assert rules[0] == ("column", "type", "rules") and rules[1][0] == "device_name" and "required" in rules[1][2]
    sb.expect_error(http.get(api + "/import/templates/users", headers=h(user), timeout=sb.TIMEOUT), 404)
    sb.expect_error(http.get(api + "/import/templates/webhooks", params={"format": "pdf"}, headers=h(user),
                             timeout=sb.TIMEOUT), 422)


def test_blynk_devices_sealed_like_the_api(api, user, http):
    tok = "A" * 32
    body = ("device_name,auth_token\r\nkitchen," + tok + "\r\ngarage,short\r\nkitchen," + "B" * 32 + "\r\n").encode()
    job = sb.expect_ok(upload(api, user, body, entity="blynk_devices", mode="valid_rows"), 201)
    assert job["success_count"] == 1 and job["error_count"] == 2
    codes = {(e["row"], e["column"], e["code"]) for e in job["errors"]}
    assert (3, "auth_token", "invalid") in codes or (3, "auth_token", "out_of_range") in codes
    assert (4, "device_name", "duplicate") in codes
    cfg = sb.psql(f"SELECT config::text FROM user_integrations WHERE user_id = '{sb.sql_uuid(user.id)}' "
                  "AND provider = 'blynk'")
    assert tok not in cfg and "devices/kitchen/auth_token_encrypted" in cfg
    view = sb.expect_ok(http.get(api + "/users/me/integrations/blynk", headers=h(user), timeout=sb.TIMEOUT))
    assert [d["name"] for d in view["devices"]] == ["kitchen"]
    assert tok not in str(view)
    # A second import adds to the stored devices and keeps their tokens.
    job = sb.expect_ok(upload(api, user, ("device_name,auth_token\r\ncellar," + "C" * 32 + "\r\n").encode(),
                              entity="blynk_devices"), 201)
    assert job["status"] == "completed" and job["success_count"] == 1
    view = sb.expect_ok(http.get(api + "/users/me/integrations/blynk", headers=h(user), timeout=sb.TIMEOUT))
    assert sorted(d["name"] for d in view["devices"]) == ["cellar", "kitchen"]
    cfg = sb.psql(f"SELECT config::text FROM user_integrations WHERE user_id = '{sb.sql_uuid(user.id)}' "
                  "AND provider = 'blynk'")
    assert "devices/kitchen/auth_token_encrypted" in cfg and "devices/cellar/auth_token_encrypted" in cfg
