"""Error codes (issue 12): every `error.code` the server can send is in the error table of
docs/openapi.yaml with its status, and every row of the table is sent somewhere. The
codes are read from the sources (the reply calls of cgi-bin/, lib/, worker/ and the
JSON error pages of nginx/), so a new code without a row, or a row nothing sends, fails
here. Also: nginx's own errors, even for a request line it cannot parse, are the JSON
envelope."""

import os
import re
import socket

import pytest
import yaml

import sb

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Function -> (index of the status argument, index of the code argument). A status that
# is an outcome kind (provider_fail) is mapped through cgi-bin/provider_reply.c.
CALLS = {
    "reply_error": (1, 2),
    "reply_error_fields": (1, 2),
    "fail": (1, 2),  # lib/http/dispatch.c's; other files' own fail() are in FILE_CALLS
    "finish_error": (4, 5),
    "fail_after_state": (2, 3),
    "provider_fail": (1, 2),
}
# Files whose fail() has another shape (None: not an error reply at all).
FILE_CALLS = {"cgi-bin/connect/generic.c": {"fail": (2, 3)}, "lib/http/dispatch.c": {}}
# The status of a code whose call passes the upstream's status through a variable: the
# outside service failed (502) or timed out (504).
PASSED_THROUGH = {"provider_unavailable": 502, "provider_timeout": 504}


def c_sources():
    for top in ("cgi-bin", "lib", "worker", "tools"):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith(".c"):
                    yield os.path.join(d, f)


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def call_args(text, start):
    """The top-level arguments of the call whose '(' is at start."""
    depth, args, cur, i, in_str = 0, [], [], start, False
    while i < len(text):
        ch = text[i]
        if in_str:
            cur.append(ch)
            if ch == "\\":
                cur.append(text[i + 1])
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
            cur.append(ch)
        elif ch == "(":
            depth += 1
            if depth > 1:
                cur.append(ch)
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args
            cur.append(ch)
        elif ch == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    return args


def outcome_statuses():
    text = open(os.path.join(ROOT, "cgi-bin/provider_reply.c"), encoding="utf-8").read()
    return {k: int(v) for k, v in re.findall(r"\[(PROVIDER_[A-Z_]+)\]\s*=\s*(\d{3})", text)}


def state_reasons():
    text = open(os.path.join(ROOT, "lib/oauth/oauth_state.c"), encoding="utf-8").read()
    body = re.search(r"oauth_state_reason\(.*?\{(.*?)\n\}", text, re.S).group(1)
    return [c for c in re.findall(r'"([a-z_]+)"', body) if c != "ok"]


def codes_of(arg):
    """The codes a code argument can be: a literal, a ternary of literals, the state table."""
    arg = arg.strip()
    if re.fullmatch(r'"[a-z_]+"', arg):
        return [arg.strip('"')]
    m = re.fullmatch(r'.+\?\s*"([a-z_]+)"\s*:\s*"([a-z_]+)"', arg, re.S)
    if m:
        return [m.group(1), m.group(2)]
    if arg.startswith("oauth_state_reason("):
        return state_reasons()
    return []  # a variable: the wrapper itself, or a provider's own error passed on


def statuses_of(arg, kinds):
    arg = arg.strip()
    if re.fullmatch(r"\d{3}", arg):
        return [int(arg)]
    if arg in kinds:
        return [kinds[arg]]
    m = re.fullmatch(r".+\?\s*(\d{3})\s*:\s*(\d{3})", arg, re.S)
    if m:
        return [int(m.group(1)), int(m.group(2))]
    return []


def sent_codes():
    """{(status, code)} of every envelope error the sources can send."""
    kinds = outcome_statuses()
    sent = set()
    pattern = re.compile(r"\b(" + "|".join(CALLS) + r")\s*\(")
    for path in c_sources():
        text = strip_comments(open(path, encoding="utf-8").read())
        for m in pattern.finditer(text):
            name = m.group(1)
            rel = os.path.relpath(path, ROOT)
            if name == "fail" and rel not in FILE_CALLS:
                continue
            # Skip the definitions themselves ("int reply_error(struct request *rq, ...").
            if re.search(r"(int|void|static)\s*\*?\s*$", text[max(0, m.start() - 20):m.start()]):
                continue
            si, ci = FILE_CALLS.get(rel, {}).get(name, CALLS[name])
            args = call_args(text, m.end() - 1)
            if len(args) <= ci:
                continue
            codes = codes_of(args[ci])
            statuses = statuses_of(args[si], kinds)
            if not codes:
                continue
            if len(statuses) == 2 and len(codes) == 2:
                sent.update(zip(statuses, codes))
                continue
            for code in codes:
                for st in statuses or [PASSED_THROUGH.get(code)]:
                    assert st, f"{path}: cannot tell the status of {code!r} in {name}({', '.join(args)})"
                    sent.add((st, code))
    ngx = os.path.join(ROOT, "nginx")
    for f in os.listdir(ngx):
        text = open(os.path.join(ngx, f), encoding="utf-8").read()
        for st, code in re.findall(r"return (\d{3}) '\{\"success\":false,\"error\":\{\"code\":\"([a-z_]+)\"", text):
            sent.add((int(st), code))
    return sent


def table_codes():
    doc = yaml.safe_load(open(os.path.join(ROOT, "docs/openapi.yaml"), encoding="utf-8"))
    rows = re.findall(r"^\| (\d{3}) \| (.+) \|$", doc["info"]["description"], re.M)
    assert rows, "no error table in info.description"
    table = set()
    for st, cell in rows:
        # Codes are the back-quoted words outside parentheses (those are explanations).
        depth, outside = 0, []
        for ch in cell:
            depth += ch == "("
            if depth == 0:
                outside.append(ch)
            depth -= ch == ")" and depth > 0
        for code in re.findall(r"`([a-z_]+)`", "".join(outside)):
            table.add((int(st), code))
    return table


def test_every_code_sent_is_documented_with_its_status():
    missing = sorted(sent_codes() - table_codes())
    assert not missing, f"sent but not in docs/openapi.yaml's error table: {missing}"


def test_every_documented_code_is_sent():
    unsent = sorted(table_codes() - sent_codes())
    assert not unsent, f"in docs/openapi.yaml's error table but sent nowhere: {unsent}"


def test_the_scan_sees_known_codes():
    # The scanner itself must find codes of each kind of call, or the two tests above
    # would pass on an empty set.
    sent = sent_codes()
    for pair in [(422, "validation_failed"), (400, "incomplete_body"), (409, "webhook_disabled"),
                 (502, "provider_unavailable"), (504, "provider_timeout"), (400, "state_expired"),
                 (502, "bad_gateway"), (400, "bad_request"), (429, "rate_limited")]:
        assert pair in sent, pair


# --- nginx's own errors ---------------------------------------------------------------------


def raw_request(base_url, request_line):
    host, port = base_url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=sb.TIMEOUT) as s:
        s.sendall(request_line + b"\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
    return status, headers, body


@pytest.mark.parametrize("target", [b"/api/v1/webhooks/%00", b"/api/v1/users/me/%00x", b"/%00"])
def test_unparsable_request_line_is_the_json_400(base_url, target):
    status, headers, body = raw_request(base_url, b"GET " + target + b" HTTP/1.1")
    assert status == 400, (status, body[:200])
    assert headers["content-type"].startswith("application/json"), headers
    assert headers.get("x-request-id")
    import json

    err = json.loads(body)
    assert err["success"] is False and err["error"]["code"] == "bad_request", err


def test_too_long_request_line_is_the_json_414(base_url):
    status, headers, body = raw_request(base_url, b"GET /api/v1/" + b"a" * 20000 + b" HTTP/1.1")
    assert status == 414, (status, body[:200])
    assert headers["content-type"].startswith("application/json"), headers
    assert b'"code":"uri_too_long"' in body


def test_error_pages_are_not_reachable_directly(base_url):
    import requests

    for code in ("400", "414"):
        resp = requests.get(f"{base_url}/_sb/errors/{code}", timeout=sb.TIMEOUT)
        sb.expect_error(resp, 404, "not_found")
