"""Smoke tests of an installed Switchboard (the Debian package in a throwaway root, its
units, Debian's stock nginx with the two include lines): the API under the operator's
own server, MQTT, a webhook delivered by the worker, switchboard-ctl, and a reload of
one group under load with no failed request."""

import base64
import hashlib
import hmac
import subprocess
import threading
import time

import requests

import sb


def mqtt_config(broker, **overrides):
    return {"enabled": True, "broker_url": f"mqtt://127.0.0.1:{broker.port}", "use_authentication": True,
            "username": broker.user, "password": broker.password, "device_id": "deploy-1",
            "topic_prefix": "deploy/smoke", **overrides}


def test_the_operators_own_site_is_untouched(site, http):
    r = http.get(site.url + "/", timeout=sb.TIMEOUT)
    assert r.status_code == 200 and r.text.strip() == "the operator's own site", r.text
    assert r.headers.get("X-Operator-Site") == "yes"
    # None of Switchboard's headers leak into the operator's locations.
    assert "X-Request-Id" not in r.headers and "Content-Security-Policy" not in r.headers, dict(r.headers)
    missing = http.get(site.url + "/no-such-page", timeout=sb.TIMEOUT)
    assert missing.status_code == 404 and not missing.headers.get("Content-Type", "").startswith("application/json")


def test_api_locations_carry_switchboard_headers_and_json_errors(api, http):
    r = http.get(api + "/no/such/route", timeout=sb.TIMEOUT)
    sb.expect_error(r, 404, "not_found")
    assert r.headers.get("X-Request-Id") and r.headers.get("X-Content-Type-Options") == "nosniff", dict(r.headers)
    sb.expect_error(http.get(api + "/users/me", timeout=sb.TIMEOUT), 401)


def test_register_login_and_me(api, http, user):
    me = sb.expect_ok(http.get(api + "/users/me", headers=user.headers, timeout=sb.TIMEOUT))
    sb.assert_user_shape(me)
    assert me["email"] == user.email
    sb.expect_error(http.post(api + "/auth/login", json={"email": user.email, "password": "wrong password"},
                              timeout=sb.TIMEOUT), 401)


def test_api_docs_are_served_from_the_installation(site, http):
    r = http.get(site.url + "/api/docs/", timeout=sb.TIMEOUT)
    assert r.status_code == 200 and "swagger" in r.text.lower(), r.status_code
    spec = http.get(site.url + "/api/docs/openapi.json", timeout=sb.TIMEOUT)
    assert spec.status_code == 200 and spec.json()["openapi"].startswith("3."), spec.status_code


def test_health_locations_answer_loopback(site, http):
    for kind in ("healthz", "readyz"):
        assert http.get(f"{site.url}/_sb/auth/{kind}", timeout=sb.TIMEOUT).status_code == 200


def test_mqtt_save_and_test_against_mosquitto(api, http, user, broker):
    url = api + "/users/me/integrations/mqtt"
    view = sb.expect_ok(http.put(url, json=mqtt_config(broker), headers=user.headers, timeout=sb.TIMEOUT))
    assert view["has_password"] is True and "password" not in view, view
    result = sb.expect_ok(http.post(url + "/test", headers=user.headers, timeout=sb.TIMEOUT))
    assert result["connected"] is True, result
    assert sb.expect_ok(http.get(url, headers=user.headers, timeout=sb.TIMEOUT))["status"] == "connected"
    # A wrong password is told apart (the broker really checks it).
    bad = sb.expect_ok(http.post(url + "/test", json=mqtt_config(broker, password="not-it"), headers=user.headers,
                                 timeout=sb.TIMEOUT))
    assert bad["connected"] is False, bad


def test_webhook_is_delivered_by_the_worker_and_signed(api, http, user, receiver, broker):
    w = sb.expect_ok(http.post(api + "/webhooks", json={"name": "deploy", "url": receiver.url + "/hook/" + user.email,
                                                         "events": ["integration.*"]},
                               headers=user.headers, timeout=sb.TIMEOUT), 201)
    sb.expect_ok(http.put(api + "/users/me/integrations/mqtt", json=mqtt_config(broker), headers=user.headers,
                          timeout=sb.TIMEOUT))
    got = sb.retry_until(lambda: [e for e in receiver.got if e["path"].endswith(user.email)], timeout=20)
    assert got, "no delivery reached the receiver"
    e = got[0]
    assert e["body"]["type"] == "integration.connected", e["body"]
    key = base64.b64decode(w["secret"].removeprefix("whsec_"))
    msg = f"{e['headers']['webhook-id']}.{e['headers']['webhook-timestamp']}.".encode() + e["raw"]
    want = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    assert f"v1,{want}" in e["headers"]["webhook-signature"].split(" "), e["headers"]


def test_per_ip_limits_see_the_client_behind_the_balancer(api, http):
    """The sign-in limit (5r/s, burst 10) is per client address as the balancer forwards
    it: one client running into it leaves another client's budget alone."""
    first = {"X-Forwarded-For": "198.51.100.7"}
    codes = [http.post(api + "/auth/register", json={}, headers=first, timeout=sb.TIMEOUT).status_code
             for _ in range(40)]
    assert 429 in codes, codes
    other = http.post(api + "/auth/register", json={}, headers={"X-Forwarded-For": "198.51.100.8"},
                      timeout=sb.TIMEOUT)
    assert other.status_code != 429, other.status_code
    sb.expect_error(other, other.status_code)


def test_ctl_status_lists_every_group_ready(ctl):
    out = ctl("status").stdout
    groups = ctl("groups").stdout.split()
    assert "auth" in groups and len(groups) >= 6, groups
    for g in groups:
        line = next(l for l in out.splitlines() if l.split()[0] == g)
        assert "healthz=200" in line and "readyz=200" in line and " active " in line, line
    assert any(l.startswith("worker") and "active" in l for l in out.splitlines()), out


def test_ctl_help_and_usage_errors(ctl):
    out = ctl("--help").stdout
    for verb in ("migrate", "status", "reload GROUP", "rotate-key", "prune"):
        assert verb in out, out
    assert ctl("reload", "nosuchgroup", check=False).returncode != 0
    assert ctl("migrate", "sideways", check=False).returncode != 0
    assert ctl("no-such-command", check=False).returncode == 2


def test_ctl_prune_runs(ctl):
    ctl("prune")


def main_pid(unit):
    return int(subprocess.run(["systemctl", "show-pid", unit], capture_output=True, text=True, check=True).stdout)


def _hammer(api, http_headers, user, stop, counts, failures):
    s = requests.Session()
    s.headers.update(http_headers)
    while not stop.is_set():
        try:
            r = s.get(api + "/users/me", headers=user.headers, timeout=sb.TIMEOUT)
            ok = r.status_code == 200
            detail = f"{r.status_code} {r.text[:120]}"
        except requests.RequestException as e:
            ok, detail = False, repr(e)
        counts.append(1)
        if not ok:
            failures.append(detail)
    s.close()


def test_reload_of_one_group_under_load_fails_no_request(api, http, user, ctl):
    pid_before = main_pid("switchboard@auth.service")
    assert pid_before > 0
    stop, counts, failures = threading.Event(), [], []
    threads = [threading.Thread(target=_hammer, args=(api, dict(http.headers), user, stop, counts, failures))
               for _ in range(6)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        for _ in range(3):
            ctl("reload", "auth")
            time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert len(counts) > 50, f"only {len(counts)} requests were sent"
    assert not failures, f"{len(failures)} of {len(counts)} requests failed during reloads: {failures[:5]}"
    # A reload re-executes the master in place: systemd's MAINPID stays.
    assert main_pid("switchboard@auth.service") == pid_before


def test_rotate_key_adds_a_version_reloads_and_reseals(api, http, user, broker, ctl):
    url = api + "/users/me/integrations/mqtt"
    sb.expect_ok(http.put(url, json=mqtt_config(broker), headers=user.headers, timeout=sb.TIMEOUT))
    out = ctl("rotate-key", "--add-key")
    assert "added key version 2" in out.stdout, out.stdout
    # The saved password opens with the new key set: the saved test still connects.
    result = sb.expect_ok(http.post(url + "/test", headers=user.headers, timeout=sb.TIMEOUT))
    assert result["connected"] is True, result
    ctl("status")


def test_an_export_written_by_the_worker_is_downloaded_through_nginx(api, http, user):
    """The worker (switchboard) writes the file, nginx (www-data) serves it through
    X-Accel-Redirect: the directory's group and the units' UMask must let exactly
    nginx's group read it."""
    import grp
    import os
    import stat

    sb.expect_ok(http.post(api + "/webhooks", headers=user.headers, timeout=sb.TIMEOUT,
                           json={"name": "exported", "url": "https://example.test/hook", "events": ["*"]}), 201)
    job = sb.expect_ok(http.post(api + "/export", headers=user.headers, timeout=sb.TIMEOUT,
                                 json={"entity": "webhooks", "format": "csv"}), 202)
    deadline = time.monotonic() + 30
    while True:
        done = sb.expect_ok(http.get(f"{api}/export/{job['id']}", headers=user.headers, timeout=sb.TIMEOUT))
        if done["status"] in ("completed", "failed"):
            break
        assert time.monotonic() < deadline, done
        time.sleep(0.2)
    assert done["status"] == "completed", done
    resp = http.get(f"{api}/export/{job['id']}/download", headers=user.headers, timeout=sb.TIMEOUT)
    assert resp.status_code == 200, (resp.status_code, resp.text[:300])
    assert len(resp.content) == done["file_size"] and b"exported" in resp.content
    tdir = os.path.join(os.environ["SB_TEST_ROOT"], "var/lib/switchboard/transfer")
    st_dir = os.stat(tdir)
    assert stat.S_IMODE(st_dir.st_mode) == 0o2750 and grp.getgrgid(st_dir.st_gid).gr_name == "www-data"
    files = [os.path.join(tdir, f) for f in os.listdir(tdir) if not f.startswith(".")]
    modes = {f: (stat.S_IMODE(os.stat(f).st_mode), grp.getgrgid(os.stat(f).st_gid).gr_name)
             for f in files if os.path.isfile(f)}
    assert modes and all(m == (0o640, "www-data") for m in modes.values()), modes


def test_the_relay_unit_carries_a_browser_session_to_the_broker(api, site, http, user, broker, ctl):
    """switchboard-relay.service behind the stock nginx: a ticket, a WebSocket through
    the operator's server to the installed relay, and a publish/subscribe round trip on
    the password-protected mosquitto with the sealed credentials (the browser sends none)."""
    import json
    import os

    url = api + "/users/me/integrations/mqtt"
    sb.expect_ok(http.put(url, json=mqtt_config(broker), headers=user.headers, timeout=sb.TIMEOUT))
    ticket = sb.expect_ok(http.post(url + "/ws-ticket", headers=user.headers, timeout=sb.TIMEOUT))
    ws = "ws://" + site.url.split("://", 1)[1] + ticket["url"]
    topic = "deploy/smoke/relay/temp"
    actions = [{"op": "subscribe", "topic": "deploy/smoke/relay/#", "qos": 1},
               {"op": "publish", "topic": topic, "payload": "21.5", "qos": 1},
               {"op": "expect", "topic": topic, "ms": 8000}, {"op": "end"}]
    client = os.path.join(os.path.dirname(__file__), "..", "e2e", "relay_client.js")
    proc = subprocess.run(["node", client, "mqtt", ws, "4", json.dumps(actions)], capture_output=True, text=True,
                          timeout=40)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    by = {e["event"]: e for e in events}
    assert by.get("connect", {}).get("ok") is True, events
    assert by["expect"]["received"] is True and by["expect"]["messages"][0]["payload"] == "21.5", events
    # Outside the saved prefix: refused by the relay.
    ticket = sb.expect_ok(http.post(url + "/ws-ticket", headers=user.headers, timeout=sb.TIMEOUT))
    proc = subprocess.run(["node", client, "mqtt", "ws://" + site.url.split("://", 1)[1] + ticket["url"], "4",
                           json.dumps([{"op": "subscribe", "topic": "#", "qos": 0}, {"op": "end"}])],
                          capture_output=True, text=True, timeout=40)
    refused = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    # mqtt.js reports the SUBACK failure 0x80 as a subscribe error.
    assert "Subscribe error" in ([e for e in refused if e["event"] == "subscribe"][0].get("error") or ""), refused
    assert any(l.startswith("relay") and "active" in l for l in ctl("status").stdout.splitlines())
