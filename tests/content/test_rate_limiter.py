"""The publishing rate limiter's slots for a batch (`limits.acquire_many`): one answer per
call, taken in order, exactly as the same calls one after the other would take them, in
Redis (one pipeline) and in memory (no Redis)."""

from __future__ import annotations

import pytest
import redis

from content.services.publishing import limits

# Two calls per account, three per app; LinkedIn without windows here.
LIMITS = {"x": {"account": [(2, 900)], "app": [(3, 3600)]}, "linkedin": {}}
CALLS = [
    ("x", "acct-a", "app-1"),
    ("x", "acct-a", "app-1"),
    ("x", "acct-a", "app-1"),  # acct-a's window is full
    ("x", "acct-b", "app-1"),  # the app's third slot
    ("x", "acct-b", "app-1"),  # the app's window is full
    ("linkedin", "acct-c", "app-1"),  # no window: never waits
]


def _granted(waits: list[float]) -> list[bool]:
    return [wait == 0.0 for wait in waits]


@pytest.fixture
def clean_windows(settings):
    settings.PUBLISH_RATE_LIMITS = LIMITS
    if settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL)
        stale = list(client.scan_iter("publish:rate:x:*"))
        if stale:
            client.delete(*stale)
        yield client
    else:
        yield None
    limits._local.calls.clear()


def test_a_batch_takes_its_slots_in_order_in_redis(settings, clean_windows):
    assert settings.REDIS_URL, "the shared limiter lives in Redis; the suite runs with it"
    waits = limits.acquire_many(CALLS)
    assert _granted(waits) == [True, True, False, True, False, True]
    assert 0 < waits[2] <= 900 and 0 < waits[4] <= 3600
    # What was refused was not counted.
    assert clean_windows.zcard("publish:rate:x:account:acct-a:900") == 2
    assert clean_windows.zcard("publish:rate:x:account:acct-b:900") == 1
    assert clean_windows.zcard("publish:rate:x:app:app-1:3600") == 3
    # The same calls one by one, on fresh windows, answer the same.
    clean_windows.delete(*clean_windows.scan_iter("publish:rate:x:*"))
    one_by_one = [limits.acquire(network, account=account, app=app) for network, account, app in CALLS]
    assert _granted(one_by_one) == _granted(waits)


def test_a_batch_takes_its_slots_in_order_in_memory(settings, clean_windows):
    settings.REDIS_URL = ""
    limits._local.calls.clear()
    waits = limits.acquire_many(CALLS)
    assert _granted(waits) == [True, True, False, True, False, True]
    assert len(limits._local.calls["publish:rate:x:account:acct-a:900"]) == 2
    assert len(limits._local.calls["publish:rate:x:app:app-1:3600"]) == 3


def test_an_app_asked_lazily_is_asked_only_where_the_network_has_app_windows(settings, clean_windows):
    asked = []

    def app():
        asked.append(True)
        return "app-1"

    assert limits.acquire_many([("linkedin", "acct-c", app), ("x", "acct-d", app)]) == [0.0, 0.0]
    assert len(asked) == 1
