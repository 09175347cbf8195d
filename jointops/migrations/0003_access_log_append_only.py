"""The access log is append-only in the database itself, not only in the ORM: UPDATE and DELETE are refused.

Accountability (RELIABILITY.md, "Access log ... append-only"): not even a raw SQL statement from the app can
rewrite who read what. Reversible (dropping the triggers), for developers only.
On SQLite (the embedded default) only UPDATE is refused in the database: Django's test runner empties tables with
DELETE there (PostgreSQL uses TRUNCATE, which row triggers do not see); the ORM refuses deletes on both.
"""

from django.db import migrations

TABLE = "jointops_accesslog"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION jointops_accesslog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'jointops_accesslog is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER jointops_accesslog_no_update BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION jointops_accesslog_append_only();
"""
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS jointops_accesslog_no_update ON {TABLE};
DROP FUNCTION IF EXISTS jointops_accesslog_append_only();
"""
SQLITE_UP = [
    f"CREATE TRIGGER jointops_accesslog_no_update BEFORE UPDATE ON {TABLE} "
    "BEGIN SELECT RAISE(ABORT, 'jointops_accesslog is append-only'); END;",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS jointops_accesslog_no_update;",
]


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [POSTGRES_UP] if vendor == "postgresql" else SQLITE_UP if vendor == "sqlite" else []
    for sql in statements:
        schema_editor.execute(sql)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [POSTGRES_DOWN] if vendor == "postgresql" else SQLITE_DOWN if vendor == "sqlite" else []
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("jointops", "0002_seed_founding_organisations")]

    operations = [migrations.RunPython(up, down)]
