"""Default retention periods (issue 8), changed by administrators in the Django admin.

Defaults chosen for a case-management system of returns: a person's record five years after their last case
closed (follow-up, appeals, audits), case notes the same, the names on pre-departure lists one year after the
departure (the Letter's purpose — informing UNHCR before departure — is spent by then), uploaded import files
30 days (their content is in the records), the contents of e-mails and webhooks 90 days (retries, disputes).
"""

from django.db import migrations

DEFAULTS = [
    ("person", 1825, "Five years after the last return case closed (follow-up, audits)."),
    ("return_case", 1825, "Five years after the case closed (follow-up, audits)."),
    ("pre_departure_list", 365, "One year after the expected departure (Letter: the list's purpose is spent)."),
    ("import_file", 30, "Thirty days after the import finished (the content is in the records)."),
    ("delivery", 90, "Ninety days after delivery (retries, disputes)."),
]


def create(apps, schema_editor):
    RetentionPolicy = apps.get_model("privacy", "RetentionPolicy")
    for record_type, days, basis in DEFAULTS:
        RetentionPolicy.objects.get_or_create(record_type=record_type, defaults={"days": days, "basis": basis})


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
