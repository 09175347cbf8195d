"""Fast free-text and fuzzy search on PostgreSQL: pg_trgm GIN indexes on the search text and the name key.

`search_text LIKE '%word%'` (the list's search) and trigram similarity use them at a million people; on SQLite the
same queries run without an index (the embedded default is for small offices and development).
"""

from django.db import migrations

UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS benef_search_text_trgm ON beneficiaries_beneficiary USING gin (search_text gin_trgm_ops)",
]
DOWN = ["DROP INDEX IF EXISTS benef_search_text_trgm"]


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in UP:
            schema_editor.execute(sql)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DOWN:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("beneficiaries", "0002_seed_categories_and_mandates")]

    operations = [migrations.RunPython(up, down)]
