"""The beat lock (advocacy.beat): two beats at once, each job sent once per period.

Two real schedulers on the real Redis (lock and broker), their messages counted where a
worker would read them: a queue of this test's own on the broker. The clock is moved with
time-machine; the lock's expiry is Redis's own clock, so a beat that hung past it is
played by deleting the key, as Redis would.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
import redis
import time_machine
from celery import Celery
from django.conf import settings

from advocacy import beat

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the beat lock lives in Redis")


@pytest.fixture
def queue():
    name = f"beat-test-{uuid.uuid4().hex}"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    lock = redis.Redis.from_url(settings.REDIS_URL)
    lock.delete(beat.LOCK_KEY, beat.LAST_RUN_KEY)
    yield name, broker
    broker.delete(name)
    lock.delete(beat.LOCK_KEY, beat.LAST_RUN_KEY)


def a_beat(queue_name: str, tmp_path, name: str) -> beat.LockedScheduler:
    app = Celery(f"beat-{name}", broker=settings.CELERY_BROKER_URL, set_as_current=False)
    app.conf.result_expires = None  # no backend-cleanup entry of celery's own
    app.conf.beat_schedule = {
        "every-minute": {"task": "beat_test.minute", "schedule": 60.0, "options": {"queue": queue_name}},
        "every-five-minutes": {"task": "beat_test.five", "schedule": 300.0, "options": {"queue": queue_name}},
    }
    return beat.LockedScheduler(app=app, schedule_filename=str(tmp_path / f"schedule-{name}"))


def sent(queue_name: str, broker: redis.Redis) -> Counter:
    return Counter(json.loads(raw)["headers"]["task"] for raw in broker.lrange(queue_name, 0, -1))


def run_minutes(traveller, beats, minutes: int) -> None:
    for _ in range(minutes):
        traveller.shift(60)
        for _ in range(3):  # a tick sends at most one due entry
            for scheduler in beats:
                scheduler.tick()


@pytest.fixture
def two_beats(queue, tmp_path):
    """(clock, first beat, second beat), both started at the same moment."""
    name, _ = queue
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC), tick=False) as traveller:
        yield traveller, a_beat(name, tmp_path, "first"), a_beat(name, tmp_path, "second")


def test_two_beats_at_once_send_each_job_once_per_period(queue, two_beats):
    traveller, first, second = two_beats
    run_minutes(traveller, [first, second], 10)
    assert first.leading and not second.leading
    assert sent(*queue) == {"beat_test.minute": 10, "beat_test.five": 2}


def test_a_standby_takes_over_a_hung_beat_without_sending_a_job_again(queue, two_beats):
    traveller, first, second = two_beats
    run_minutes(traveller, [first, second], 5)
    assert sent(*queue) == {"beat_test.minute": 5, "beat_test.five": 1}
    # The first beat hangs past the lock's expiry: Redis drops its key.
    redis.Redis.from_url(settings.REDIS_URL).delete(beat.LOCK_KEY)
    traveller.shift(20)
    second.tick()
    assert second.leading, "the standby holds the lock now"
    # Both jobs were sent 20 s ago by the first beat; the second's own times say never.
    assert sent(*queue) == {"beat_test.minute": 5, "beat_test.five": 1}
    # The first beat comes back and keeps ticking: it sends nothing more.
    run_minutes(traveller, [first, second], 5)
    assert not first.leading
    assert sent(*queue) == {"beat_test.minute": 10, "beat_test.five": 2}


def test_a_beat_that_stops_hands_the_lock_over_at_once(queue, two_beats):
    traveller, first, second = two_beats
    run_minutes(traveller, [first, second], 2)
    first.close()
    run_minutes(traveller, [second], 3)
    assert second.leading
    assert sent(*queue) == {"beat_test.minute": 5, "beat_test.five": 1}


def test_celery_beat_runs_the_locked_scheduler():
    from advocacy.celery import app

    assert app.conf.beat_scheduler == "advocacy.beat:LockedScheduler"


def test_a_job_not_sent_for_a_lost_lock_is_due_at_once_when_the_lock_comes_back(queue, two_beats):
    traveller, first, _ = two_beats
    run_minutes(traveller, [first], 2)
    before = sent(*queue)
    lock = redis.Redis.from_url(settings.REDIS_URL)
    real_send = first._scripts["send"]

    def lose_the_lock_then_send(**kwargs):  # another beat takes the lock between tick and send
        lock.set(beat.LOCK_KEY, "another-beat")
        first._scripts["send"] = real_send
        return real_send(**kwargs)

    first._scripts["send"] = lose_the_lock_then_send
    traveller.shift(60)  # only the minute's job is due
    first.tick()
    assert sent(*queue) == before and not first.leading, "nothing sent without the lock"
    lock.delete(beat.LOCK_KEY)  # the other beat is gone
    for _ in range(3):
        first.tick()
    assert first.leading
    assert sent(*queue) == before + Counter({"beat_test.minute": 1}), "sent at once, not a period later"
