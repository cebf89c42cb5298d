"""The docs page (issue 12, spec 002 "API Documentation"): code samples in curl,
JavaScript (fetch) and Python (requests) for every operation, generated from
docs/openapi.yaml into the served copy (scripts/openapi-samples) and shown by Swagger UI
at /api/docs/ (headless Chromium); the authentication guide and the rate-limit section
are pages of the served document. Same origin, no inline script."""

import re
import shutil

import pytest
import requests

import sb

LANGS = ["Shell", "JavaScript", "Python"]


@pytest.fixture(scope="module")
def served(base_url):
    resp = requests.get(base_url + "/api/docs/openapi.json", timeout=sb.TIMEOUT)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
    return resp.json()


def test_every_operation_has_the_three_samples(served):
    ops = [(p, m, op) for p, item in served["paths"].items() for m, op in item.items()
           if m in ("get", "put", "post", "patch", "delete")]
    assert len(ops) > 80
    for p, m, op in ops:
        samples = op.get("x-codeSamples")
        assert [s["lang"] for s in samples or []] == LANGS, (p, m)
        assert "**Code samples**" in op["description"] and "```python" in op["description"], (p, m)


def test_samples_of_a_route_follow_the_document(served):
    op = served["paths"]["/api-keys/{id}/logs"]["get"]
    curl, js, py = (s["source"] for s in op["x-codeSamples"])
    assert curl.startswith("curl -X GET '") and "/api/v1/api-keys/{id}/logs'" in curl
    assert 'Authorization: Bearer $TOKEN' in curl
    assert "await fetch(`" in js and 'method: "GET"' in js
    assert py.startswith("import requests") and "requests.get(" in py
    create = served["paths"]["/api-keys"]["post"]["x-codeSamples"]
    assert "-H 'Content-Type: application/json'" in create[0]["source"] and '"name"' in create[0]["source"]
    assert "JSON.stringify(" in create[1]["source"] and "json={" in create[2]["source"]
    token = served["paths"]["/oauth/token"]["post"]["x-codeSamples"]
    assert "--data-urlencode 'grant_type=" in token[0]["source"] and "Basic" in token[0]["source"]
    assert "new URLSearchParams(" in token[1]["source"] and "auth=(client_id, client_secret)" in token[2]["source"]


def test_guides_are_in_the_served_document(served):
    text = served["info"]["description"]
    for heading in ("## Authentication guide", "## Rate limits"):
        assert heading in text
    for words in ("client_credentials", "code_challenge_method=S256", "X-API-Key", "RateLimit-Policy",
                  "Retry-After", "429 rate_limited"):
        assert words in text, words


def test_docs_page_loads_same_origin_scripts_only(base_url):
    page = requests.get(base_url + "/api/docs/", timeout=sb.TIMEOUT)
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "script-src" not in csp or "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "default-src 'self'" in csp
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert scripts and all('src="/api/docs/' in s for s in scripts), scripts
    init = requests.get(base_url + "/api/docs/swagger-initializer.js", timeout=sb.TIMEOUT)
    assert init.status_code == 200 and '"/api/docs/openapi.json"' in init.text


def test_swagger_ui_shows_the_samples(base_url):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(options=opts, service=Service(executable_path=shutil.which("chromedriver")
                                                       or "/usr/bin/chromedriver"))
    try:
        d.get(base_url + "/api/docs/#/api-keys/listApiKeyLogs")
        wait = WebDriverWait(d, 30)
        wait.until(EC.presence_of_element_located((By.ID, "operations-api-keys-listApiKeyLogs")))
        block = d.find_element(By.ID, "operations-api-keys-listApiKeyLogs")
        if "is-open" not in block.get_attribute("class"):
            block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
        wait.until(lambda _: "Python (requests)" in block.text)
        text = block.text
        assert "Code samples" in text and "JavaScript (fetch)" in text and "curl -X GET" in text
        assert "requests.get(" in text and "await fetch(" in text
        errors = [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        d.quit()
