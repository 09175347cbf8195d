"""`manage.py apply_retention [--dry-run]`: apply the retention periods now (issue 8), printing the counts."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from privacy import retention
from privacy.choices import RecordType


class Command(BaseCommand):
    help = "Anonymise the records past their retention period (issue 8); --dry-run only counts them."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what is past its period; change nothing.")

    def handle(self, *args, dry_run: bool = False, **options):
        counts = retention.apply_retention(dry_run=dry_run)
        heading = _("Past their retention period (dry run, nothing changed):") if dry_run else _("Anonymised now:")
        self.stdout.write(heading)
        for record_type in retention.ORDER:
            label = RecordType(record_type).label
            self.stdout.write(f"  {record_type:<20} {counts[str(record_type)]:>8}  {label}")
        self.stdout.write(_("Total: %(total)d") % {"total": sum(counts.values())})
