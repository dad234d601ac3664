"""The application's database role can read and append to the audit trail and nothing more
(issue 15, finding 2): the test database is migrated by the owner, which grants the role
named by DATABASE_APP_ROLE its privileges (advocacy.dbroles); here the product's own code
runs as that role on a connection of its own, as the web and worker processes do."""

from __future__ import annotations

import contextlib

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import ProgrammingError, connection, connections, transaction
from django.urls import reverse

from accounts.models import Role, Team
from advocacy import audit, dbroles
from compliance.models import AuditEntry
from compliance.services.audit import verify_chain
from tests.accounts.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db(transaction=True)
TABLE = AuditEntry._meta.db_table


@contextlib.contextmanager
def as_app_role():
    """`django.db.connection` is, for what runs inside, a connection as the application role."""
    owner = connections["default"]
    app = connections.create_connection("default")
    app.settings_dict = {**owner.settings_dict, "USER": settings.DATABASE_APP_ROLE, "PASSWORD": ""}
    connections["default"] = app
    try:
        yield app
    finally:
        app.close()
        connections["default"] = owner


def _denied(sql: str, params=None) -> str:
    """Run `sql` as the application role; return PostgreSQL's refusal."""
    with pytest.raises(ProgrammingError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(refused.value)


@pytest.fixture
def org_with_entries():
    org = OrganizationFactory()
    with audit.acting_as(label="test"):
        audit.record("test.first", organization_id=org.pk, target_type="thing", target_id="1")
    return org


def test_the_role_is_set_up_and_is_not_the_owner():
    assert settings.DATABASE_APP_ROLE == "advocacy_app"
    owner = dbroles.table_protection(connection, TABLE)
    assert owner.role != settings.DATABASE_APP_ROLE and not owner.append_only
    with as_app_role():
        app = dbroles.table_protection(connection, TABLE)
    assert app.role == settings.DATABASE_APP_ROLE
    assert (app.owns_table, app.superuser, app.can_update, app.can_delete, app.can_truncate) == (
        False,
        False,
        False,
        False,
        False,
    )
    assert app.append_only


def test_the_product_appends_and_reads_the_trail_as_the_app_role(org_with_entries):
    org = org_with_entries
    with as_app_role(), audit.acting_as(label="test"):
        audit.record("test.second", organization_id=org.pk, target_type="thing", target_id="2")
        assert list(AuditEntry.objects.for_org(org.pk).values_list("action", flat=True).order_by("sequence")) == [
            "test.first",
            "test.second",
        ]
        assert verify_chain(org) is None


def test_the_app_role_cannot_change_delete_or_truncate_entries(org_with_entries):
    with as_app_role():
        assert "permission denied" in _denied(f"UPDATE {TABLE} SET action = 'forged'")
        assert "permission denied" in _denied(f"DELETE FROM {TABLE}")
        assert "permission denied" in _denied(f"TRUNCATE {TABLE}")
        with pytest.raises(ProgrammingError), transaction.atomic():
            AuditEntry.objects.for_org(org_with_entries.pk).update(action="forged")
    assert set(AuditEntry.objects.for_org(org_with_entries.pk).values_list("action", flat=True)) == {"test.first"}


def test_the_app_role_cannot_switch_the_guard_off(org_with_entries):
    with as_app_role():
        assert "must be owner" in _denied(f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL")
        assert "must be owner" in _denied(f"DROP TRIGGER compliance_auditentry_append_only ON {TABLE}")
        assert "permission denied" in _denied("SET session_replication_role = replica")
        assert "must be owner" in _denied(f"ALTER TABLE {TABLE} OWNER TO {settings.DATABASE_APP_ROLE}")


def test_the_app_role_changes_the_products_other_tables():
    org = OrganizationFactory()
    team = Team.objects.create(organization=org, name="Sales")
    with as_app_role():
        Team.objects.for_org(org.pk).filter(pk=team.pk).update(name="Field sales")
        assert Team.objects.for_org(org.pk).get(pk=team.pk).name == "Field sales"
        Team.objects.for_org(org.pk).filter(pk=team.pk).delete()
        assert "permission denied" in _denied("DELETE FROM django_migrations")
    assert not Team.objects.for_org(org.pk).filter(pk=team.pk).exists()


def test_granting_is_refused_to_the_owner_itself_and_is_idempotent():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with pytest.raises(ImproperlyConfigured, match="must run as another role"):
        dbroles.grant_app_role(connection, owner)
    dbroles.grant_app_role(connection, settings.DATABASE_APP_ROLE)  # again, as after each migrate
    with as_app_role():
        assert dbroles.table_protection(connection, TABLE).append_only


def test_the_verify_page_says_how_the_database_role_stands(client, org_with_entries):
    officer = MembershipFactory(organization=org_with_entries, roles=[Role.COMPLIANCE])
    client.force_login(officer.user)
    url = reverse("compliance:audit_verify", kwargs={"org_slug": org_with_entries.slug})
    as_owner = client.get(url).content.decode()
    assert "the database itself does not stop it rewriting the trail" in as_owner
    with as_app_role():
        page = client.get(url).content.decode()
    assert f"as <code>{settings.DATABASE_APP_ROLE}</code>, which may only read and add audit entries" in page
    assert "does not stop it" not in page
