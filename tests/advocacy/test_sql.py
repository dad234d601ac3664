"""The one door to raw SQL (advocacy/sql.py): tenant statements name their organization or
do not run, and no app module opens a cursor or asks the database's vendor by itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advocacy.sql import UnscopedSQL, tenant_bulk_update, tenant_cursor, tenant_dicts, tenant_rows
from tests.accounts.factories import OrganizationFactory, TeamFactory

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("accounts", "content", "compliance", "analytics", "advocacy", "integrations", "networks")
# Modules that may call `.cursor(` or read `connection.vendor`, and why.
ALLOWED = {
    "advocacy/sql.py": "the door itself",
    "advocacy/devdb.py": "connects with the driver before Django is set up, to create the development database",
}

TEAMS = "SELECT name FROM accounts_team WHERE organization_id = %(org)s ORDER BY name"


@pytest.mark.django_db
def test_tenant_rows_fills_the_organization_and_sees_only_its_rows():
    acme, other = OrganizationFactory(), OrganizationFactory()
    TeamFactory(organization=acme, name="Sales")
    TeamFactory(organization=other, name="Elsewhere")
    assert tenant_rows(acme, TEAMS) == [("Sales",)]
    assert tenant_rows(other.pk, TEAMS, {}) == [("Elsewhere",)]
    assert tenant_dicts(acme, "SELECT %(org)s AS org, %(word)s AS word", {"word": "hello"}) == [
        {"org": acme.pk, "word": "hello"}
    ]
    with tenant_cursor(acme) as cursor:
        cursor.execute("SELECT COUNT(*) FROM accounts_team WHERE organization_id = %(org)s")
        assert cursor.fetchone() == (1,)


UNSCOPED = {
    "no placeholder": lambda org: tenant_rows(org, "SELECT name FROM accounts_team"),
    "positional org": lambda org: tenant_rows(org, "SELECT name FROM accounts_team WHERE organization_id = %s"),
    "positional params": lambda org: tenant_rows(org, TEAMS, [org.pk]),
    "another org named": lambda org: tenant_rows(org, TEAMS, {"org": org.pk + 1}),
    "no organization": lambda org: tenant_rows(None, TEAMS),
    "a boolean": lambda org: tenant_rows(True, TEAMS),
    "dicts without placeholder": lambda org: tenant_dicts(org, "SELECT 1"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("call", UNSCOPED.values(), ids=UNSCOPED.keys())
def test_unscoped_sql_raises_and_runs_nothing(call):
    org = OrganizationFactory()
    with CaptureQueriesContext(connection) as queries, pytest.raises(UnscopedSQL):
        call(org)
    assert queries.captured_queries == []


@pytest.mark.django_db
def test_a_tenant_cursor_refuses_a_statement_without_the_organization_before_running_it():
    org = OrganizationFactory()
    with tenant_cursor(org) as cursor, CaptureQueriesContext(connection) as queries:
        with pytest.raises(UnscopedSQL):
            cursor.execute("DELETE FROM accounts_team")
        with pytest.raises(UnscopedSQL):
            cursor.executemany("DELETE FROM accounts_team WHERE id = %(id)s", [{"id": 1}])
    assert queries.captured_queries == []


def _offences(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "cursor":
            found.append(f"{path.relative_to(root)}:{node.lineno} calls .cursor()")
        if isinstance(node, ast.Attribute) and node.attr == "vendor":
            found.append(f"{path.relative_to(root)}:{node.lineno} reads .vendor")
    return found


def test_no_app_module_opens_a_cursor_or_asks_the_vendor():
    offences = []
    for package in APP_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if str(path.relative_to(ROOT)) not in ALLOWED:
                offences += _offences(path)
    assert offences == [], "raw SQL goes through advocacy.sql (tenant_cursor, tenant_rows, ...)"


def test_the_source_check_sees_an_offence(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from django.db import connection\nif connection.vendor:\n    connection.cursor()\n")
    assert [line.split(" ", 1)[1] for line in _offences(sample, tmp_path)] == ["reads .vendor", "calls .cursor()"]


@pytest.mark.django_db
def test_tenant_bulk_update_saves_each_rows_own_values_in_one_statement():
    from content.models import Delivery
    from tests.content.factories import DeliveryFactory

    first = DeliveryFactory()
    second = DeliveryFactory(share__organization=first.organization, share__item=first.share.item)
    bystander = DeliveryFactory(share__organization=first.organization, share__item=first.share.item)
    moment = first.created_at
    first.remote_id, first.attempts, first.published_at = "urn:li:share:1", 3, moment
    second.remote_id, second.attempts, second.published_at = "x-2", 1, None
    with CaptureQueriesContext(connection) as queries:
        assert tenant_bulk_update(first.organization, [first, second], ["remote_id", "attempts", "published_at"]) == 2
    assert len(queries.captured_queries) == 1
    rows = Delivery.objects.for_org(first.organization).order_by("pk")
    assert list(rows.values_list("remote_id", "attempts", "published_at")) == [
        ("urn:li:share:1", 3, moment),
        ("x-2", 1, None),
        (bystander.remote_id, bystander.attempts, bystander.published_at),
    ]


@pytest.mark.django_db
def test_tenant_bulk_update_refuses_another_organizations_row_and_writes_nothing():
    from tests.content.factories import DeliveryFactory

    ours, theirs = DeliveryFactory(), DeliveryFactory()
    ours.remote_id = theirs.remote_id = "changed"
    with CaptureQueriesContext(connection) as queries, pytest.raises(UnscopedSQL):
        tenant_bulk_update(ours.organization, [ours, theirs], ["remote_id"])
    assert queries.captured_queries == []
    theirs.refresh_from_db()
    assert theirs.remote_id == ""
