"""One beat for the whole deployment, even when a second one is started by mistake.

`LockedScheduler` is celery beat's own `PersistentScheduler` (the schedule stays in
settings, CELERY_BEAT_SCHEDULE) that sends only while it holds a lock in Redis:

* the lock (`advocacy:beat:leader`) is a key with an expiry (BEAT_LOCK_SECONDS) and the
  holder's token; the holder renews it at least every third of that, so a beat that dies
  or hangs loses it within BEAT_LOCK_SECONDS and a standby takes over;
* a standby beat ticks but sends nothing, and asks again every third of the expiry;
* every send is checked against the lock and recorded in one Lua script (the lock still
  ours, renewed, and the entry's run time written to `advocacy:beat:last-run`): a beat that
  lost the lock while paused sends nothing more;
* a beat that takes over first reads those run times, so a job the previous holder sent a
  moment ago is not sent again: each job runs once per period across the takeover.

Why a scheduler and not a lock around each periodic task's body: a task body lock would
let a second beat double the messages and only drop them at the worker, and jobs that
queue work for others (the sweeper, the metric pull) would need one each; here nothing is
sent twice in the first place. The tasks keep their own guards (the click flush's lock,
the sweeper's SKIP LOCKED) for a message delivered twice. Celery-RedBeat does the same with
the schedule itself moved into Redis; this keeps the schedule in code and adds no package.

Without REDIS_URL (`make run`: one beat, the filesystem broker) there is no lock.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from functools import cached_property

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

log = logging.getLogger(__name__)

LOCK_KEY = "advocacy:beat:leader"
LAST_RUN_KEY = "advocacy:beat:last-run"

# KEYS: the lock; ARGV: token, expiry in ms. Take the lock when free, renew it when ours.
_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
# KEYS: the lock, the run times; ARGV: token, expiry in ms, entry name, run time (ISO).
_SEND = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class LockedScheduler(PersistentScheduler):
    """Sends due tasks only while it holds the deployment's beat lock (module docstring)."""

    def __init__(self, *args, **kwargs):
        self.token = uuid.uuid4().hex
        self.leading = False
        super().__init__(*args, **kwargs)

    @cached_property
    def _redis(self) -> redis.Redis:
        return redis.Redis.from_url(settings.REDIS_URL)

    @cached_property
    def _scripts(self) -> dict:
        """The lock's scripts, registered once (redis-py hashes a script when it registers it)."""
        return {
            name: self._redis.register_script(text)
            for name, text in (("hold", _HOLD), ("send", _SEND), ("release", _RELEASE))
        }

    @property
    def _lock_ms(self) -> int:
        return int(settings.BEAT_LOCK_SECONDS * 1000)

    def tick(self, *args, **kwargs) -> float:
        if not settings.REDIS_URL:
            return super().tick(*args, **kwargs)
        renew_every = settings.BEAT_LOCK_SECONDS / 3
        held = bool(self._scripts["hold"](keys=[LOCK_KEY], args=[self.token, self._lock_ms]))
        if not held:
            if self.leading:
                log.warning("beat: lost the lock; standing by")
            self.leading = False
            return renew_every
        if not self.leading:
            log.info("beat: holding the lock; sending due tasks")
            self._adopt_last_runs()
            self.leading = True
        return min(super().tick(*args, **kwargs), renew_every)

    def apply_entry(self, entry, producer=None):
        if settings.REDIS_URL:
            ran_at: datetime = self.schedule[entry.name].last_run_at  # reserve() just set it
            still_ours = self._scripts["send"](
                keys=[LOCK_KEY, LAST_RUN_KEY], args=[self.token, self._lock_ms, entry.name, ran_at.isoformat()]
            )
            if not still_ours:
                log.warning("beat: lost the lock before sending %s; not sent", entry.name)
                # reserve() moved the entry on as if sent: put the one before it back, so the
                # job is due again at once if this beat takes the lock back.
                self.schedule[entry.name] = entry
                self._heap = None
                self.leading = False
                return
        super().apply_entry(entry, producer=producer)

    def _adopt_last_runs(self) -> None:
        """Take the run times the previous holder recorded, so nothing it sent runs again early."""
        recorded = self._redis.hgetall(LAST_RUN_KEY)
        for name, entry in self.schedule.items():
            raw = recorded.get(name.encode())
            if raw is None:
                continue
            ran_at = datetime.fromisoformat(raw.decode())
            if entry.last_run_at is None or ran_at > entry.last_run_at:
                entry.last_run_at = ran_at
        self._heap = None  # rebuilt from the adopted times on the next tick

    def close(self) -> None:
        super().close()
        if settings.REDIS_URL:
            self._scripts["release"](keys=[LOCK_KEY], args=[self.token])
