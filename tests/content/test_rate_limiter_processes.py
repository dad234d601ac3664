"""Two worker processes sharing the publishing rate limiter (Redis) never exceed a window:
real forked processes, each with its own Redis connection, start together and race for
the same slots."""

from __future__ import annotations

import multiprocessing

import pytest
import redis
from django.conf import settings

from content.services.publishing import limits

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the shared limiter lives in Redis")

ATTEMPTS = 60  # per process, alternating two accounts


def take_slots(barrier, granted) -> None:
    barrier.wait()
    taken = 0
    for i in range(ATTEMPTS):
        if limits.acquire("x", account=f"acct-{i % 2}", app="load-app") == 0.0:
            taken += 1
    granted.put(taken)


def test_two_processes_never_take_more_than_the_window_allows(settings):
    # 25 calls per account, 40 per app: two accounts could take 50, the app allows 40.
    settings.PUBLISH_RATE_LIMITS = {"x": {"account": [(25, 900)], "app": [(40, 3600)]}}
    client = redis.Redis.from_url(settings.REDIS_URL)
    stale = list(client.scan_iter("publish:rate:x:*"))
    if stale:
        client.delete(*stale)
    context = multiprocessing.get_context("fork")
    barrier, granted = context.Barrier(2), context.Queue()
    processes = [context.Process(target=take_slots, args=(barrier, granted)) for _ in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    counts = [granted.get(timeout=5), granted.get(timeout=5)]
    assert sum(counts) == 40, counts
    for account in ("acct-0", "acct-1"):
        assert client.zcard(f"publish:rate:x:account:{account}:900") <= 25
    assert client.zcard("publish:rate:x:app:load-app:3600") == 40
