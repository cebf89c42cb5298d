"""Directory sign-in under other operator settings than the suite's: not configured at
all (404), the minimal three variables without a group mapping, StartTLS and plain LDAP
on loopback, a service account, and settings that do not hold together. Each case
restarts the auth responder of this test stack with its own SB_LDAP_* environment (then
puts the suite's back), against the same real slapd."""

import os
import signal
import subprocess
import time

import pytest
import requests

import sb
from ldap_directory import ADMIN_DN, ADMIN_PASSWORD, USERS, Directory

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAIN_PORT = sb.free_port()


def restart_auth(env):
    """Stops the auth group's master and starts it again with env (scripts/stack waits
    until it answers /readyz)."""
    pidf = os.path.join(os.environ["SB_VAR"], "run", "auth.pid")
    with open(pidf) as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    subprocess.run([os.path.join(ROOT, "scripts", "stack"), "restart", "auth"], env=env, check=True,
                   capture_output=True, timeout=60)


def suite_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("SB_LDAP_") or k == "SB_LDAP_TEST_PORT"}


@pytest.fixture(scope="module")
def directory():
    d = Directory().start(plain_port=PLAIN_PORT)
    yield d
    d.stop()
    restart_auth(os.environ.copy())


@pytest.fixture
def configure(directory):
    def _configure(**settings):
        env = suite_env()
        env.update(settings)
        restart_auth(env)

    return _configure


def login(api, username, password):
    return requests.post(api + "/auth/ldap/login", json={"username": username, "password": password},
                         timeout=sb.TIMEOUT)


MINIMAL = {"SB_LDAP_BASE_DN": "dc=switchboard,dc=test"}


def test_not_configured_is_404(api, configure):
    configure()
    sb.expect_error(login(api, "ann", USERS["ann"][0]), 404, "ldap_not_configured")


def test_three_variables_and_no_group_mapping(api, configure, directory):
    configure(SB_LDAP_URL=f"ldaps://127.0.0.1:{directory.port}", SB_LDAP_CA_FILE=directory.ca_file, **MINIMAL)
    data = sb.expect_ok(login(api, "carl", USERS["carl"][0]))  # in no group: every scope without a mapping
    assert "scope" not in data
    sb.expect_error(login(api, "carl", "wrong"), 401, "invalid_credentials")


def test_starttls(api, configure, directory):
    configure(SB_LDAP_URL=f"ldap://127.0.0.1:{PLAIN_PORT}", SB_LDAP_STARTTLS="1", SB_LDAP_CA_FILE=directory.ca_file,
              **MINIMAL)
    sb.expect_ok(login(api, "ann", USERS["ann"][0]))
    directory.trust(directory.untrusted)
    try:
        sb.expect_error(login(api, "ann", USERS["ann"][0]), 502, "ldap_unavailable")
    finally:
        directory.trust(directory.stack_ca)


def test_plain_ldap_only_when_allowed_on_loopback(api, configure):
    configure(SB_LDAP_URL=f"ldap://127.0.0.1:{PLAIN_PORT}", **MINIMAL)
    sb.expect_error(login(api, "ann", USERS["ann"][0]), 502, "ldap_unavailable")  # refused: no TLS
    configure(SB_LDAP_URL=f"ldap://127.0.0.1:{PLAIN_PORT}", SB_LDAP_ALLOW_PLAIN="1", **MINIMAL)
    sb.expect_ok(login(api, "ann", USERS["ann"][0]))


def test_service_account(api, configure, directory, tmp_path):
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text(ADMIN_PASSWORD + "\n")
    bad.write_text("not-the-admin-password\n")
    os.chmod(tmp_path, 0o755)
    common = dict(SB_LDAP_URL=f"ldaps://127.0.0.1:{directory.port}", SB_LDAP_CA_FILE=directory.ca_file,
                  SB_LDAP_BIND_DN=ADMIN_DN, **MINIMAL)
    configure(SB_LDAP_BIND_PASSWORD_FILE=str(good), **common)
    sb.expect_ok(login(api, "ben", USERS["ben"][0]))
    sb.expect_error(login(api, "ben", "wrong"), 401, "invalid_credentials")
    configure(SB_LDAP_BIND_PASSWORD_FILE=str(bad), **common)
    resp = login(api, "ben", USERS["ben"][0])
    sb.expect_error(resp, 502, "ldap_unavailable")
    assert ADMIN_PASSWORD not in resp.text


def test_a_bad_group_mapping_is_an_error_not_a_sign_in(api, configure, directory):
    configure(SB_LDAP_URL=f"ldaps://127.0.0.1:{directory.port}", SB_LDAP_CA_FILE=directory.ca_file,
              SB_LDAP_GROUP_SCOPES='{"cn=sb-admins,ou=groups,dc=switchboard,dc=test": "root"}', **MINIMAL)
    sb.expect_error(login(api, "ann", USERS["ann"][0]), 502, "ldap_unavailable")
