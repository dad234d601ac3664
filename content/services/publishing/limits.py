"""The publishing rate limiter: one budget per (network, account) and per (network, app),
shared by every worker through Redis.

Sliding windows (a sorted set of call times per key and window): a call is allowed only
when every window of both keys has room, and then it is counted in all of them at once,
atomically (one Lua script), so two workers never both take the last slot. When there is
no room, the answer is how long until the oldest call leaves the fullest window: the
delivery is rescheduled for then instead of being sent and refused by the network.

Without Redis (`make run` on the filesystem broker, one worker process) the same windows
live in this process's memory.

It also decides how long a delivery waits after a 429 (`retry_at_after_429`): LinkedIn
gives no reset time, so its short throttles are told from its daily limit here, with a
count of each account's 429s per UTC day kept in the same Redis.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cache

from django.conf import settings

from networks.errors import RateLimited

# KEYS: one sorted set per window; ARGV: now, then (limit, period) per key, then a member id.
_SCRIPT = """
local now = tonumber(ARGV[1])
local member = ARGV[#ARGV]
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - period)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local free_at = tonumber(oldest[2]) + period - now
    if free_at > wait then wait = free_at end
  end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[2 * i + 1])) + 1)
end
return '0'
"""


def windows_for(network: str, *, account: str, app: str | Callable[[], str]) -> list[tuple[str, int, float]]:
    """(key, limit, period) for every window that applies to a call on this account and app
    (`app` may be a callable, asked only when the network has per-app windows)."""
    limits = settings.PUBLISH_RATE_LIMITS.get(network, {})
    found = []
    for scope, name in (("account", account), ("app", app)):
        windows = limits.get(scope, [])
        if windows and callable(name):
            name = name()
        for limit, period in windows:
            found.append((f"publish:rate:{network}:{scope}:{name}:{int(period)}", int(limit), float(period)))
    return found


def acquire(network: str, *, account: str, app: str | Callable[[], str]) -> float:
    """Take one slot for a publish call; returns 0.0 when taken, else the seconds to wait
    (nothing is counted then)."""
    return acquire_many([(network, account, app)])[0]


def acquire_many(calls: list[tuple[str, str, str | Callable[[], str]]]) -> list[float]:
    """`acquire` for several calls, each (network, account, app), in order, in one pipeline:
    two Redis round trips for all (the pipeline's check that the script is loaded, then the
    scripts, run one after the other, so a later call sees the slots the earlier ones took,
    as separate calls would). One answer per call."""
    now = time.time()
    windows = [windows_for(network, account=account, app=app) for network, account, app in calls]
    if not settings.REDIS_URL:
        return [_local.acquire(each, now) if each else 0.0 for each in windows]
    script, asked = _script(), [each for each in windows if each]
    # A pipeline first checks that the script is loaded (one round trip more): for one call,
    # the script alone.
    pipe = script.registered_client.pipeline(transaction=False) if len(asked) > 1 else None
    answers = []
    for each in asked:
        args: list = [now]
        for _, limit, period in each:
            args += [limit, period]
        args.append(uuid.uuid4().hex)
        answers.append(script(keys=[key for key, _, _ in each], args=args, client=pipe))
    found = iter(pipe.execute() if pipe is not None else answers)
    return [float(next(found)) if each else 0.0 for each in windows]


@cache
def _script():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL).register_script(_SCRIPT)


class _LocalWindows:
    """The same sliding windows in memory, for a single process without Redis."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls: dict[str, list[float]] = {}

    def acquire(self, windows, now: float) -> float:
        with self.lock:
            wait = 0.0
            for key, limit, period in windows:
                calls = self.calls.setdefault(key, [])
                calls[:] = [t for t in calls if t > now - period]
                if len(calls) >= limit:
                    wait = max(wait, calls[0] + period - now)
            if wait > 0:
                return wait
            for key, _, _ in windows:
                self.calls[key].append(now)
            return 0.0


_local = _LocalWindows()


# --- after a 429 ----------------------------------------------------------------------------

# LinkedIn's limits are daily and its 429 has no reset header. It names a spent daily quota
# ("... DAY limit ...", `exc.daily`); any other 429 is a short throttle, retried within
# minutes, until the account's third 429 of the UTC day, which is taken for the daily limit
# all the same (LinkedIn does not always say which it is) and waits for midnight UTC.
THROTTLES_BEFORE_DAILY = 3
THROTTLE_MAX_SECONDS = 15 * 60


def retry_at_after_429(network: str, *, account: str, exc: RateLimited, now: datetime) -> datetime:
    """When a call refused with `exc` on `account` (the connection's remote id) may be tried
    again. Other networks give their reset time: `exc.retry_at`, unchanged. LinkedIn: the
    next midnight UTC when it said its daily limit is spent or when this is the account's
    third 429 of the UTC day (counted in Redis, shared by every worker); otherwise a short
    backoff of 2, then 4 times PUBLISH_RETRY_BASE_SECONDS (1 and 2 minutes by default), with
    jitter, at most 15 minutes (or PUBLISH_RETRY_MAX_SECONDS when smaller). Raises nothing
    of its own (Redis errors propagate)."""
    if network != "linkedin":
        return exc.retry_at
    today = now.astimezone(UTC).date()
    midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    count = _count_429(network, account, today)
    if exc.daily or count >= THROTTLES_BEFORE_DAILY:
        return max(midnight, exc.retry_at)
    cap = min(THROTTLE_MAX_SECONDS, settings.PUBLISH_RETRY_MAX_SECONDS)
    delay = min(settings.PUBLISH_RETRY_BASE_SECONDS * 2**count * random.uniform(0.75, 1.25), cap)
    return now + timedelta(seconds=delay)


def _count_429(network: str, account: str, day: date) -> int:
    """Count one more 429 for this account on this UTC day; the day's count so far."""
    key = f"publish:throttled:{network}:{account}:{day.isoformat()}"
    if settings.REDIS_URL:
        pipe = _redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, 2 * 86400)  # past the day it counts, nobody reads it
        return int(pipe.execute()[0])
    with _local.lock:
        _local_429s[key] = _local_429s.get(key, 0) + 1
        return _local_429s[key]


_local_429s: dict[str, int] = {}


@cache
def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)
