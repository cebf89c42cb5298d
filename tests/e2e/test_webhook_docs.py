"""The receiver verification samples of docs/webhook-verification.md (issue 12) run against
real deliveries: the Node sample through the npm standardwebhooks package, the Python one
as written; both accept a genuine delivery, refuse a changed body, and hold the documented
5-minute timestamp tolerance."""

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOC = os.path.join(ROOT, "docs", "webhook-verification.md")

pytestmark = pytest.mark.usefixtures("fresh_worker")


def block(lang):
    text = open(DOC, encoding="utf-8").read()
    found = re.findall(rf"```{lang}\n(.*?)```", text, re.S)
    assert len(found) == 1, f"expected one {lang} block in {DOC}"
    return found[0]


def sign(secret, msg_id, ts, body):
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body.encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


@pytest.fixture(scope="module")
def delivery(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok", payload_format="envelope")
    wh.publish(u, "order.placed", {"order": {"id": 1, "note": "ünïcode / slash"}})
    e = receiver.wait_count(w.bucket, 1)[0]
    assert e["verified"] is True, e
    return w.secret, e["raw"], e["headers"]


def cases(secret, raw, headers):
    """(name, body, headers, expected) tuples: genuine, tampered, and re-signed at
    timestamps inside and outside the 5-minute tolerance."""
    now = int(time.time())
    out = [("genuine", raw, headers, True),
           ("tampered", raw.replace("order", "0rder", 1), headers, False),
           ("wrong secret", raw, {**headers, "webhook-signature": sign("whsec_" + base64.b64encode(b"x" * 32).decode(),
                                                                          headers["webhook-id"],
                                                                          headers["webhook-timestamp"], raw)}, False)]
    for age, ok in ((240, True), (-240, True), (360, False), (-360, False)):
        ts = str(now - age)
        out.append((f"age {age}s", raw, {**headers, "webhook-timestamp": ts,
                                         "webhook-signature": sign(secret, headers["webhook-id"], ts, raw)}, ok))
    return out


def test_node_sample_with_standardwebhooks(delivery):
    secret, raw, headers = delivery
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "verify.js"), "w", encoding="utf-8") as f:
            f.write(block("js"))
        runner = os.path.join(d, "run.js")
        with open(runner, "w", encoding="utf-8") as f:
            f.write("const { verifySwitchboard } = require('./verify.js');\n"
                    "const c = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
                    "const out = c.cases.map(([name, body, h]) => {\n"
                    "  try { verifySwitchboard(c.secret, body, h); return true; } catch (e) { return false; }\n"
                    "});\n"
                    "process.stdout.write(JSON.stringify(out));\n")
        cs = cases(secret, raw, headers)
        proc = subprocess.run(["node", runner], input=json.dumps({"secret": secret, "cases": cs}), text=True,
                              capture_output=True, timeout=30,
                              env=dict(os.environ, NODE_PATH=os.path.join(ROOT, "node_modules")))
        assert proc.returncode == 0, proc.stderr
        got = json.loads(proc.stdout)
        assert [(c[0], g) for c, g in zip(cs, got)] == [(c[0], c[3]) for c in cs]


def test_python_sample(delivery):
    secret, raw, headers = delivery
    scope = {}
    exec(compile(block("python"), DOC, "exec"), scope)
    verify = scope["verify_switchboard"]
    cs = cases(secret, raw, headers)
    got = [(name, verify(secret, body.encode(), h)) for name, body, h, _ in cs]
    assert got == [(c[0], c[3]) for c in cs]
