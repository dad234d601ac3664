"""Legal holds, and the retention guard extended to honour them.

`compliance_retention_guard()` (migration 0003, on content_share, content_shareversion,
content_delivery, compliance_screening and compliance_decision) is replaced: before the
retention check it refuses a DELETE while an active legal hold of the organization covers
the share, even after the retention period. A hold covers a share when every scope it sets
matches: the person (the share's author is the held membership's user), the team (the
share's team, the author's team when they shared), the first day (the share's last activity
is on or after it) and the last day (the share was created on or before it), days taken in
the organization's time zone. The Python mirror is
`compliance.services.retention.check_share_deletable` with
`compliance.selectors.holds.holds_covering`.
"""

import importlib

import django.db.models.deletion
import django.db.models.manager
from django.conf import settings
from django.db import migrations, models


GUARD_WITH_HOLDS = """
CREATE OR REPLACE FUNCTION compliance_retention_guard() RETURNS trigger AS $$
DECLARE
    share_id bigint;
    author bigint;
    share_team bigint;
    first_activity timestamptz;
    last_activity timestamptz;
    zone text;
    years integer;
    hold record;
BEGIN
    IF TG_TABLE_NAME = 'content_share' THEN
        share_id := OLD.id;
        author := OLD.author_id;
        share_team := OLD.team_id;
        first_activity := OLD.created_at;
        last_activity := GREATEST(OLD.submitted_at, OLD.updated_at);
    ELSE
        share_id := OLD.share_id;
        SELECT s.author_id, s.team_id, s.created_at, GREATEST(s.submitted_at, s.updated_at)
            INTO author, share_team, first_activity, last_activity
            FROM content_share s WHERE s.id = share_id;
    END IF;
    IF last_activity IS NULL THEN
        RETURN OLD;
    END IF;
    SELECT o.timezone INTO zone FROM accounts_organization o WHERE o.id = OLD.organization_id;
    SELECT h.name, h.placed_at, COALESCE(u.email, 'someone no longer known') AS placed_by INTO hold
        FROM compliance_legalhold h
        LEFT JOIN accounts_membership m ON m.id = h.membership_id
        LEFT JOIN accounts_user u ON u.id = h.placed_by_id
        WHERE h.organization_id = OLD.organization_id
          AND h.released_at IS NULL
          AND (h.membership_id IS NULL OR m.user_id = author)
          AND (h.team_id IS NULL OR h.team_id = share_team)
          AND (h.date_from IS NULL OR (last_activity AT TIME ZONE COALESCE(zone, 'UTC'))::date >= h.date_from)
          AND (h.date_to IS NULL OR (first_activity AT TIME ZONE COALESCE(zone, 'UTC'))::date <= h.date_to)
        ORDER BY h.placed_at, h.id
        LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'legal hold: share % is under the legal hold ''%'' placed by % on %; % refused on %',
            share_id, hold.name, hold.placed_by, to_char(hold.placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
            TG_OP, TG_TABLE_NAME;
    END IF;
    SELECT p.retention_years INTO years FROM compliance_policy p WHERE p.organization_id = OLD.organization_id;
    years := COALESCE(years, 7);
    IF last_activity + make_interval(years => years) > now() THEN
        RAISE EXCEPTION 'retention: share % and its history are kept until % (period: % years); % refused on %',
            share_id, to_char(last_activity + make_interval(years => years), 'YYYY-MM-DD'), years, TG_OP, TG_TABLE_NAME;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
"""


# A hold is released (recorded), never deleted, and its scope never changes once placed.
HOLD_KEPT = """
CREATE OR REPLACE FUNCTION compliance_legal_hold_kept() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'legal hold: hold % is kept for the record; release it instead of deleting it', OLD.id;
    END IF;
    IF OLD.released_at IS NOT NULL AND NEW.released_at IS DISTINCT FROM OLD.released_at THEN
        RAISE EXCEPTION 'legal hold: hold % was released; place a new hold instead', OLD.id;
    END IF;
    IF (NEW.membership_id, NEW.team_id, NEW.date_from, NEW.date_to, NEW.organization_id)
        IS DISTINCT FROM (OLD.membership_id, OLD.team_id, OLD.date_from, OLD.date_to, OLD.organization_id) THEN
        RAISE EXCEPTION 'legal hold: the scope of hold % cannot change; place a new hold instead', OLD.id;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER compliance_legalhold_kept BEFORE UPDATE OR DELETE ON compliance_legalhold
    FOR EACH ROW EXECUTE FUNCTION compliance_legal_hold_kept();
"""


def guard_with_holds(apps, schema_editor):
    schema_editor.execute(GUARD_WITH_HOLDS, params=None)
    schema_editor.execute(HOLD_KEPT, params=None)


def guard_without_holds(apps, schema_editor):
    schema_editor.execute("DROP TRIGGER IF EXISTS compliance_legalhold_kept ON compliance_legalhold;", params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS compliance_legal_hold_kept();", params=None)
    previous = importlib.import_module("compliance.migrations.0003_retention_guard")
    schema_editor.execute(previous.CREATE_FUNCTION, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_membership_last_share_targets"),
        ("compliance", "0010_supervision"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="policy",
            name="delete_after_retention",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="Delete shares and their history once the retention period ends (legal holds excepted).",
            ),
        ),
        migrations.CreateModel(
            name="LegalHold",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "name",
                    models.CharField(help_text="The matter's name or reference, e.g. Matter 2026-14.", max_length=200),
                ),
                ("reason", models.TextField(help_text="Why the records are held.")),
                (
                    "date_from",
                    models.DateField(blank=True, help_text="First day (organization's time zone).", null=True),
                ),
                ("date_to", models.DateField(blank=True, help_text="Last day (organization's time zone).", null=True)),
                ("placed_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("released_at", models.DateTimeField(blank=True, null=True)),
                ("release_reason", models.TextField(blank=True)),
                ("shares_held_at_release", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "membership",
                    models.ForeignKey(
                        blank=True,
                        help_text="Hold the shares this person authored.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.membership",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organization",
                    ),
                ),
                (
                    "placed_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "released_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        blank=True,
                        help_text="Hold the team's shares.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.team",
                    ),
                ),
            ],
            options={
                "ordering": ["-placed_at"],
                "indexes": [models.Index(fields=["organization", "released_at"], name="legal_hold_org_active_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("membership__isnull", False),
                            ("team__isnull", False),
                            ("date_from__isnull", False),
                            ("date_to__isnull", False),
                            _connector="OR",
                        ),
                        name="legal_hold_has_scope",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("membership__isnull", True), ("team__isnull", True), _connector="OR"),
                        name="legal_hold_person_or_team",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("date_from__isnull", True),
                            ("date_to__isnull", True),
                            ("date_to__gte", models.F("date_from")),
                            _connector="OR",
                        ),
                        name="legal_hold_range_in_order",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("released_at__isnull", True)),
                        fields=("organization", "name"),
                        name="legal_hold_unique_active_name",
                    ),
                ],
            },
            managers=[
                ("objects", django.db.models.manager.Manager()),
                ("base_objects", django.db.models.manager.Manager()),
            ],
        ),
        migrations.RunPython(guard_with_holds, guard_without_holds, elidable=False),
    ]
