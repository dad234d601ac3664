"""Raw clicks partitioned by month of their local day (issue 21, point 6).

The table is rebuilt as `PARTITION BY RANGE (day)`: one partition a month
(`analytics_click_YYYY_MM`) plus `analytics_click_default`, which catches a click whose month
has no partition yet so that an insert never fails. The partitions are made for every month
that holds clicks and for this month and the next AHEAD; the rows are copied and the old
table dropped, in the migration's transaction. `day` and not `at` is the key because every
reader selects by local day (the rollups' rebuild, the advocate stats, the retention), so
they read only the months they name, and because PostgreSQL wants the partition key in
every unique index: the primary key becomes (id, day) and the one-unique-click-per-visitor
index already holds `day`. No foreign key points at the clicks (checked when written).

Two functions, owned by the role that migrates and run with its rights (SECURITY DEFINER),
let the application's role, which owns nothing and may not create or drop tables
(advocacy.dbroles), make and drop month partitions and nothing else:
`analytics_click_partition(month)` creates a month's partition when missing (moving the
rows the default partition held for it), and `analytics_click_drop_partition(month)` drops
one, refusing a month less than a year old (the shortest retention). Both pin search_path.
"""

from django.db import migrations, models

AHEAD = 3  # months made ahead here; analytics.services.click_partitions keeps it so

FUNCTIONS = """
CREATE FUNCTION analytics_click_partition(month date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    lo date := date_trunc('month', month)::date;
    hi date := (date_trunc('month', month) + interval '1 month')::date;
    name text := 'analytics_click_' || to_char(date_trunc('month', month), 'YYYY_MM');
BEGIN
    -- One maker at a time (beat, the seed, a migration); a second one finds the table made.
    PERFORM pg_advisory_xact_lock(hashtext('analytics_click_partition'));
    IF to_regclass(name) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- Built beside the table, then attached: the attach takes a lock that lets inserts
    -- go on, and the CHECK spares it the scan of the new partition.
    EXECUTE format('CREATE TABLE %I (LIKE analytics_click INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (day >= %L AND day < %L)', name, name || '_range', lo, hi);
    EXECUTE format(
        'WITH moved AS (DELETE FROM analytics_click_default WHERE day >= %L AND day < %L RETURNING *) '
        'INSERT INTO %I SELECT * FROM moved', lo, hi, name);
    EXECUTE format('ALTER TABLE analytics_click ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', name, name || '_range');
    RETURN true;
END
$$;

CREATE FUNCTION analytics_click_drop_partition(month date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    hi date := (date_trunc('month', month) + interval '1 month')::date;
    name text := 'analytics_click_' || to_char(date_trunc('month', month), 'YYYY_MM');
BEGIN
    IF hi > (current_date - interval '1 year')::date THEN
        RAISE EXCEPTION 'the clicks of % are less than a year old (the shortest retention)', name;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_inherits
                   WHERE inhparent = 'analytics_click'::regclass AND inhrelid = to_regclass(name)) THEN
        RETURN false;
    END IF;
    EXECUTE format('DROP TABLE %I', name);
    RETURN true;
END
$$;
"""

# Whole statements, one string each: the functions' bodies hold semicolons and % signs.
FORWARD = [
    *FUNCTIONS.strip().split("\n\n"),
    """
DO $$
DECLARE
    index_name text;
BEGIN
    ALTER TABLE analytics_click RENAME TO analytics_click_unpartitioned;
    ALTER TABLE analytics_click_unpartitioned DROP CONSTRAINT analytics_click_pkey;
    FOR index_name IN SELECT indexname FROM pg_indexes WHERE tablename = 'analytics_click_unpartitioned' LOOP
        EXECUTE format('DROP INDEX %I', index_name);
    END LOOP;
END
$$;

CREATE TABLE analytics_click (
    id uuid NOT NULL,
    at timestamp with time zone NOT NULL,
    day date NOT NULL,
    visitor varchar(32) NOT NULL,
    is_unique boolean NOT NULL,
    network varchar(20) NOT NULL,
    team_key bigint NOT NULL CONSTRAINT analytics_click_team_key_check CHECK (team_key >= 0),
    delivery_id bigint NOT NULL
        CONSTRAINT analytics_click_delivery_id_a1239162_fk_content_delivery_id
        REFERENCES content_delivery (id) DEFERRABLE INITIALLY DEFERRED,
    item_id bigint NOT NULL
        CONSTRAINT analytics_click_item_id_95218229_fk_content_contentitem_id
        REFERENCES content_contentitem (id) DEFERRABLE INITIALLY DEFERRED,
    organization_id bigint NOT NULL
        CONSTRAINT analytics_click_organization_id_c5d9c956_fk_accounts_
        REFERENCES accounts_organization (id) DEFERRABLE INITIALLY DEFERRED,
    discard_reason varchar(16) NOT NULL DEFAULT '',
    CONSTRAINT analytics_click_pkey PRIMARY KEY (id, day)
) PARTITION BY RANGE (day);
CREATE INDEX analytics_click_delivery_id_a1239162 ON analytics_click (delivery_id);
CREATE INDEX analytics_click_organization_id_c5d9c956 ON analytics_click (organization_id);
CREATE UNIQUE INDEX click_one_unique_per_visitor_day ON analytics_click (delivery_id, day, visitor) WHERE is_unique;
CREATE INDEX click_org_day_idx ON analytics_click (organization_id, day);
CREATE TABLE analytics_click_default PARTITION OF analytics_click DEFAULT;

SELECT analytics_click_partition(month::date)
FROM generate_series(
    LEAST((SELECT date_trunc('month', min(day)) FROM analytics_click_unpartitioned), date_trunc('month', current_date)),
    GREATEST((SELECT date_trunc('month', max(day)) FROM analytics_click_unpartitioned),
             date_trunc('month', current_date) + interval 'AHEAD months'),
    interval '1 month'
) AS month;

INSERT INTO analytics_click SELECT id, at, day, visitor, is_unique, network, team_key, delivery_id, item_id,
    organization_id, discard_reason FROM analytics_click_unpartitioned;
DROP TABLE analytics_click_unpartitioned;
""".replace("AHEAD", str(AHEAD)),
]

BACKWARD = """
ALTER TABLE analytics_click RENAME TO analytics_click_partitioned;
ALTER INDEX analytics_click_pkey RENAME TO analytics_click_partitioned_pkey;
ALTER INDEX analytics_click_delivery_id_a1239162 RENAME TO analytics_click_partitioned_delivery;
ALTER INDEX analytics_click_organization_id_c5d9c956 RENAME TO analytics_click_partitioned_organization;
ALTER INDEX click_one_unique_per_visitor_day RENAME TO analytics_click_partitioned_unique;
ALTER INDEX click_org_day_idx RENAME TO analytics_click_partitioned_org_day;
CREATE TABLE analytics_click (LIKE analytics_click_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO analytics_click SELECT * FROM analytics_click_partitioned;
DROP TABLE analytics_click_partitioned;
ALTER TABLE analytics_click ADD CONSTRAINT analytics_click_pkey PRIMARY KEY (id);
ALTER TABLE analytics_click ADD CONSTRAINT analytics_click_delivery_id_a1239162_fk_content_delivery_id
    FOREIGN KEY (delivery_id) REFERENCES content_delivery (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE analytics_click ADD CONSTRAINT analytics_click_item_id_95218229_fk_content_contentitem_id
    FOREIGN KEY (item_id) REFERENCES content_contentitem (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE analytics_click ADD CONSTRAINT analytics_click_organization_id_c5d9c956_fk_accounts_
    FOREIGN KEY (organization_id) REFERENCES accounts_organization (id) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX analytics_click_delivery_id_a1239162 ON analytics_click (delivery_id);
CREATE INDEX analytics_click_organization_id_c5d9c956 ON analytics_click (organization_id);
CREATE UNIQUE INDEX click_one_unique_per_visitor_day ON analytics_click (delivery_id, day, visitor) WHERE is_unique;
CREATE INDEX click_org_day_idx ON analytics_click (organization_id, day);
DROP FUNCTION analytics_click_partition(date);
DROP FUNCTION analytics_click_drop_partition(date);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0016_outcome_index_with_pipeline"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="click",
                    name="pk",
                    field=models.CompositePrimaryKey(
                        "id", "day", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                migrations.AlterField(model_name="click", name="id", field=models.UUIDField(editable=False)),
            ],
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD)],
        ),
        migrations.AddField(
            model_name="activitywatermark",
            name="raw_clicks_from",
            field=models.DateField(
                blank=True,
                help_text="Raw clicks of earlier local days were dropped after the retention period; "
                "their rollups are the only record left, so a rebuild leaves those days alone.",
                null=True,
            ),
        ),
    ]
