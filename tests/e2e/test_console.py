"""The console (www/console) in headless Chromium, driven by Selenium through nginx: a
new user registers, signs in and out, saves and tests an MQTT configuration against the
stack's mosquitto, creates an API key (shown once), creates a webhook, sends a test and
finds it in the delivery history, exports and downloads a file, registers an OAuth
client and reads the audit log. Every page is scanned with axe-core (no serious or
critical violation), photographed at 1280 and 375 px under build/screenshots/, and every
step fails on a JavaScript error or an unexpected failed request in the browser log."""

import csv
import io
import os
import re
import shutil
import tempfile
import time
import uuid

import pytest
import requests

import sb

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service as ChromeService  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHOTS = os.path.join(ROOT, "build", "screenshots")
AXE = os.path.join(ROOT, "node_modules", "axe-core", "axe.min.js")
WIDTHS = (1280, 375)


class Console:
    """One headless Chromium on the console, with the checks every step makes."""

    def __init__(self, base_url, downloads):
        opts = webdriver.ChromeOptions()
        opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--window-size=1280,900", "--no-first-run", "--disable-extensions", "--lang=en-US"):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        opts.add_experimental_option("prefs", {"download.default_directory": downloads,
                                               "download.prompt_for_download": False})
        service = ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
        self.d = webdriver.Chrome(options=opts, service=service)
        self.d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
        self.base = base_url
        self.downloads = downloads
        self.wait_s = 20
        with open(AXE, encoding="utf-8") as f:
            self.axe_source = f.read()

    def close(self):
        self.d.quit()

    # --- navigation and finding ---------------------------------------------------------
    def open(self, hash_=""):
        self.d.get(f"{self.base}/console/{hash_}")

    def go(self, hash_):
        self.d.execute_script("location.hash = arguments[0]", hash_)

    def wait(self, css, timeout=None, visible=True):
        cond = EC.visibility_of_element_located if visible else EC.presence_of_element_located
        try:
            return WebDriverWait(self.d, timeout or self.wait_s).until(cond((By.CSS_SELECTOR, css)))
        except TimeoutException:
            raise AssertionError(f"no {css!r} on {self.d.current_url} after {timeout or self.wait_s}s; "
                                 f"page text: {self.d.find_element(By.TAG_NAME, 'main').text[:800]!r}; "
                                 f"log: {self.d.get_log('browser')}") from None

    def wait_text(self, css, text, timeout=None):
        try:
            WebDriverWait(self.d, timeout or self.wait_s).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
        except TimeoutException:
            raise AssertionError(f"{text!r} never appeared in {css!r}; page text: "
                                 f"{self.d.find_element(By.TAG_NAME, 'body').text[:1500]!r}") from None
        return self.d.find_element(By.CSS_SELECTOR, css)

    def heading(self, text):
        return self.wait_text("main h1", text)

    def field(self, label, form="main"):
        """The control labelled `label` (exact label text) inside `form`."""
        for lab in self.d.find_elements(By.CSS_SELECTOR, f"{form} label"):
            if lab.text.strip() == label:
                return self.d.find_element(By.ID, lab.get_attribute("for"))
        raise AssertionError(f"no control labelled {label!r} in {form}; page text: "
                             f"{self.d.find_element(By.TAG_NAME, 'main').text[:800]!r}")

    def fill(self, label, value, form="main"):
        el = self.field(label, form)
        el.clear()
        el.send_keys(value)
        return el

    def button(self, text, scope="main"):
        for b in self.d.find_elements(By.CSS_SELECTOR, f"{scope} button, {scope} a"):
            if b.text.strip() == text and b.is_displayed():
                return b
        raise AssertionError(f"no button {text!r} in {scope}; buttons: "
                             f"{[b.text for b in self.d.find_elements(By.CSS_SELECTOR, scope + ' button')]}")

    def click(self, text, scope="main"):
        b = self.button(text, scope)
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", b)
        b.click()
        return b

    def error_for(self, name):
        return self.d.find_element(By.CSS_SELECTOR, f'[data-error-for="{name}"]').text

    def accept_confirm(self):
        WebDriverWait(self.d, 5).until(EC.alert_is_present())
        self.d.switch_to.alert.accept()

    # --- the checks of every step ---------------------------------------------------------
    def check_log(self, allow=()):
        """Fails on any JavaScript error or failed request in the browser log, except
        failed requests matching one of `allow` (regular expressions) that a step causes
        on purpose (a 422 answer whose field messages the page then shows)."""
        bad = []
        for e in self.d.get_log("browser"):
            if e["level"] not in ("SEVERE", "ERROR"):
                continue
            msg = e["message"]
            if re.match(r"https?://", msg) and not msg.startswith(self.base + "/"):
                continue  # another site's page (an OAuth redirect URI), not the console
            if e.get("source") == "network" and any(re.search(a, msg) for a in allow):
                continue
            bad.append(msg)
        assert not bad, "browser log errors:\n" + "\n".join(bad)

    def axe(self, page):
        self.d.execute_script(self.axe_source)
        res = self.d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => "
            "({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))"
            ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));")
        serious = [v for v in res if v["impact"] in ("serious", "critical")]
        assert not serious, f"axe on {page}: {serious}"

    def shot(self, name):
        """Screenshots of the whole page at each width under build/screenshots/, each
        width also scanned by axe (the narrow layout is a layout of its own)."""
        os.makedirs(SHOTS, exist_ok=True)
        for w in WIDTHS:
            self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": w, "height": 900, "deviceScaleFactor": 1, "mobile": w < 700})
            time.sleep(0.25)
            self.axe(f"{name} at {w} px")
            over = self.d.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            assert over <= 0, f"{name}: the page is {over}px wider than a {w} px window"
            h = self.d.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
            self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": w, "height": min(int(h), 6000), "deviceScaleFactor": 1, "mobile": w < 700})
            time.sleep(0.15)
            self.d.save_screenshot(os.path.join(SHOTS, f"{name}-{w}.png"))
            self.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        self.check_log()

    def wait_download(self, suffix, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [f for f in os.listdir(self.downloads) if f.endswith(suffix)]
            if done:
                return os.path.join(self.downloads, done[0])
            time.sleep(0.2)
        raise AssertionError(f"no *{suffix} downloaded into {self.downloads}: {os.listdir(self.downloads)}")


@pytest.fixture
def browser(base_url):
    downloads = tempfile.mkdtemp(prefix="sb-console-dl-")
    os.chmod(downloads, 0o755)
    c = Console(base_url, downloads)
    try:
        yield c
    finally:
        c.close()
        shutil.rmtree(downloads, ignore_errors=True)


def api_login(api, email, password):
    return sb.expect_ok(requests.post(api + "/auth/login", json={"email": email, "password": password},
                                      headers={"User-Agent": sb.USER_AGENT}, timeout=sb.TIMEOUT))


def register_in_browser(c, email, password, name="Console User"):
    c.open()
    c.heading("Sign in")
    c.click("Create one")
    c.heading("Create an account")
    c.fill("Name", name)
    c.fill("Email", email)
    c.fill("Password", password)
    c.click("Create account")
    c.heading("Integrations")
    c.wait_text("#who-email", email)


def test_console_static_files_and_csp(base_url):
    """The console is served with a CSP that allows scripts and styles from the origin
    only, and its scripts as JavaScript modules."""
    r = requests.get(base_url + "/console/", timeout=sb.TIMEOUT)
    assert r.status_code == 200 and "text/html" in r.headers["Content-Type"]
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert re.search(r'<script type="module" src="/console/js/app.js">', r.text)
    assert "<style" not in r.text and " style=" not in r.text
    js = requests.get(base_url + "/console/js/app.js", timeout=sb.TIMEOUT)
    assert js.status_code == 200 and "javascript" in js.headers["Content-Type"]
    assert requests.get(base_url + "/console", allow_redirects=False, timeout=sb.TIMEOUT).status_code == 301
    assert requests.get(base_url + "/console/js/nope.js", timeout=sb.TIMEOUT).status_code == 404


def test_console_journey(browser, base_url, api, broker, receiver):
    c = browser
    email = sb.unique_email()
    password = "pw-" + uuid.uuid4().hex[:16]

    # --- sign-in page, register with a field error first, then for real --------------------
    c.open()
    c.heading("Sign in")
    c.shot("login")
    c.click("Create one")
    c.heading("Create an account")
    c.shot("register")
    c.fill("Name", "Console User")
    c.fill("Email", "not-an-email")
    c.fill("Password", password)
    c.click("Create account")
    c.wait_text('[data-error-for="email"]', "")
    WebDriverWait(c.d, 10).until(lambda d: c.error_for("email") != "")
    assert c.field("Email").get_attribute("aria-invalid") == "true"
    c.check_log(allow=[r"/api/v1/auth/register .*422"])
    c.fill("Email", email)
    c.click("Create account")
    c.heading("Integrations")
    c.wait_text("#who-email", email)
    c.check_log()

    # --- sign out, a wrong password, sign in -------------------------------------------------
    c.click("Sign out", "header")
    c.heading("Sign in")
    c.fill("Email", email)
    c.fill("Password", "wrong password")
    c.click("Sign in")
    c.wait(".form-error:not(:empty)")
    c.check_log(allow=[r"/api/v1/auth/login .*401"])
    c.fill("Password", password)
    c.click("Sign in")
    c.heading("Integrations")
    # A browser session: the refresh token is the HttpOnly cookie, never readable by the
    # page; a reload keeps the user signed in, and the console's refresh works.
    assert "sb_refresh" not in c.d.execute_script("return document.cookie")
    assert "sb_csrf=" in c.d.execute_script("return document.cookie")
    c.d.refresh()
    c.heading("Integrations")
    c.wait_text("#who-email", email)
    refreshed = c.d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import('/console/js/api.js').then(m => m.refresh()).then(done, e => done(String(e)));")
    assert refreshed is True
    cards = c.d.find_elements(By.CSS_SELECTOR, "main article.card")
    providers = {e.get_attribute("data-provider") for e in cards}
    assert {"mqtt", "github", "google", "blynk", "arduino_cloud"} <= providers
    c.shot("integrations")

    # --- MQTT: a field error, Test connection against the stack's mosquitto, save ------------
    c.d.find_element(By.CSS_SELECTOR, 'article[data-provider="mqtt"] a.button').click()
    c.heading("MQTT Broker")
    broker_url = f"mqtt://127.0.0.1:{broker.port}"
    c.fill("Broker URL", broker_url)
    c.field("Device ID").clear()
    c.field("Topic prefix").clear()
    c.click("Save")
    WebDriverWait(c.d, 10).until(lambda d: c.error_for("device_id") != "" and c.error_for("topic_prefix") != "")
    c.check_log(allow=[r"/api/v1/users/me/integrations/mqtt .*422"])
    c.fill("Device ID", "console-dev-1")
    c.fill("Topic prefix", "console/lab")
    c.click("Test connection")
    result = c.wait('.test-result[data-connected="true"]', timeout=30)
    assert "Connected" in result.text
    assert re.fullmatch(r"\d+ ms", result.find_element(By.CSS_SELECTOR, ".latency").text)
    assert result.find_element(By.CSS_SELECTOR, ".protocol").text in ("mqtt/5.0", "mqtt/3.1.1")
    assert result.find_element(By.CSS_SELECTOR, ".broker-version").text.startswith("mosquitto/")
    steps = [li.text for li in result.find_elements(By.CSS_SELECTOR, ".steps li")]
    assert any(s.startswith("Resolve host") for s in steps) and any(s.startswith("MQTT CONNECT") for s in steps)
    assert any(s.startswith("Publish and receive") for s in steps)
    c.shot("integration-mqtt-tested")
    c.click("Save")
    c.wait_text("#notice", "MQTT settings saved.")
    tokens = api_login(api, email, password)
    saved = sb.expect_ok(requests.get(api + "/users/me/integrations/mqtt", headers=sb.bearer(tokens["access_token"]),
                                      timeout=sb.TIMEOUT))
    assert saved["broker_url"] == broker_url and saved["device_id"] == "console-dev-1"
    assert saved["topic_prefix"] == "console/lab"
    # Test the saved configuration: the card then says connected.
    c.heading("MQTT Broker")
    c.click("Test connection")
    c.wait('.test-result[data-connected="true"]', timeout=30)
    c.check_log()

    # --- API keys: create, shown once, works, revoke ---------------------------------------
    c.go("#/api-keys")
    c.heading("API keys")
    c.fill("Name", "console key")
    c.click("Create key")
    key = c.wait(".secret-once code").text
    assert key.startswith("sb_")
    r = requests.get(api + "/users/me", headers={"X-API-Key": key, "User-Agent": sb.USER_AGENT}, timeout=sb.TIMEOUT)
    assert r.status_code == 200, r.text
    c.wait_text("main table", "console key")
    prefix = key[: len(c.d.find_element(By.CSS_SELECTOR, "main table code").text.rstrip("…"))]
    assert prefix and key.startswith(prefix)
    c.shot("api-keys-created")
    c.go("#/integrations")
    c.heading("Integrations")
    c.go("#/api-keys")
    c.heading("API keys")
    c.wait_text("main table", "console key")
    assert key not in c.d.find_element(By.TAG_NAME, "body").text, "the key is shown a second time"
    c.click("Revoke")
    c.accept_confirm()
    c.wait_text("#notice", "revoked")
    r = requests.get(api + "/users/me", headers={"X-API-Key": key, "User-Agent": sb.USER_AGENT}, timeout=sb.TIMEOUT)
    assert r.status_code == 401
    c.check_log()

    # --- webhooks: create, test send, delivery in the history -------------------------------
    bucket = receiver.bucket()
    c.go("#/webhooks")
    c.heading("Webhooks")
    c.shot("webhooks-empty")
    c.click("New webhook")
    c.heading("New webhook")
    c.fill("Name", "console hook")
    c.fill("Receiver URL", receiver.url("ok", bucket))
    c.shot("webhook-new")
    c.click("Create webhook")
    secret = c.wait(".secret-once code").text
    assert secret.startswith("whsec_")
    receiver.set_secrets(bucket, secret)
    c.click("Open the webhook")
    c.heading("console hook")
    c.click("Send test event")
    sent = c.wait(".test-send", timeout=30)
    assert "Test delivered" in sent.text and "HTTP 200" in sent.text
    log = receiver.wait(bucket)
    assert log[0]["verified"] is True and log[0]["body"]["type"] == "webhook.test"
    row = c.wait_text("main section table", "webhook.test")
    assert "delivered" in row.text and "HTTP 200" in row.text
    c.d.find_element(By.CSS_SELECTOR, "main section details summary").click()
    c.wait_text("main section details pre", "webhook-signature")
    c.shot("webhook-detail")
    c.click("Redeliver")
    c.wait_text("#notice", "Redelivery queued.")
    receiver.wait_count(bucket, 2)
    c.go("#/webhooks")
    c.wait_text("main table", "console hook")
    c.shot("webhooks")
    c.check_log()

    # --- export and download ---------------------------------------------------------------
    c.go("#/transfer")
    c.heading("Export and import")
    Select(c.field("Data", "form[aria-labelledby=exp-new]")).select_by_value("webhooks")
    c.click("Start export")
    c.wait_text("#notice", "Export started")
    c.wait('button[aria-label="Download the webhooks export"]', timeout=60).click()
    path = c.wait_download(".csv")
    with open(path, encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert any("console hook" in " ".join(r.values()) for r in rows), rows
    c.wait_text("#notice", "Downloaded")
    c.shot("transfer")
    c.check_log()

    # --- OAuth clients, audit log ------------------------------------------------------------
    c.go("#/oauth-clients")
    c.heading("OAuth clients")
    c.fill("Name", "console client")
    c.click("Register client")
    client_secret = c.wait(".secret-once code").text
    client_id = c.d.find_element(By.CSS_SELECTOR, "main dl.kv dd").text
    tok = requests.post(api + "/oauth/token", data={"grant_type": "client_credentials", "scope": "read"},
                        auth=(client_id, client_secret), timeout=sb.TIMEOUT)
    assert tok.status_code == 200, tok.text
    c.wait_text("main table", "console client")
    c.shot("oauth-clients")
    c.go("#/audit-log")
    c.heading("Audit log")
    c.wait_text("main table", "user.login")
    c.wait_text("main table", "webhook.created")
    c.shot("audit-log")
    c.check_log()


def test_console_provider_pages(browser, base_url):
    """The provider pages not in the journey (Arduino Cloud, Blynk, GitHub, an OAuth2
    provider of the providers file), scanned and photographed; a Blynk field error next to
    its device's field; Connect goes through the provider and comes back connected."""
    c = browser
    register_in_browser(c, sb.unique_email(), "pw-" + uuid.uuid4().hex[:16])
    for seg, title, shot in (("arduino-cloud", "Arduino Cloud", "integration-arduino"),
                             ("blynk", "Blynk", "integration-blynk"),
                             ("github", "GitHub", "integration-github"),
                             ("oidcmock", "OIDC Mock", "integration-oauth2")):
        c.go("#/integrations/" + seg)
        c.heading(title)
        c.shot(shot)
    # A Blynk token too short: the message sits next to that device's token field.
    c.go("#/integrations/blynk")
    c.heading("Blynk")
    c.fill("Server URL", "http://127.0.0.1:9/")
    c.fill("Name", "lamp")
    c.fill("Auth token", "short")
    c.click("Save")
    WebDriverWait(c.d, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, '[data-error-for="devices[1].auth_token"]').text != "")
    c.check_log(allow=[r"/api/v1/users/me/integrations/blynk .*422"])
    # The OAuth connect button goes through the provider's authorization page (the real
    # OAuth2 server approves at once) and the callback brings the browser back here.
    c.go("#/integrations/oidcmock")
    c.heading("OIDC Mock")
    c.click("Connect OIDC Mock")
    c.wait_text("#notice", "Connected oidcmock.", timeout=30)
    assert c.d.current_url.startswith(base_url + "/console/#/integrations"), c.d.current_url
    c.go("#/integrations/oidcmock")
    c.heading("OIDC Mock")
    c.wait_text("main", "Disconnect")
    c.check_log()


def test_console_import_errors_and_schedules(browser, base_url):
    """An import with a bad row, from the downloaded template: the error table names it;
    a scheduled export, with a field error first."""
    c = browser
    register_in_browser(c, sb.unique_email(), "pw-" + uuid.uuid4().hex[:16])
    c.go("#/transfer")
    c.heading("Export and import")
    tmp = os.path.join(c.downloads, "hooks.csv")
    # The template gives the header; one row with a bad URL.
    c.click("Download the template")
    tpl = c.wait_download("template.csv")
    with open(tpl, encoding="utf-8-sig") as f:
        header = next(csv.reader(f))
    row = {h: "" for h in header}
    row.update({"name": "imported", "url": "not a url", "events": "*"})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header)
    w.writeheader()
    w.writerow(row)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(buf.getvalue())
    c.field("CSV file").send_keys(tmp)
    c.click("Upload")
    rep = c.wait(".import-result", timeout=30)
    assert "failed" in rep.text and "url" in rep.text
    c.shot("transfer-import-errors")
    c.check_log()
    # A scheduled export: a bad time zone is named next to its field, then a good one.
    form = "form[aria-labelledby=sch-new]"
    c.fill("Name", "nightly hooks", form)
    Select(c.field("Data", form)).select_by_value("webhooks")
    c.fill("Time zone", "Mars/Olympus", form)
    c.click("Add schedule")
    WebDriverWait(c.d, 10).until(lambda d: c.error_for("time_zone") != "")
    c.check_log(allow=[r"/api/v1/export/schedules .*422"])
    c.fill("Time zone", "Europe/Berlin", form)
    c.click("Add schedule")
    c.wait_text("#notice", "Schedule added.")
    c.wait_text("main table", "nightly hooks")
    c.check_log()


def test_console_connects_github_and_syncs_as_a_tracked_job(browser, base_url, api):
    """Connect GitHub by clicking: the console starts the flow with return_to=console, the
    fake GitHub approves, the callback brings the browser back to the console (still
    signed in through the refresh cookie); then a repository is picked and Sync now runs as
    a job the page follows until it succeeds, and the commit is at the provider."""
    import json as _json
    import oauthflow as of

    c = browser
    email = sb.unique_email()
    register_in_browser(c, email, "pw-" + uuid.uuid4().hex[:16])
    user_id = sb.psql(f"SELECT id FROM users WHERE email = '{email}'")
    # The fake approves as "octocat" unless told otherwise: a repository of its own.
    name = "console-" + uuid.uuid4().hex[:8]
    r = requests.post(of.fake_url("github") + "/_fake/repos", json={"owner": "octocat", "name": name},
                      timeout=sb.TIMEOUT)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    pid = str(uuid.uuid4())
    sb.psql(f"INSERT INTO projects (id, user_id, name, content) VALUES ('{pid}', '{user_id}', 'Blinky', "
            f"'{_json.dumps({'parts': ['led']})}'::jsonb)")

    c.go("#/integrations/github")
    c.heading("GitHub")
    c.click("Connect GitHub")
    WebDriverWait(c.d, 30).until(lambda d: d.current_url.startswith(base_url + "/console/#/integrations"))
    c.wait_text("#notice", "Connected github.")
    c.heading("Integrations")
    c.check_log()

    c.go("#/integrations/github")
    c.heading("GitHub")
    form = "form[aria-labelledby=gh-sync]"
    Select(c.field("Repository", form)).select_by_value(str(rid))
    c.fill("Project IDs", pid, form)
    c.click("Sync now")
    done = c.wait('.sync-result[data-status="succeeded"]', timeout=60)
    head = requests.get(of.fake_url("github") + f"/_fake/repos/{rid}", timeout=sb.TIMEOUT).json()["head"]
    assert head[:10] in done.text and "created" in done.text, done.text
    c.shot("integration-github-synced")
    c.check_log()


def test_console_generic_settings_page_saves_and_tests_s3(browser, base_url, api):
    """A configured provider without a page of its own (here S3, against the stack's real
    s3rver) gets a form built from the catalog: saved, the secret write-only and shown as
    saved, the provider's Test action run from the page."""
    import test_s3

    port = os.environ.get("SB_FAKE_S3_PORT")
    if not port:
        pytest.skip("SB_FAKE_S3_PORT not set: run the suite through scripts/test-e2e")
    c = browser
    email = sb.unique_email()
    register_in_browser(c, email, "pw-" + uuid.uuid4().hex[:16])
    c.go("#/integrations/s3")
    c.heading("S3-compatible object storage")
    c.fill("Endpoint", f"http://127.0.0.1:{port}")
    c.fill("Region", "us-east-1")
    c.fill("Bucket", test_s3.BUCKET)
    c.fill("Access key id", test_s3.KEY_ID)
    c.fill("Secret access key", test_s3.SECRET)
    c.fill("Addressing", "path")
    c.click("Set up")
    c.wait_text("#notice", "S3-compatible object storage saved.")
    c.heading("S3-compatible object storage")
    secret = c.field("Secret access key")
    assert secret.get_attribute("value") == "" and "saved" in secret.get_attribute("placeholder")
    assert test_s3.SECRET not in c.d.page_source
    c.click("Test")
    result = c.wait('.test-result[data-ok="true"]', timeout=30)
    assert "Test passed" in result.text
    c.shot("integration-generic-s3")
    c.check_log()


def test_console_keyboard_and_narrow_menu(browser, base_url, api, new_user):
    """Signing in and moving between pages by keyboard only, and the menu of the narrow
    (375 px) layout: closed at first, opened by its button, closed again after a choice."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    c = browser
    u = new_user()
    c.open()
    c.heading("Sign in")
    keys = ActionChains(c.d)
    # The email field has the focus: type, Tab to the password, Enter submits.
    assert c.d.switch_to.active_element.get_attribute("name") == "email"
    keys.send_keys(u.email, Keys.TAB, u.password, Keys.ENTER).perform()
    c.heading("Integrations")
    # The skip link is the first stop of the Tab order; Enter on it moves the focus to
    # the content and leaves the page where it is.
    first = c.d.execute_script("return document.querySelector('a[href], button:not([hidden]), input, select, textarea')")
    assert first.get_attribute("textContent") == "Skip to content"
    c.d.execute_script("arguments[0].focus()", first)
    assert first.is_displayed()
    ActionChains(c.d).send_keys(Keys.ENTER).perform()
    assert c.d.switch_to.active_element.get_attribute("id") == "main"
    c.heading("Integrations")
    # From the brand link, Tab to the nav's "Webhooks" link and follow it with Enter.
    c.d.execute_script("document.querySelector('.brand').focus()")
    for _ in range(6):
        ActionChains(c.d).send_keys(Keys.TAB).perform()
        if c.d.switch_to.active_element.text == "Webhooks":
            break
    assert c.d.switch_to.active_element.text == "Webhooks"
    ActionChains(c.d).send_keys(Keys.ENTER).perform()
    c.heading("Webhooks")
    c.check_log()

    c.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": 375, "height": 800, "deviceScaleFactor": 1, "mobile": True})
    try:
        toggle = c.wait("#menu-toggle")
        nav = c.d.find_element(By.ID, "nav")
        assert not nav.is_displayed() and toggle.get_attribute("aria-expanded") == "false"
        toggle.click()
        assert nav.is_displayed() and toggle.get_attribute("aria-expanded") == "true"
        c.axe("the open menu at 375 px")
        os.makedirs(SHOTS, exist_ok=True)
        c.d.save_screenshot(os.path.join(SHOTS, "menu-open-375.png"))
        c.d.find_element(By.CSS_SELECTOR, '#nav a[data-route="audit-log"]').click()
        c.heading("Audit log")
        assert not c.d.find_element(By.ID, "nav").is_displayed()
    finally:
        c.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    c.check_log()


def pkce_pair():
    import base64
    import hashlib
    import secrets as pysecrets
    verifier = pysecrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def test_console_consent_authorizes_an_outside_client(browser, base_url, api, receiver):
    """An outside app's authorization-code flow through the console: the user registers
    a client on the OAuth clients page, GET /oauth/authorize shows the consent page
    (client, scopes), Approve sends the browser to the redirect URI with a code the app
    exchanges (PKCE) for a token that calls the API as the user; the app is listed under
    Authorized applications and Revoke ends its token. Signed out, authorize goes through
    the sign-in page first, and Deny answers access_denied."""
    from urllib.parse import parse_qs, urlencode, urlparse

    c = browser
    email = sb.unique_email()
    password = "pw-" + uuid.uuid4().hex[:16]
    register_in_browser(c, email, password)
    redirect_uri = f"http://127.0.0.1:{receiver.port}/_log/console-cb-{uuid.uuid4().hex[:8]}"
    c.go("#/oauth-clients")
    c.heading("OAuth clients")
    c.fill("Name", "console app")
    c.fill("Redirect URIs", redirect_uri)
    c.click("Register client")
    client_secret = c.wait(".secret-once code").text
    client_id = c.d.find_element(By.CSS_SELECTOR, "main dd.client-id").text
    c.check_log()

    def authorize_url(state, challenge):
        return api + "/oauth/authorize?" + urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": "read",
            "state": state, "code_challenge": challenge, "code_challenge_method": "S256"})

    verifier, challenge = pkce_pair()
    c.d.get(authorize_url("st-approve", challenge))
    c.heading("Authorize console app")
    consent = c.wait("main .consent")
    assert client_id in consent.text and "read" in consent.text and redirect_uri in consent.text
    c.shot("consent")
    c.click("Approve")
    WebDriverWait(c.d, 20).until(lambda d: d.current_url.startswith(redirect_uri))
    q = parse_qs(urlparse(c.d.current_url).query)
    assert q["state"] == ["st-approve"] and q["code"][0]
    tok = requests.post(api + "/oauth/token", data={"grant_type": "authorization_code", "code": q["code"][0],
                                                    "redirect_uri": redirect_uri, "code_verifier": verifier},
                        auth=(client_id, client_secret), timeout=sb.TIMEOUT)
    assert tok.status_code == 200, tok.text
    bearer = {"Authorization": "Bearer " + tok.json()["access_token"], "User-Agent": sb.USER_AGENT}
    me = requests.get(api + "/oauth/userinfo", headers=bearer, timeout=sb.TIMEOUT)
    assert me.status_code == 200 and me.json()["email"] == email, me.text

    # A remembered grant: the same app asking for the same scope again is not asked twice.
    _, challenge2 = pkce_pair()
    c.d.get(authorize_url("st-again", challenge2))
    WebDriverWait(c.d, 20).until(lambda d: d.current_url.startswith(redirect_uri))
    q = parse_qs(urlparse(c.d.current_url).query)
    assert q["state"] == ["st-again"] and q["code"][0], q

    # The app is listed under Authorized applications; Revoke ends its token.
    c.open("#/oauth-clients")
    c.heading("OAuth clients")
    c.wait_text("section[aria-labelledby=apps-h] table", "console app")
    c.shot("oauth-clients-authorized")
    c.click("Revoke", "section[aria-labelledby=apps-h]")
    c.accept_confirm()
    c.wait_text("#notice", "Access revoked.")
    assert requests.get(api + "/oauth/userinfo", headers=bearer, timeout=sb.TIMEOUT).status_code == 401
    c.check_log()

    # Signed out: authorize asks to sign in first, then shows the consent; Deny.
    c.click("Sign out", "header")
    c.heading("Sign in")
    _, challenge = pkce_pair()
    c.d.get(authorize_url("st-deny", challenge))
    c.heading("Sign in")
    assert "next=" in c.d.current_url
    c.fill("Email", email)
    c.fill("Password", password)
    c.click("Sign in")
    c.heading("Authorize console app")
    c.check_log()
    c.click("Deny")
    WebDriverWait(c.d, 20).until(lambda d: d.current_url.startswith(redirect_uri))
    q = parse_qs(urlparse(c.d.current_url).query)
    assert q["error"] == ["access_denied"] and q["state"] == ["st-deny"]
