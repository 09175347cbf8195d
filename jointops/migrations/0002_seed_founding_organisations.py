"""The two parties to the 1997 MOU, as reference data (MOU §1). Reversible."""

from django.db import migrations

FOUNDING = [
    ("UNHCR", "Office of the United Nations High Commissioner for Refugees", "un_agency"),
    ("IOM", "International Organization for Migration", "un_agency"),
]


def create(apps, schema_editor):
    Organisation = apps.get_model("jointops", "Organisation")
    for code, name, kind in FOUNDING:
        Organisation.objects.update_or_create(code=code, defaults={"name": name, "kind": kind})


def remove(apps, schema_editor):
    Organisation = apps.get_model("jointops", "Organisation")
    Organisation.objects.filter(code__in=[code for code, _, _ in FOUNDING], offices__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("jointops", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
