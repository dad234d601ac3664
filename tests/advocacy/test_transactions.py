"""advocacy.transactions.on_commit_once: what many changes of one transaction ask for after
its commit runs once, after the commit, and never for a rolled-back part."""

from __future__ import annotations

import pytest
from django.db import transaction

from advocacy.transactions import on_commit_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_key_runs_once_after_the_commit_and_each_key_runs():
    ran = []
    with transaction.atomic():
        for _ in range(3):
            on_commit_once(("refresh", 1), lambda: ran.append("org 1"))
        on_commit_once(("refresh", 2), lambda: ran.append("org 2"))
        assert ran == [], "nothing before the commit"
    assert ran == ["org 1", "org 2"]


def test_a_rolled_back_savepoint_drops_its_callback_and_the_key_can_be_queued_again():
    ran = []
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            on_commit_once("link", lambda: ran.append("dropped"))
            raise RuntimeError
        on_commit_once("link", lambda: ran.append("kept"))
    assert ran == ["kept"]


def test_a_rolled_back_transaction_runs_nothing_and_outside_one_it_runs_now():
    ran = []
    with pytest.raises(RuntimeError), transaction.atomic():
        on_commit_once("link", lambda: ran.append("rolled back"))
        raise RuntimeError
    assert ran == []
    on_commit_once("link", lambda: ran.append("now"))
    assert ran == ["now"]
