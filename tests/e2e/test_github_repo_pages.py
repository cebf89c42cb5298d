"""The GitHub view lists repositories past the first 100: pages of 100 followed through
GitHub's Link header (rel="next"), each page revalidated with its own ETag."""

import uuid

import requests

import oauthflow as of
import sb


def test_repository_list_pages_past_100(api, new_user):
    u = new_user()
    login = of.new_login("pages")
    assert of.connect(api, u, "github", fake_user=login).status_code == 302
    ids = set()
    for i in range(130):
        r = requests.post(of.fake_url("github") + "/_fake/repos",
                          json={"owner": login, "name": f"r{i}-" + uuid.uuid4().hex[:4]}, timeout=sb.TIMEOUT)
        assert r.status_code == 201, r.text
        ids.add(r.json()["id"])
    get = lambda: sb.expect_ok(requests.get(f"{api}/users/me/integrations/github", headers=u.headers,
                                            timeout=sb.TIMEOUT))
    d = get()
    assert {r["id"] for r in d["repositories"]} == ids, len(d["repositories"])
    assert len(d["repositories"]) == 130
    assert of.counter("github", "repo_lists", login) == 2  # two pages, no third
    # Again: both pages answered 304 from the cache, the same 130.
    again = get()
    assert {r["id"] for r in again["repositories"]} == ids
    assert of.counter("github", "repo_lists", login) == 2
    assert of.counter("github", "repo_lists_304", login) == 2


def test_exactly_one_page_asks_no_second(api, new_user):
    u = new_user()
    login = of.new_login("page1")
    assert of.connect(api, u, "github", fake_user=login).status_code == 302
    for i in range(3):
        assert requests.post(of.fake_url("github") + "/_fake/repos", json={"owner": login, "name": f"p{i}"},
                             timeout=sb.TIMEOUT).status_code == 201
    d = sb.expect_ok(requests.get(f"{api}/users/me/integrations/github", headers=u.headers, timeout=sb.TIMEOUT))
    assert len(d["repositories"]) == 3
    assert of.counter("github", "repo_lists", login) == 1


def test_disabled_integration_lists_no_repositories_and_github_is_not_called(api, new_user):
    u = new_user()
    login = of.new_login("pagesoff")
    assert of.connect(api, u, "github", fake_user=login).status_code == 302
    assert requests.post(of.fake_url("github") + "/_fake/repos", json={"owner": login, "name": "r1"},
                         timeout=sb.TIMEOUT).status_code == 201
    off = sb.expect_ok(requests.patch(f"{api}/users/me/integrations/github", json={"enabled": False},
                                      headers=u.headers, timeout=sb.TIMEOUT))
    assert off["enabled"] is False, off
    lists = of.counter("github", "repo_lists", login), of.counter("github", "repo_lists_304", login)
    d = sb.expect_ok(requests.get(f"{api}/users/me/integrations/github", headers=u.headers, timeout=sb.TIMEOUT))
    assert d["enabled"] is False and d["repositories"] == [], d
    assert "disabled" in d["repositories_error"], d
    assert (of.counter("github", "repo_lists", login), of.counter("github", "repo_lists_304", login)) == lists
    sb.expect_ok(requests.patch(f"{api}/users/me/integrations/github", json={"enabled": True},
                                headers=u.headers, timeout=sb.TIMEOUT))
    d = sb.expect_ok(requests.get(f"{api}/users/me/integrations/github", headers=u.headers, timeout=sb.TIMEOUT))
    assert [r["name"] for r in d["repositories"]] == ["r1"], d
