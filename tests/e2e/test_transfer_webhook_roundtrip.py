"""Webhook delivery options (migration 011: payload_format, include/exclude, headers,
allowed_ips, disable settings) carried by the webhooks export and import: an export
file imports as it is into another account and gives the same settings."""

import csv
import io
import time

import requests

import sb

OPTIONS = {
    "payload_format": "envelope",
    "include_fields": ["/provider", "/a b,c", "/x~1y"],
    "exclude_fields": ["/secret"],
    "headers": {"X-Env": "prod, eu", "X-Quote": "say \"hi\""},
    "allowed_ips": ["203.0.113.0/24", "2001:db8::/32"],
    "disable_after_failures": 7,
    "disable_after_days": 2,
}
KEYS = ["name", "url", "events", "retry_count", "timeout_seconds", "is_active"] + list(OPTIONS)


def h(user, **extra):
    return {**user.headers, "User-Agent": sb.USER_AGENT, **extra}


def export_csv(api, user):
    job = sb.expect_ok(requests.post(api + "/export", json={"entity": "webhooks", "format": "csv"},
                                     headers=h(user), timeout=sb.TIMEOUT), 202)
    deadline = time.monotonic() + 30
    while job["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
        job = sb.expect_ok(requests.get(f"{api}/export/{job['id']}", headers=h(user), timeout=sb.TIMEOUT))
    assert job["status"] == "completed", job
    resp = requests.get(f"{api}/export/{job['id']}/download", headers=h(user), timeout=sb.TIMEOUT)
    assert resp.status_code == 200
    return resp.content


def hooks(api, user):
    items = sb.expect_ok(requests.get(api + "/webhooks?limit=100", headers=h(user), timeout=sb.TIMEOUT))["items"]
    return sorted(({k: w.get(k) for k in KEYS} for w in items), key=lambda w: w["name"])


def test_export_import_round_trip(api, new_user):
    src, dst = new_user(), new_user()
    for body in ({"name": "with options", "url": "http://127.0.0.1:9/a", "events": ["integration.*"],
                  "retry_count": 5, "timeout_seconds": 12, **OPTIONS},
                 {"name": "plain", "url": "http://127.0.0.1:9/b", "events": ["*"]}):
        sb.expect_ok(requests.post(api + "/webhooks", json=body, headers=h(src), timeout=sb.TIMEOUT), 201)
    before = hooks(api, src)
    assert before[1]["headers"] == OPTIONS["headers"] and before[1]["allowed_ips"] == OPTIONS["allowed_ips"]
    data = export_csv(api, src)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    by_name = {r["name"]: r for r in rows}
    assert by_name["with options"]["payload_format"] == "envelope"
    assert by_name["with options"]["allowed_ips"] == "203.0.113.0/24 2001:db8::/32"
    assert by_name["plain"]["include_fields"] == "[]" and by_name["plain"]["disable_after_days"] == ""
    job = sb.expect_ok(requests.post(api + "/import", params={"entity": "webhooks"}, data=data,
                                     headers=h(dst, **{"Content-Type": "text/csv"}), timeout=60), 201)
    assert job["status"] == "completed" and job["success_count"] == 2 and job["error_count"] == 0, job
    assert hooks(api, dst) == before


def test_import_option_errors(api, new_user):
    user = new_user()
    head = "name,url,events,payload_format,headers,include_fields,allowed_ips,disable_after_days\r\n"
    body = (head + 'a,http://127.0.0.1:9/a,*,xml,"{""Host"": ""x""}","[1]",10.0.0.1/33,400\r\n'
            + 'b,http://127.0.0.1:9/b,*,standard,not json,"[""/ok""",::1,1\r\n').encode()
    job = sb.expect_ok(requests.post(api + "/import", params={"entity": "webhooks", "mode": "valid_rows"}, data=body,
                                     headers=h(user, **{"Content-Type": "text/csv"}), timeout=60), 201)
    cols = {}
    for e in job["errors"]:
        cols.setdefault(e["row"], set()).add(e["column"])
    assert cols == {2: {"payload_format", "headers", "include_fields", "allowed_ips", "disable_after_days"},
                    3: {"headers", "include_fields"}}, job["errors"]
    assert job["success_count"] == 0
