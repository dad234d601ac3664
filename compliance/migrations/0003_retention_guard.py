"""Nothing in scope of the archive is deleted before the retention period ends.

A trigger on shares and on everything the archive keeps with them (versions, screenings,
decisions, deliveries) refuses a DELETE while the share's last activity
(GREATEST(submitted_at, updated_at)) is younger than the organization's
`compliance_policy.retention_years` (7 without a policy row). PostgreSQL only; the
Python check is `compliance.services.retention.check_share_deletable`.
"""

from django.db import migrations

TABLES = ["content_share", "content_shareversion", "content_delivery", "compliance_screening", "compliance_decision"]

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION compliance_retention_guard() RETURNS trigger AS $$
DECLARE
    share_id bigint;
    last_activity timestamptz;
    years integer;
BEGIN
    IF TG_TABLE_NAME = 'content_share' THEN
        share_id := OLD.id;
        last_activity := GREATEST(OLD.submitted_at, OLD.updated_at);
    ELSE
        share_id := OLD.share_id;
        SELECT GREATEST(s.submitted_at, s.updated_at) INTO last_activity FROM content_share s WHERE s.id = share_id;
    END IF;
    IF last_activity IS NULL THEN
        RETURN OLD;
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


def create(apps, schema_editor):
    schema_editor.execute(CREATE_FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_retention_guard BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION compliance_retention_guard();",
            params=None,
        )


def drop(apps, schema_editor):
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_retention_guard ON {table};", params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS compliance_retention_guard();", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0002_audit_append_only"),
        ("content", "0003_delivery_publishing_state"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
