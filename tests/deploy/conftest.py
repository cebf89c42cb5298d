"""Fixtures of the deployment smoke suite. scripts/test-deploy installs the package into
a throwaway root, starts its units and an nginx with the stock Debian nginx.conf and the
two include lines, then runs this suite through that nginx: SB_DEPLOY_URL (nginx),
SB_DEPLOY_HOST (the operator's server_name), SB_DEPLOY_CTL (the installed
switchboard-ctl), SB_MQTT_PORT/USER/PASSWORD (a mosquitto of the test)."""

import json
import os
import subprocess
import sys
import threading
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
import sb  # noqa: E402  (the end-to-end suite's helpers)


def pytest_configure(config):
    missing = [v for v in ("SB_DEPLOY_URL", "SB_DEPLOY_HOST", "SB_DEPLOY_CTL") if not os.environ.get(v)]
    if missing:
        raise pytest.UsageError(f"{', '.join(missing)} not set: run the deployment tests with scripts/test-deploy")


@pytest.fixture(scope="session")
def site():
    """The operator's server: base URL and the Host header naming it."""
    return types.SimpleNamespace(url=os.environ["SB_DEPLOY_URL"], host=os.environ["SB_DEPLOY_HOST"])


@pytest.fixture(scope="session")
def api(site):
    return site.url + "/api/v1"


@pytest.fixture
def http(site):
    s = requests.Session()
    s.headers.update({"User-Agent": sb.USER_AGENT, "Host": site.host})
    yield s
    s.close()


@pytest.fixture
def user(api, http):
    """A registered, logged-in user: namespace(email, password, token, headers)."""
    email, password = sb.unique_email("deploy"), "correct horse battery"
    sb.expect_ok(http.post(api + "/auth/register", json={"email": email, "password": password, "name": "Deploy"},
                           timeout=sb.TIMEOUT), 201)
    data = sb.expect_ok(http.post(api + "/auth/login", json={"email": email, "password": password},
                                  timeout=sb.TIMEOUT))
    return types.SimpleNamespace(email=email, password=password, token=data["access_token"],
                                 headers=sb.bearer(data["access_token"]))


@pytest.fixture(scope="session")
def ctl():
    """ctl(*args) -> CompletedProcess of the installed switchboard-ctl (checked)."""

    def _ctl(*args, check=True):
        proc = subprocess.run([os.environ["SB_DEPLOY_CTL"], *args], capture_output=True, text=True, timeout=120)
        if check:
            assert proc.returncode == 0, f"switchboard-ctl {' '.join(args)}: {proc.returncode}\n{proc.stdout}{proc.stderr}"
        return proc

    return _ctl


@pytest.fixture(scope="session")
def broker():
    return types.SimpleNamespace(port=int(os.environ["SB_MQTT_PORT"]), user=os.environ["SB_MQTT_USER"],
                                 password=os.environ["SB_MQTT_PASSWORD"])


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.got.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "raw": body, "body": json.loads(body or b"null")})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def receiver():
    """A webhook receiver on loopback that records what it is sent and answers 204:
    namespace(url, got (list of {path, headers, raw, body})."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    srv.got, srv.lock = [], threading.Lock()
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield types.SimpleNamespace(url=f"http://127.0.0.1:{srv.server_address[1]}", got=srv.got)
    srv.shutdown()
