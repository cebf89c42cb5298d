"""nginx's coarse per-IP limit on login/register (SB_AUTH_RATE=50r/s, burst 100 in the
test stack). Named to run last: it exhausts the login bucket for this client."""

import time
from concurrent.futures import ThreadPoolExecutor

import requests

import sb


def test_login_is_rate_limited(api):
    def attempt(_):
        # An invalid body: the responder answers 422 at once, no password hashing.
        return requests.post(api + "/auth/login", json={}, timeout=sb.TIMEOUT)

    try:
        with ThreadPoolExecutor(40) as pool:
            answers = list(pool.map(attempt, range(400)))
        statuses = [r.status_code for r in answers]
        limited = [r for r in answers if r.status_code == 429]
        assert limited, f"no 429 among {len(answers)} concurrent logins: {sorted(set(statuses))}"
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
    finally:
        # Let the bucket drain (50 r/s, burst 100) so nothing after this is limited.
        time.sleep(3)

    # The API zone is separate: authenticated reads are not limited by the login bucket.
    resp = requests.get(api + "/users/me", timeout=sb.TIMEOUT)
    sb.expect_error(resp, 401, "unauthorized")
