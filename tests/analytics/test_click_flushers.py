"""Two click flushers at once (two beats' messages, two workers): every buffered click is
written exactly once. Each flusher is a thread with its own PostgreSQL connection, on the
real Redis queue."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db.models import Sum

from analytics.models import Click, DailyRollup
from analytics.services import clicks
from tests.analytics.test_clicks import make_delivery
from tests.helpers import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

CLICKS = 2000


@pytest.fixture(autouse=True)
def _fresh_link_cache():
    clicks.forget_local_links()
    yield
    clicks.forget_local_links()


def buffer_clicks(n: int):
    delivery = make_delivery()
    link = clicks.link_for(delivery.tracking_code)
    at = datetime.now(UTC)
    for i in range(n):  # one address per click: none over the per-address rate
        clicks.record_click(link=link, ip=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", at=at)
    clicks.push_handoff()
    return delivery


def flush_in_two_threads() -> None:
    def flusher():
        while clicks.buffered_count():
            clicks.flush_clicks(batch_size=100, max_batches=2)

    run_at_once(flusher, flusher)


def assert_written_once(delivery) -> None:
    rows = Click.objects.for_org(delivery.organization)
    assert rows.count() == CLICKS
    assert rows.values("id").distinct().count() == CLICKS
    total = DailyRollup.objects.for_org(delivery.organization).aggregate(n=Sum("clicks"), u=Sum("unique_clicks"))
    assert total == {"n": CLICKS, "u": CLICKS}, "each click counted once in the rollups"
    assert clicks.buffered_count() == 0


def test_two_flushers_at_once_write_every_click_exactly_once():
    delivery = buffer_clicks(CLICKS)
    flush_in_two_threads()
    assert_written_once(delivery)


def test_two_flushers_past_their_lock_write_every_click_exactly_once(monkeypatch):
    """A flusher that outlives its Redis lock (a long pause) runs beside the next one: the
    claim script hands each batch to one of them, and a pending batch both pick up is
    written once (click ids, the flush's advisory lock)."""
    monkeypatch.setattr(clicks, "FLUSH_LOCK_MS", 1)  # the lock is gone as soon as it is taken
    delivery = buffer_clicks(CLICKS)
    flush_in_two_threads()
    assert_written_once(delivery)
