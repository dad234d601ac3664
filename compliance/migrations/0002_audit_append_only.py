"""The database refuses UPDATE and DELETE on audit entries (a PostgreSQL trigger).

TRUNCATE is not blocked: the test runner empties tables between tests with it, and a
database owner who can TRUNCATE can also drop the trigger; the hash chain is what
detects such tampering.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION compliance_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only (% refused on compliance_auditentry)', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER compliance_auditentry_append_only
    BEFORE UPDATE OR DELETE ON compliance_auditentry
    FOR EACH ROW EXECUTE FUNCTION compliance_auditentry_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS compliance_auditentry_append_only ON compliance_auditentry;
DROP FUNCTION IF EXISTS compliance_auditentry_append_only();
"""


def create_trigger(apps, schema_editor):
    schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_trigger, drop_trigger, elidable=False),
    ]
