"""The console's Remote Lab page (www/console/js/pages/remote_lab.js, issue 18's "Done means")
in headless Chromium through nginx and the relay to the stack's mosquitto password listener:
the page takes a ticket, speaks MQTT 3.1.1 with the console's own client (js/mqtt.js),
subscribes and publishes under the prefix, sees a message another client published directly
on the broker, shows a refused topic, reconnects by itself when the relay restarts, and shows
why the server ended a session (integration disabled, broker down). Nothing the page received
(HTTP bodies, WebSocket frames) and no DOM text holds the broker password. axe-clean,
screenshots remote-lab-1280/-375 under build/screenshots/. The client module's own tests
(tests/e2e/mqtt_client_test.mjs) run here too, the last one through the real relay."""

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

import sb

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service as ChromeService  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402
from test_console import AXE, Console, api_login, register_in_browser  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
MQTT_URL = "/users/me/integrations/mqtt"


class LabConsole(Console):
    """The console harness of test_console.py with Chromium's performance log on: every
    network event, so the test can read each response body and WebSocket frame the page got."""

    def __init__(self, base_url, downloads):  # noqa: super().__init__ would start a browser without the log
        opts = webdriver.ChromeOptions()
        opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--window-size=1280,900", "--no-first-run", "--disable-extensions", "--lang=en-US"):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        service = ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
        self.d = webdriver.Chrome(options=opts, service=service)
        self.base = base_url
        self.downloads = downloads
        self.wait_s = 20
        with open(AXE, encoding="utf-8") as f:
            self.axe_source = f.read()
        self.network = []

    def drain_network(self):
        """Reads the performance log so far: response bodies fetched while still held."""
        for e in self.d.get_log("performance"):
            msg = json.loads(e["message"])["message"]
            m, p = msg["method"], msg.get("params", {})
            if m == "Network.loadingFinished":
                try:
                    body = self.d.execute_cdp_cmd("Network.getResponseBody", {"requestId": p["requestId"]})
                except Exception:  # noqa: BLE001 a preflight, a redirect: no body kept
                    continue
                text = base64.b64decode(body["body"]).decode("latin-1") if body["base64Encoded"] else body["body"]
                self.network.append(("body", p["requestId"], text))
            elif m == "Network.responseReceived":
                self.network.append(("response", p["response"]["url"], json.dumps(p["response"].get("headers", {}))))
            elif m == "Network.webSocketFrameReceived":
                r = p["response"]
                data = base64.b64decode(r["payloadData"]) if r["opcode"] == 2 else r["payloadData"].encode()
                self.network.append(("frame", p["requestId"], data.decode("latin-1")))
            elif m == "Network.webSocketHandshakeResponseReceived":
                self.network.append(("handshake", p["requestId"], json.dumps(p["response"])))
            elif m == "Network.webSocketClosed":
                self.network.append(("ws-closed", p["requestId"], ""))

    def check_log(self, allow=(), expected=()):
        """Console.check_log's rule, and `expected`: messages of any source (regular
        expressions) a step causes on purpose, such as a reconnect that meets nginx's 502
        while the relay is between two processes."""
        bad = []
        for e in self.d.get_log("browser"):
            msg = e["message"]
            if e["level"] not in ("SEVERE", "ERROR") or any(re.search(x, msg) for x in expected):
                continue
            if e.get("source") == "network" and any(re.search(a, msg) for a in allow):
                continue
            bad.append(msg)
        assert not bad, "browser log errors:\n" + "\n".join(bad)

    def state(self):
        return self.d.find_element(By.TAG_NAME, "main").get_attribute("data-lab-state")

    def wait_state(self, want, timeout=30):
        try:
            WebDriverWait(self.d, timeout).until(lambda d: self.state() == want)
        except Exception:  # noqa: BLE001
            raise AssertionError(f"state {self.state()!r}, not {want!r}; page: "
                                 f"{self.d.find_element(By.TAG_NAME, 'main').text[:1500]!r}") from None

    def log_entries(self):
        return self.d.execute_script(
            "return [...document.querySelectorAll('.lab-log li')].map(li => ({kind: li.dataset.kind, "
            "topic: (li.querySelector('.lab-topic') || {}).textContent || null, "
            "payload: (li.querySelector('.lab-payload, .lab-note') || {}).textContent || null, text: li.textContent}))")

    def wait_entry(self, kind, topic=None, payload=None, contains=None, timeout=15):
        def found(_):
            for e in self.log_entries():
                if e["kind"] == kind and (topic is None or e["topic"] == topic) and \
                        (payload is None or e["payload"] == payload) and (contains is None or contains in e["text"]):
                    return e
            return None
        try:
            return WebDriverWait(self.d, timeout).until(found)
        except Exception:  # noqa: BLE001
            raise AssertionError(f"no {kind} entry {topic} {payload} {contains} in {self.log_entries()}") from None


@pytest.fixture
def lab_browser(base_url):
    downloads = tempfile.mkdtemp(prefix="sb-lab-dl-")
    c = LabConsole(base_url, downloads)
    try:
        yield c
    finally:
        c.close()
        shutil.rmtree(downloads, ignore_errors=True)


def broker_config(broker, prefix, **overrides):
    body = {"enabled": True, "broker_url": f"mqtt://127.0.0.1:{broker.auth_port}", "use_authentication": True,
            "username": broker.user, "password": broker.password, "device_id": "lab-console-1", "topic_prefix": prefix}
    body.update(overrides)
    return body


def put_config(api, headers, body):
    return sb.expect_ok(requests.put(api + MQTT_URL, json=body, headers=headers, timeout=sb.TIMEOUT))


def publish_direct(broker, topic, payload):
    """A client of its own straight on mosquitto's password listener (npm mqtt in node)."""
    script = ("const mqtt = require(process.env.MQTT_MODULE);"
              "const c = mqtt.connect(process.env.URL, {username: process.env.U, password: process.env.P,"
              " reconnectPeriod: 0, connectTimeout: 5000});"
              "c.on('connect', () => c.publish(process.env.T, process.env.M, {qos: 1}, (e) => {"
              " if (e) { console.error(e.message); process.exit(1); } c.end(false, () => process.exit(0)); }));"
              "c.on('error', (e) => { console.error(e.message); process.exit(1); });")
    env = {**os.environ, "MQTT_MODULE": os.path.join(ROOT, "node_modules", "mqtt"),
           "URL": f"mqtt://127.0.0.1:{broker.auth_port}", "U": broker.user, "P": broker.password,
           "T": topic, "M": payload}
    proc = subprocess.run(["node", "-e", script], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


def test_the_client_module(api, base_url, new_user, broker):
    """node --test of js/mqtt.js: the codec and a scripted socket, then a session through
    nginx and the relay to the password listener (20 kB payload, keep-alive, SUBACK 0x80)."""
    user = new_user()
    prefix = "lab/mod-" + uuid.uuid4().hex[:8]
    put_config(api, user.headers, broker_config(broker, prefix))
    ticket = sb.expect_ok(requests.post(api + MQTT_URL + "/ws-ticket", headers=user.headers, timeout=sb.TIMEOUT))
    env = {**os.environ, "RELAY_URL": "ws://" + base_url.split("://", 1)[1] + ticket["url"], "RELAY_PREFIX": prefix}
    proc = subprocess.run(["node", "--no-warnings", "--test", os.path.join(HERE, "mqtt_client_test.mjs")],
                          env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout and "# skipped 0" in proc.stdout, proc.stdout[-2000:]
    assert "ok 13 - through the real relay to mosquitto" in proc.stdout, proc.stdout[-2000:]


def subscribe(c, topic_filter, qos="0"):
    form = "main form[aria-labelledby=lab-sub-h]"
    c.fill("Topic filter", topic_filter, form)
    Select(c.field("QoS", form)).select_by_value(qos)
    c.click("Subscribe", form)


def publish(c, topic, payload, qos="0", retain=False):
    form = "main form[aria-labelledby=lab-pub-h]"
    c.fill("Topic", topic, form)
    c.fill("Payload", payload, form)
    Select(c.field("QoS", form)).select_by_value(qos)
    box = c.field("Retain", form)
    if box.is_selected() != retain:
        box.click()
    c.click("Publish", form)


def test_remote_lab_journey(lab_browser, api, broker, stack):
    c = lab_browser
    # The console's CSP lets the page reach its own origin's WebSocket and nothing else
    # (a violation would be an error in the browser log, which every step checks).
    csp = requests.get(c.base + "/console/", timeout=sb.TIMEOUT).headers["Content-Security-Policy"]
    assert "connect-src 'self';" in csp and "ws:" not in csp, csp
    email = sb.unique_email("lab")
    password = "pw-" + uuid.uuid4().hex[:16]
    register_in_browser(c, email, password)
    headers = sb.bearer(api_login(api, email, password)["access_token"])

    # Without a broker the page sends the person to the MQTT settings.
    c.go("#/remote-lab")
    c.heading("Remote Lab")
    c.wait_text("main", "Set up the broker first")
    c.check_log(allow=[r"/api/v1/users/me/integrations/mqtt .*404"])

    prefix = "lab/console-" + uuid.uuid4().hex[:8]
    put_config(api, headers, broker_config(broker, prefix))
    c.go("#/integrations/mqtt")
    c.heading("MQTT Broker")
    c.click("Open the Remote Lab")
    c.heading("Remote Lab")
    c.wait_state("connected")
    assert c.d.find_element(By.CSS_SELECTOR, "#nav a[data-route=remote-lab]").get_attribute("aria-current") == "page"
    assert c.d.find_element(By.CSS_SELECTOR, ".lab-prefix").text == prefix
    assert "Connected" in c.d.find_element(By.CSS_SELECTOR, "main .lab-status").text

    # Subscribe under the prefix, publish QoS 1 and receive it back.
    subscribe(c, prefix + "/#", "1")
    c.wait_text(".lab-subs", prefix + "/#")
    c.wait_entry("info", topic=prefix + "/#", contains="QoS 1 granted")
    publish(c, prefix + "/lamp/set", "on", qos="1")
    c.wait_entry("out", topic=prefix + "/lamp/set", payload="on", contains="PUBACK")
    got = c.wait_entry("in", topic=prefix + "/lamp/set", payload="on")
    assert "QoS 1" in got["text"], got
    c.wait_text(".pub-result", "acknowledged")

    # A message another client put on the broker directly, under the prefix.
    publish_direct(broker, prefix + "/sensor/temp", "21.5 °C")
    c.wait_entry("in", topic=prefix + "/sensor/temp", payload="21.5 °C")

    # Outside the prefix: the relay refuses the SUBSCRIBE (SUBACK 0x80); the page does not
    # send a PUBLISH there (3.1.1 would end the session). The session stays up.
    subscribe(c, "#")
    WebDriverWait(c.d, 10).until(lambda d: "SUBACK 0x80" in c.error_for("filter"))
    assert "outside your topic prefix " + prefix in c.error_for("filter")
    c.wait_entry("error", topic="#", contains="refused")
    subscribe(c, "$SYS/#")
    WebDriverWait(c.d, 10).until(lambda d: "$SYS/#" in c.error_for("filter"))
    publish(c, "elsewhere/x", "no")
    WebDriverWait(c.d, 10).until(lambda d: "Outside your topic prefix" in c.error_for("topic"))
    assert c.state() == "connected"
    publish(c, prefix + "/lamp/set", "off")
    c.wait_entry("in", topic=prefix + "/lamp/set", payload="off")
    c.check_log()
    c.shot("remote-lab")

    # The relay restarts: close 1012, a new ticket, the subscriptions again, by itself.
    stack("restart", "relay")
    c.wait_entry("error", contains="The relay restarted")
    c.wait_state("connected", timeout=40)
    publish_direct(broker, prefix + "/sensor/temp", "after restart")
    c.wait_entry("in", topic=prefix + "/sensor/temp", payload="after restart")
    c.check_log(expected=[r"/mqtt/ws\?ticket=\S+' failed: Error during WebSocket handshake: Unexpected response code: 502"])

    # The integration disabled: the server ends the session with its reason, no reconnect.
    put_config(api, headers, broker_config(broker, prefix, enabled=False))
    c.wait_state("error", timeout=15)
    assert "deleted or disabled" in c.d.find_element(By.CSS_SELECTOR, ".lab-error").text
    time.sleep(1.5)
    assert c.state() == "error", "no reconnect after a close the server meant"

    # The broker down: the relay says so, and the page shows it.
    down_url = f"mqtt://127.0.0.1:{sb.free_port()}"
    put_config(api, headers, broker_config(broker, prefix, broker_url=down_url))
    c.click("Connect")
    c.wait_state("error", timeout=30)
    err = c.d.find_element(By.CSS_SELECTOR, ".lab-error").text
    assert "cannot be reached" in err and "broker_unavailable" in err, err
    assert c.d.find_element(By.CSS_SELECTOR, ".lab-broker").text == down_url, "the page shows the broker it tried"
    c.check_log()
    c.shot("remote-lab-broker-down")

    # Back to the working broker: Connect, and Disconnect ends it cleanly.
    put_config(api, headers, broker_config(broker, prefix))
    c.click("Connect")
    c.wait_state("connected")
    c.click("Disconnect")
    c.wait_state("disconnected")
    c.check_log()

    # Leaving the page ends its session (the relay counts the user's live sessions).
    def sessions():
        return sb.expect_ok(requests.get(api + MQTT_URL, headers=headers, timeout=sb.TIMEOUT))["relay"]["sessions"]

    c.click("Connect")
    c.wait_state("connected")
    assert sb.retry_until(lambda: sessions() == 1, timeout=10), sessions()
    c.go("#/api-keys")
    c.heading("API keys")
    assert sb.retry_until(lambda: sessions() == 0, timeout=10), "the session outlived the page"
    assert c.state() is None, "the Remote Lab's state left on another page"

    # Never the broker password: not in any body, header or frame the page received, not in the DOM.
    c.drain_network()
    kinds = {k for k, _, _ in c.network}
    assert {"body", "frame", "handshake"} <= kinds, kinds
    assert any('"topic_prefix"' in t for k, _, t in c.network if k == "body"), "the config's body was not read"
    frames = [t for k, _, t in c.network if k == "frame"]
    assert any("21.5" in f for f in frames), "the frames were not read"
    leaks = [(k, ref) for k, ref, t in c.network if broker.password in t]
    assert not leaks, f"the broker password reached the page: {leaks}"
    page = c.d.execute_script(
        "return document.documentElement.outerHTML + [...document.querySelectorAll('input, textarea')]"
        ".map(e => e.value).join(' ') + JSON.stringify(Object.assign({}, localStorage, sessionStorage))")
    assert broker.password not in page
