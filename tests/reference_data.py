"""Reference data the data migrations load (UNHCR and IOM, the MOU §4 categories and mandates, the default
retention periods).

A transactional test ends with a flush that empties every table, data migrations' rows included; conftest.py calls
reseed() after each such test so the tests after it find the reference data the app always has.
"""

from importlib import import_module

from django.apps import apps

DATA_MIGRATIONS = [
    "jointops.migrations.0002_seed_founding_organisations",
    "beneficiaries.migrations.0002_seed_categories_and_mandates",
    "privacy.migrations.0002_default_retention_periods",  # issue 8: the default retention periods
]


def reseed() -> None:
    for name in DATA_MIGRATIONS:
        import_module(name).create(apps, None)
