"""Accounting providers declared only as data in config/providers.json: QuickBooks Online
(Intuit) and Xero. The catalog lists them, and the connect flow sends the browser to each
one's real authorization endpoint with the entry's client id, scopes and callback (the
client ids are test values set by scripts/test-e2e; nothing reaches Intuit or Xero)."""

import urllib.parse

import pytest
import requests

import oauthflow as of
import sb

EXPECTED = {
    "quickbooks": ("QuickBooks Online", "appcenter.intuit.com", "/connect/oauth2", "qb-test-client",
                   {"com.intuit.quickbooks.accounting", "openid", "profile", "email"}),
    "xero": ("Xero", "login.xero.com", "/identity/connect/authorize", "xero-test-client",
             {"openid", "profile", "email", "offline_access", "accounting.transactions", "accounting.contacts",
              "accounting.settings.read"}),
}


def test_catalog_lists_quickbooks_and_xero(api, http):
    items = sb.expect_ok(http.get(f"{api}/integrations", timeout=sb.TIMEOUT))
    by = {i["provider"]: i for i in items}
    for name, (display, *_rest) in EXPECTED.items():
        assert name in by, name
        assert by[name]["auth_type"] == "oauth2"
        assert by[name]["available"] is True
        assert by[name]["connect_url"] == f"/api/v1/auth/{name}/connect"
        assert by[name]["sign_in"] is False
        assert display in str(by[name]), by[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_connect_builds_the_real_authorization_url(api, new_user, name):
    _, host, path, client_id, scopes = EXPECTED[name]
    u = new_user()
    d = sb.expect_ok(of.start(api, name, u.headers))
    url = urllib.parse.urlsplit(d["authorization_url"])
    q = dict(urllib.parse.parse_qsl(url.query))
    assert (url.scheme, url.netloc, url.path) == ("https", host, path)
    assert q["client_id"] == client_id
    assert q["response_type"] == "code"
    assert q["redirect_uri"].endswith(f"/api/v1/auth/{name}/callback")
    assert q["state"] == d["state"]
    assert set(q["scope"].split(" ")) == scopes
    assert "code_challenge" not in q  # neither documents PKCE for confidential web apps
    r = requests.get(f"{api}/auth/{name}/connect", headers=u.headers, allow_redirects=False, timeout=sb.TIMEOUT)
    assert r.status_code == 302 and r.headers["Location"].startswith(f"https://{host}{path}?"), r.text


def test_sign_in_with_an_accounting_provider_is_not_offered(api):
    sb.expect_error(of.start(api, "xero", kind="login"), 404, "sign_in_unsupported")
