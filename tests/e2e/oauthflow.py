"""Helpers of the OAuth connect tests: the fakes' control APIs and a browser-like walk
through connect -> provider -> callback (redirects followed by hand, never to the
frontend)."""

import json
import os
import urllib.parse
import uuid

import requests

import sb

FRONTEND = "http://frontend.test"

# The user's browser: keeps the browser-binding cookie connect/login set, which the
# callback must carry back. A test that plays another browser makes its own Session.
BROWSER = requests.Session()


def fake_url(name):
    port = {"github": "SB_FAKE_GITHUB_PORT", "google": "SB_FAKE_GOOGLE_PORT", "oidcmock": "SB_FAKE_OAUTH2_PORT",
            "microsoft": "SB_FAKE_MICROSOFT_PORT"}[name]
    return f"http://127.0.0.1:{os.environ[port]}"


def fake_state(name):
    r = requests.get(fake_url(name) + "/_fake/state", timeout=sb.TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def counter(name, key, login=None):
    c = fake_state(name)["counters"]
    return c.get(f"{key}:{login}" if login else key, 0)


def set_user(name, login, **knobs):
    r = requests.post(fake_url(name) + f"/_fake/users/{login}", json=knobs, timeout=sb.TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def new_login(prefix="octo"):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def mock_events():
    path = os.path.join(os.environ["SB_VAR"], "log", "oauth2-mock-events.jsonl")
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def start(api, provider, headers=None, kind="connect"):
    """GET /auth/{provider}/{kind} with Accept: application/json -> data."""
    h = {"Accept": "application/json", "User-Agent": sb.USER_AGENT}
    h.update(headers or {})
    return BROWSER.get(f"{api}/auth/{provider}/{kind}", headers=h, timeout=sb.TIMEOUT)


def authorize(authorization_url, fake_user=None, deny=False):
    """The user at the provider: approves (as fake_user) or denies. Returns the callback
    URL the provider redirects the browser to."""
    extra = {}
    if fake_user:
        extra["fake_user"] = fake_user
    if deny:
        extra["deny"] = "1"
    url = authorization_url + ("&" + urllib.parse.urlencode(extra) if extra else "")
    r = requests.get(url, allow_redirects=False, timeout=sb.TIMEOUT)
    assert r.status_code in (302, 303), f"provider answered {r.status_code}: {r.text[:300]}"
    return r.headers["Location"]


def callback(url, json_mode=False, browser=None):
    h = {"User-Agent": sb.USER_AGENT}
    if json_mode:
        h["Accept"] = "application/json"
    return (browser or BROWSER).get(url, headers=h, allow_redirects=False, timeout=sb.TIMEOUT)


def connect(api, user, provider, fake_user=None, json_mode=False):
    """The whole connect flow for user; returns the callback's response."""
    data = sb.expect_ok(start(api, provider, user.headers))
    return callback(authorize(data["authorization_url"], fake_user), json_mode=json_mode)


def location_query(resp):
    loc = resp.headers["Location"]
    parts = urllib.parse.urlsplit(loc)
    return parts, dict(urllib.parse.parse_qsl(parts.query)), dict(urllib.parse.parse_qsl(parts.fragment))
