"""Exports (issue 13): every entity in CSV and XLSX read back with Python's csv and
openpyxl, typed cells and real dates, the formula-injection guard, filters, columns,
the download (headers, ranges, ETag, nginx), other users' exports, expiry, validation."""

import csv
import datetime
import io
import time
import uuid

import openpyxl
import pytest
import requests

import sb


def h(user):
    return {**user.headers, "User-Agent": sb.USER_AGENT}


def export(api, user, body, status=202):
    resp = requests.post(api + "/export", json=body, headers=h(user), timeout=sb.TIMEOUT)
    return sb.expect_ok(resp, status)


def wait_job(api, user, job_id, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        job = sb.expect_ok(requests.get(f"{api}/export/{job_id}", headers=h(user), timeout=sb.TIMEOUT))
        if job["status"] in ("completed", "failed"):
            return job
        assert time.monotonic() < deadline, f"export {job_id} still {job['status']} after {timeout}s"
        time.sleep(0.2)


def run_export(api, user, body):
    job = export(api, user, body)
    assert job["status"] == "pending" and sb.UUID_RE.match(job["id"]), job
    done = wait_job(api, user, job["id"])
    assert done["status"] == "completed", done
    resp = requests.get(f"{api}/export/{job['id']}/download", headers=h(user), timeout=sb.TIMEOUT)
    assert resp.status_code == 200, resp.text[:300]
    assert len(resp.content) == done["file_size"]
    return done, resp


def read_csv(resp):
    text = resp.content.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    return list(csv.reader(io.StringIO(text, newline="")))


def read_xlsx(resp):
    wb = openpyxl.load_workbook(io.BytesIO(resp.content))
    ws = wb.worksheets[0]
    return ws, [list(r) for r in ws.iter_rows(values_only=True)]


SEEDED = {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}  # the seeded rows, not sign-ups


def seed_audit(user_id, n=5):
    """n audit rows of user_id at known times, one of them a formula attempt."""
    uid = sb.sql_uuid(user_id)
    sb.psql(
        "INSERT INTO audit_events (user_id, action, provider, ip, user_agent, details, created_at) "
        f"SELECT '{uid}', 'seed.' || i, CASE WHEN i % 2 = 0 THEN 'github' ELSE 'mqtt' END, '192.0.2.7', "
        "CASE WHEN i = 1 THEN '=HYPERLINK(\"http://evil.example\",\"x\")' ELSE 'agent, with \"quotes\"' END, "
        "jsonb_build_object('n', i), timestamptz '2026-01-01 00:00:00+00' + i * interval '1 hour' "
        f"FROM generate_series(1, {int(n)}) AS i")


@pytest.fixture
def user(new_user):
    return new_user()


def test_audit_log_csv_values_guard_and_bom(api, user):
    seed_audit(user.id)
    job, resp = run_export(api, user, {"entity": "audit_log", "format": "csv", "bom": True,
                                       "filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}})
    assert resp.content.startswith(b"\xef\xbb\xbf")
    assert resp.headers["Content-Type"].startswith("text/csv")
    cd = resp.headers["Content-Disposition"]
    assert cd.startswith('attachment; filename="audit_log-') and cd.endswith('.csv"'), cd
    assert resp.headers.get("ETag") and resp.headers.get("Content-Length") == str(len(resp.content))
    rows = read_csv(resp)
    assert rows[0] == ["id", "created_at", "action", "provider", "ip", "user_agent", "details"]
    data = rows[1:]
    assert job["record_count"] == len(data) == 5
    assert [r[2] for r in data] == [f"seed.{i}" for i in range(1, 6)]
    assert data[0][1] == "2026-01-01T01:00:00Z"
    assert data[0][4] == "192.0.2.7"
    # The formula is neutralised with a leading quote; other text is kept exactly.
    assert data[0][5] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert data[1][5] == 'agent, with "quotes"'
    assert data[2][6] == '{"n": 3}'
    # CRLF row ends (RFC 4180).
    assert b"\r\n" in resp.content and b"\n" not in resp.content.replace(b"\r\n", b"")


def test_audit_log_xlsx_formatted_with_real_dates(api, user):
    seed_audit(user.id)
    _, resp = run_export(api, user, {"entity": "audit_log", "format": "xlsx", "filters": {"provider": "github"}})
    assert resp.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    ws, rows = read_xlsx(resp)
    assert rows[0] == ["id", "created_at", "action", "provider", "ip", "user_agent", "details"]
    assert ws["A1"].font.b, "the header row is bold"
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:G")
    assert ws.column_dimensions["A"].width >= 30
    data = rows[1:]
    assert [r[2] for r in data] == ["seed.2", "seed.4"]
    assert all(r[3] == "github" for r in data)
    assert data[0][1] == datetime.datetime(2026, 1, 1, 2, 0, 0)
    assert ws["B2"].is_date and "yy" in ws["B2"].number_format


def test_every_entity_both_formats_never_a_secret(api, user, http):
    # One row of each entity through the API (or, for logs and integrations, the tables).
    hook = sb.expect_ok(http.post(api + "/webhooks", headers=h(user), timeout=sb.TIMEOUT, json={
        "name": "=cmd|' /C calc'!A0", "url": "http://127.0.0.1:9/hook", "events": ["integration.*"],
        "retry_count": 4, "timeout_seconds": 7}), 201)
    key = sb.expect_ok(http.post(api + "/api-keys", headers=h(user), timeout=sb.TIMEOUT,
                                 json={"name": "exported key", "scopes": ["read"]}), 201)
    client = sb.expect_ok(http.post(api + "/oauth/clients", headers=h(user), timeout=sb.TIMEOUT,
                                    json={"name": "exported client", "scopes": ["read"]}), 201)
    uid = sb.sql_uuid(user.id)
    # A real saved integration with a sealed password (a made-up sealed value would be a
    # row no key opens, and scripts/rotate-key would rightly fail on it later in the suite).
    broker_password = "exported-broker-pw-" + uuid.uuid4().hex
    sb.expect_ok(http.put(api + "/users/me/integrations/mqtt", headers=h(user), timeout=sb.TIMEOUT, json={
        "broker_url": "mqtt://127.0.0.1:1883", "use_authentication": True, "username": "exporter",
        "password": broker_password, "device_id": "export-device", "topic_prefix": "lab/export"}))
    sealed = sb.psql(f"SELECT config->>'password_encrypted' FROM user_integrations WHERE user_id = '{uid}' "
                     "AND provider = 'mqtt'")
    assert sealed.startswith("sb1."), sealed
    sb.psql("INSERT INTO api_request_logs (api_key_id, user_id, method, path, route, response_status, "
            f"response_time_ms, ip_address) VALUES ('{sb.sql_uuid(key['id'])}', '{uid}', 'GET', '/api/v1/users/me', "
            "'/api/v1/users/me', 200, 1.25, '127.0.0.1')")
    sb.expect_ok(http.post(api + "/events", headers=h(user), timeout=sb.TIMEOUT,
                           json={"type": "order.created", "data": {"n": 1}}), 202)
    hook2 = sb.expect_ok(http.post(api + "/webhooks", headers=h(user), timeout=sb.TIMEOUT, json={
        "name": "all", "url": "http://127.0.0.1:9/all", "events": ["*"]}), 201)
    sb.expect_ok(http.post(api + "/events", headers=h(user), timeout=sb.TIMEOUT,
                           json={"type": "order.shipped", "data": {"n": 2}}), 202)

    expect = {
        "integrations": ("provider", "mqtt"),
        "webhooks": ("name", "'=cmd|' /C calc'!A0"),
        "webhook_deliveries": ("event_type", "order.shipped"),
        "api_keys": ("key_prefix", key["key_prefix"] if "key_prefix" in key else key["prefix"]),
        "api_request_logs": ("path", "/api/v1/users/me"),
        "oauth_clients": ("client_id", client["client_id"]),
        "audit_log": ("action", "webhook.created"),
    }
    secrets = [key["key"], client["client_secret"], hook["secret"], broker_password, sealed, "password_encrypted"]
    for entity, (col, value) in expect.items():
        _, resp = run_export(api, user, {"entity": entity, "format": "csv"})
        for s in secrets:
            assert s.encode() not in resp.content, (entity, s)
        rows = read_csv(resp)
        i = rows[0].index(col)
        assert value in [r[i] for r in rows[1:]], (entity, rows)
        _, resp = run_export(api, user, {"entity": entity, "format": "xlsx"})
        ws, xrows = read_xlsx(resp)
        assert xrows[0] == rows[0], entity
        if entity not in ("webhook_deliveries", "audit_log"):  # each export adds to these two
            assert len(xrows) == len(rows), entity
        want = value.lstrip("'") if entity == "webhooks" else value  # XLSX text cells are never formulas
        assert want in [r[i] for r in xrows[1:]], (entity, xrows)
        for s in secrets:
            assert all(s not in str(c) for r in xrows for c in r), (entity, s)
        if entity == "webhooks":
            r = next(r for r in xrows[1:] if r[0] == hook["id"])
            assert r[rows[0].index("retry_count")] == 4 and r[rows[0].index("is_active")] is True
            assert isinstance(r[rows[0].index("created_at")], datetime.datetime)
            csv_row = next(r for r in rows[1:] if r[0] == hook["id"])
            assert csv_row[rows[0].index("is_active")] == "true"
        if entity == "api_request_logs":
            assert xrows[1][rows[0].index("response_time_ms")] == 1.25
            assert xrows[1][rows[0].index("response_status")] == 200
    # Filters per entity and a column choice.
    _, resp = run_export(api, user, {"entity": "webhook_deliveries", "format": "csv",
                                     "filters": {"webhook_id": hook2["id"]}, "columns": ["event_type", "webhook_id"]})
    rows = read_csv(resp)
    assert rows[0] == ["event_type", "webhook_id"]
    assert {r[1] for r in rows[1:]} == {hook2["id"]} and len(rows) >= 2
    _, resp = run_export(api, user, {"entity": "integrations", "format": "csv", "filters": {"status": "error"}})
    assert len(read_csv(resp)) == 1
    _, resp = run_export(api, user, {"entity": "api_keys", "format": "csv", "filters": {"status": "active"},
                                     "columns": ["name", "status"]})
    assert read_csv(resp)[1:] == [["exported key", "active"]]


def test_download_ranges_etag_and_listing(api, user, http):
    seed_audit(user.id, 50)
    job, resp = run_export(api, user, {"entity": "audit_log", "format": "csv", "filters": SEEDED})
    url = f"{api}/export/{job['id']}/download"
    part = http.get(url, headers={**h(user), "Range": "bytes=0-9"}, timeout=sb.TIMEOUT)
    assert part.status_code == 206 and part.content == resp.content[:10]
    assert part.headers["Content-Range"] == f"bytes 0-9/{len(resp.content)}"
    again = http.get(url, headers={**h(user), "If-None-Match": resp.headers["ETag"]}, timeout=sb.TIMEOUT)
    assert again.status_code == 304
    head = http.head(url, headers=h(user), timeout=sb.TIMEOUT)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(resp.content))
    listing = sb.expect_ok(http.get(api + "/export", params={"limit": 1}, headers=h(user), timeout=sb.TIMEOUT))
    assert listing["total"] == 1 and listing["items"][0]["id"] == job["id"]
    assert listing["items"][0]["file_url"] == f"/api/v1/export/{job['id']}/download"
    assert listing["items"][0]["rows_written"] == 50
    # The file itself is only reachable through the owner's download.
    direct = http.get(api.replace("/api/v1", "") + f"/_sb_transfer_files/{job['id']}.csv", timeout=sb.TIMEOUT)
    assert direct.status_code == 404
    sb.expect_ok(http.delete(f"{api}/export/{job['id']}", headers=h(user), timeout=sb.TIMEOUT))
    sb.expect_error(http.get(url, headers=h(user), timeout=sb.TIMEOUT), 404, "not_found")
    sb.expect_error(http.delete(f"{api}/export/{job['id']}", headers=h(user), timeout=sb.TIMEOUT), 404)


def test_other_users_export_is_404_and_expired_is_410(api, user, new_user, http):
    other = new_user()
    seed_audit(user.id, 2)
    job, _ = run_export(api, user, {"entity": "audit_log", "format": "csv"})
    for method, path in (("GET", ""), ("GET", "/download"), ("DELETE", "")):
        sb.expect_error(http.request(method, f"{api}/export/{job['id']}{path}", headers=h(other),
                                     timeout=sb.TIMEOUT), 404, "not_found")
    assert sb.expect_ok(http.get(api + "/export", headers=h(other), timeout=sb.TIMEOUT))["total"] == 0
    # Nor do other users' rows end up in my export.
    seed_audit(other.id, 3)
    _, resp = run_export(api, other, {"entity": "audit_log", "format": "csv", "filters": SEEDED})
    assert len(read_csv(resp)) == 4
    sb.psql(f"UPDATE export_jobs SET expires_at = now() - interval '1 second' WHERE id = '{sb.sql_uuid(job['id'])}'")
    sb.expect_error(http.get(f"{api}/export/{job['id']}/download", headers=h(user), timeout=sb.TIMEOUT), 410,
                    "expired")
    sb.expect_error(http.get(f"{api}/export/nope/download", headers=h(user), timeout=sb.TIMEOUT), 404)
    sb.expect_error(http.get(f"{api}/export/{uuid.uuid4()}", headers=h(user), timeout=sb.TIMEOUT), 404)


def test_not_ready_is_409(api, user, http):
    uid = sb.sql_uuid(user.id)
    jid = sb.psql("INSERT INTO export_jobs (user_id, entity_type, status, lease_owner, lease_expires_at, attempts) "
                  f"VALUES ('{uid}', 'audit_log', 'running', 'elsewhere', now() + interval '1 hour', 1) RETURNING id")
    jid = jid.splitlines()[0]
    sb.expect_error(http.get(f"{api}/export/{jid}/download", headers=h(user), timeout=sb.TIMEOUT), 409, "not_ready")
    assert sb.expect_ok(http.get(f"{api}/export/{jid}", headers=h(user), timeout=sb.TIMEOUT))["status"] == "running"


@pytest.mark.parametrize("body,field", [
    ({"entity": "users"}, "entity"),
    ({"format": "csv"}, "entity"),
    ({"entity": "audit_log", "format": "pdf"}, "format"),
    ({"entity": "audit_log", "filters": {"from": "yesterday"}}, "filters.from"),
    ({"entity": "audit_log", "filters": {"webhook_id": str(uuid.uuid4())}}, "filters.webhook_id"),
    ({"entity": "webhook_deliveries", "filters": {"webhook_id": "x"}}, "filters.webhook_id"),
    ({"entity": "webhook_deliveries", "filters": {"status": "lost"}}, "filters.status"),
    ({"entity": "audit_log", "columns": ["id", "password_hash"]}, "columns"),
    ({"entity": "audit_log", "bom": "yes"}, "bom"),
])
def test_invalid_export_bodies(api, user, http, body, field):
    err = sb.expect_error(http.post(api + "/export", json=body, headers=h(user), timeout=sb.TIMEOUT), 422,
                          "validation_failed")
    assert field in err["fields"], err


def test_export_auth_and_malformed(api, user, http):
    sb.expect_error(http.post(api + "/export", json={"entity": "audit_log"}, timeout=sb.TIMEOUT), 401)
    sb.expect_error(http.post(api + "/export", data="{", headers={**h(user), "Content-Type": "application/json"},
                              timeout=sb.TIMEOUT), 400, "malformed_json")
    sb.expect_error(http.post(api + "/export", data="entity=x", headers={**h(user), "Content-Type": "text/plain"},
                              timeout=sb.TIMEOUT), 415)
    key = sb.expect_ok(http.post(api + "/api-keys", headers=h(user), timeout=sb.TIMEOUT,
                                 json={"name": "ro", "scopes": ["transfer:read"]}), 201)["key"]
    sb.expect_error(http.post(api + "/export", json={"entity": "audit_log"}, headers={"X-API-Key": key},
                              timeout=sb.TIMEOUT), 403)
    assert sb.expect_ok(http.get(api + "/export", headers={"X-API-Key": key}, timeout=sb.TIMEOUT))["total"] == 0


def test_transfer_event_types_are_listed(api, user, http):
    types = sb.expect_ok(http.get(api + "/webhooks/event-types", headers=h(user), timeout=sb.TIMEOUT))
    names = {t["name"] for t in types["event_types"] if t["source"] == "builtin"}
    assert {"export.completed", "export.failed", "import.completed", "import.failed"} <= names, names
