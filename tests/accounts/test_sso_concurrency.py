"""Two first sign-ins through an organization's provider for the same new address at once,
each on its own database connection (two threads): one user, one membership, no error."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Membership, User
from accounts.services.sso import provision_sso_member
from tests.accounts.factories import OrganizationFactory, SignupDomainFactory, SsoConfigurationFactory
from tests.helpers import thread_on_own_connection

pytestmark = pytest.mark.django_db(transaction=True)


def blocked_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_two_first_sign_ins_of_one_address_at_once_make_one_member():
    org = OrganizationFactory(slug="acme")
    SignupDomainFactory(organization=org, domain="acme.test", verified_at=timezone.now())
    config = SsoConfigurationFactory(organization=org, is_enabled=True, attribute_mapping={"team": "department"})
    attributes = {"email": "ada@acme.test", "name": "Ada", "team": "Engineering", "roles": ["employee"], "raw": {}}
    first_inserted, first_may_commit = threading.Event(), threading.Event()
    results: dict = {}

    def first():
        with transaction.atomic():
            user = provision_sso_member(config=config, attributes=attributes)
            first_inserted.set()  # its user, membership and team exist, not committed yet
            first_may_commit.wait(timeout=30)
        return user

    def second():
        first_inserted.wait(timeout=30)
        return provision_sso_member(config=config, attributes=attributes)  # waits on the first's rows

    threads = {name: thread_on_own_connection(fn, results, name) for name, fn in (("first", first), ("second", second))}
    threads["first"].start()
    threads["second"].start()
    first_inserted.wait(timeout=30)
    while not blocked_on_a_lock() and threads["second"].is_alive():
        pass  # the second sign-in is now waiting on the first's uncommitted rows
    first_may_commit.set()
    for thread in threads.values():
        thread.join(timeout=30)
    assert isinstance(results["first"], User), results
    assert isinstance(results["second"], User), results
    assert results["first"].pk == results["second"].pk
    assert User.objects.filter(email__iexact="ada@acme.test").count() == 1
    assert Membership.objects.for_org(org).filter(user=results["first"]).count() == 1
