# Import reports keep complete counts and the importer's language; the name key is indexed with the date of birth
# (the import's duplicate check looks up (name key, date of birth) pairs per batch).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("beneficiaries", "0003_search_trigram_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="duplicate_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="importjob",
            name="error_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="importjob",
            name="finished_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="importjob",
            name="language",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AlterField(
            model_name="beneficiary",
            name="name_key",
            field=models.CharField(default="", editable=False, max_length=200),
        ),
        migrations.AddIndex(
            model_name="beneficiary",
            index=models.Index(fields=["name_key", "date_of_birth"], name="benef_name_key_dob"),
        ),
    ]
