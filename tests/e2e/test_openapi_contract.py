"""The API contract (issue 12): docs/openapi.yaml is checked by a real validator
(npm @apidevtools/swagger-parser, scripts/check-openapi, part of make test) and lists
every route of the C route tables; /api-docs (spec 002's UI table) leads to the docs."""

import os
import subprocess

import requests

import sb

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOC = os.path.join(ROOT, "docs", "openapi.yaml")


def check(path):
    return subprocess.run([os.path.join(ROOT, "scripts", "check-openapi"), path], capture_output=True, text=True,
                          timeout=120)


def test_the_document_is_valid_and_complete():
    proc = check(DOC)
    assert proc.returncode == 0, proc.stderr
    assert "routes documented" in proc.stdout


def test_the_validator_refuses_a_broken_document(tmp_path):
    text = open(DOC, encoding="utf-8").read()
    broken = tmp_path / "broken.yaml"
    # A flow mapping with an unquoted comma: the mistake the validator found in this file.
    broken.write_text(text.replace("format: {type: string, enum: [csv, xlsx], default: csv}",
                                   "format: {type: string, description: csv, or xlsx}", 1), encoding="utf-8")
    proc = check(str(broken))
    assert proc.returncode == 1 and "not a valid OpenAPI document" in proc.stderr, proc.stderr


def test_the_route_check_names_an_undocumented_route(tmp_path):
    text = open(DOC, encoding="utf-8").read()
    assert "\n  /api-keys/{id}/usage:\n" in text
    missing = tmp_path / "missing.yaml"
    missing.write_text(text.replace("\n  /api-keys/{id}/usage:\n", "\n  /api-keys/{id}/usage-gone:\n", 1),
                       encoding="utf-8")
    proc = check(str(missing))
    assert proc.returncode == 1, proc.stdout
    assert "GET /api/v1/api-keys/{id}/usage (cgi-bin/apikeys) is not documented" in proc.stderr


def test_api_docs_redirects_to_the_docs(base_url):
    for p in ("/api-docs", "/api-docs/"):
        resp = requests.get(base_url + p, allow_redirects=False, timeout=sb.TIMEOUT)
        assert resp.status_code == 301, (p, resp.status_code)
        assert resp.headers["Location"].endswith("/api/docs/"), resp.headers
    page = requests.get(base_url + "/api-docs", timeout=sb.TIMEOUT)
    assert page.status_code == 200 and "swagger" in page.text.lower()
