"""ThingsBoard calls count against the per-user client-side outbound limit
(SB_OUTBOUND_CALLS_PER_WINDOW, 120 per SB_OUTBOUND_WINDOW_SECONDS, 60 s) like every other
provider's: its session token (X-Authorization) is new at every login, so the limit is keyed
by the Switchboard user. One user's loop stops at our limit with 429 rate_limited and its
calls no longer reach the server; another user with the same ThingsBoard account works on."""

import os

import requests

import sb
from test_thingsboard import THERMOSTAT, config, post, put, rpcs, tb  # noqa: F401 (fixture)


def test_thingsboard_calls_count_against_the_per_user_limit(api, new_user, tb):  # noqa: F811
    u = new_user()
    sb.expect_ok(put(api, u, config(tb)))
    method = "loop" + os.urandom(4).hex()
    limited = None
    for _ in range(130):  # each rpc is a login and a call: the limit comes near 60
        r = post(api, u, "rpc", {"device_id": THERMOSTAT, "method": method})
        if r.status_code == 429:
            limited = r
            break
        sb.expect_ok(r)
    assert limited is not None, "the client-side limit never applied to ThingsBoard calls"
    err = sb.expect_error(limited, 429, "rate_limited")
    assert "client-side limit" in err["message"], err
    assert limited.headers.get("Retry-After"), limited.headers
    sent = len([x for x in rpcs(tb) if x["method"] == method])
    assert 0 < sent <= 60, sent
    sb.expect_error(post(api, u, "rpc", {"device_id": THERMOSTAT, "method": method}), 429, "rate_limited")
    assert len([x for x in rpcs(tb) if x["method"] == method]) == sent  # held back, not sent
    other = new_user()
    sb.expect_ok(put(api, other, config(tb)))
    sb.expect_ok(post(api, other, "rpc", {"device_id": THERMOSTAT, "method": method + "other"}))
    assert [x["method"] for x in rpcs(tb) if x["method"] == method + "other"] == [method + "other"]
