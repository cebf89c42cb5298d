"""nginx's coarse per-IP limit on login/register (SB_AUTH_RATE, burst SB_AUTH_BURST in the
test stack). nginx keys the bucket by the client address, so this test sends from a
loopback address of its own (127.0.0.0/8 all reaches the stack on 127.0.0.1): the bucket
it exhausts is its own, and it runs in any order, beside any other test."""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter

import sb


class SourceAddressAdapter(HTTPAdapter):
    """Connects from a chosen local address (any port)."""

    def __init__(self, address, **kwargs):
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(address, pool):
    s = requests.Session()
    adapter = SourceAddressAdapter(address, pool_connections=1, pool_maxsize=pool)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def own_address():
    """A loopback address no other test uses (they all come from 127.0.0.1)."""
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def test_login_is_rate_limited_per_address(api):
    address = own_address()
    own = session_from(address, 40)

    def attempt(_):
        # An invalid body: the responder answers 422 at once, no password hashing.
        return own.post(api + "/auth/login", json={}, timeout=sb.TIMEOUT)

    # While this address floods, the address every other test uses keeps signing in at a
    # pace well inside its own bucket: it must never be limited by this flood.
    flooding = threading.Event()
    flooding.set()
    beside = []

    def steady():
        while flooding.is_set():
            beside.append(requests.post(api + "/auth/login", json={}, timeout=sb.TIMEOUT))
            time.sleep(0.05)

    side = threading.Thread(target=steady)
    side.start()
    try:
        with ThreadPoolExecutor(40) as pool:
            answers = list(pool.map(attempt, range(400)))
    finally:
        flooding.clear()
        side.join()

    statuses = [r.status_code for r in answers]
    limited = [r for r in answers if r.status_code == 429]
    assert limited, f"no 429 among {len(answers)} concurrent logins from {address}: {sorted(set(statuses))}"
    assert set(statuses) <= {422, 429}, sorted(set(statuses))
    for r in limited:
        sb.expect_error(r, 429, "rate_limited")
        retry_after = r.headers.get("Retry-After", "")
        assert retry_after.isdigit() and int(retry_after) >= 1, r.headers
    for r in answers:
        if r.status_code == 422:
            sb.expect_error(r, 422, "validation_failed")
    # The 429 is an API answer like any other.
    h = limited[0].headers
    assert h.get("X-Content-Type-Options") == "nosniff", h
    assert h.get("X-Request-Id"), h

    assert beside, "no request from the default address ran during the flood"
    for r in beside:
        sb.expect_error(r, 422, "validation_failed")
    # The API zone is separate: reads from the flooding address are not limited by the login bucket.
    sb.expect_error(own.get(api + "/users/me", timeout=sb.TIMEOUT), 401, "unauthorized")
    own.close()
