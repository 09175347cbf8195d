"""Build the pre-departure lists now (what Celery beat does daily at PRE_DEPARTURE_LIST_TIME)."""

from django.core.management.base import BaseCommand, CommandError

from jointops.models import Office
from notifications import listing
from notifications.choices import Trigger


class Command(BaseCommand):
    help = "Build the pre-departure name lists IOM → UNHCR now (Letter of 16 January 2003); deliveries follow."

    def add_arguments(self, parser):
        parser.add_argument("--office", help="Code of one IOM office (default: every IOM office with a counterpart)")

    def handle(self, *args, office=None, **options):
        iom_office = None
        if office:
            iom_office = Office.objects.filter(code=office.upper(), organisation__code="IOM").first()
            if iom_office is None:
                raise CommandError(f"--office: no IOM office with the code {office!r}.")
            sender = listing.sending_offices().get(iom_office.pk)
            if sender is None:
                raise CommandError(f"--office: {iom_office.code} has no UNHCR counterpart to send a list to.")
            iom_office = sender[0]
        built = listing.build_lists(actor=None, trigger=Trigger.COMMAND, iom_office=iom_office)
        for pdl in built:
            self.stdout.write(f"{pdl.reference}: {pdl.entries.count()} entries for {pdl.unhcr_office.code}")
        self.stdout.write(f"{len(built)} list(s) built.")
