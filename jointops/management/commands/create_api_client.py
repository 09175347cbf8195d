"""manage.py create_api_client --name NAME --office CODE --scope SCOPE [--scope ...] [--expires-days N]

Creates a partner system's credentials through services.api_client_create (actor: the system) and prints the
token once, alone on standard output (so `TOKEN=$(manage.py create_api_client ...)` works); what was created
goes to standard error. Bad input (unknown office or scope, blank name, bad expiry) exits non-zero, writes nothing.
"""

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from jointops import access, services
from jointops.exceptions import DomainError
from jointops.models import Office

MAX_EXPIRES_DAYS = 10 * 366  # ten years: beyond that a token outlives any partner agreement


class Command(BaseCommand):
    help = "Create an API client (partner system) bound to an office, and print its token once."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Name of the partner system, e.g. 'MiMOSA Kabul'.")
        parser.add_argument("--office", required=True, help="Code of the office the client acts for, e.g. IOM-AF-KBL.")
        parser.add_argument(
            "--scope",
            dest="scopes",
            action="append",
            required=True,
            metavar="SCOPE",
            help=f"A scope to grant; repeat for several. Known: {', '.join(access.all_scopes())}.",
        )
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            help=f"Days until the token expires (1 to {MAX_EXPIRES_DAYS}); default API_TOKEN_DEFAULT_DAYS.",
        )

    def handle(self, *args, name: str, office: str, scopes: list[str], expires_days: int | None, **options):
        code = office.strip().upper()
        office_obj = Office.objects.select_related("organisation").filter(code=code).first()
        if office_obj is None:
            raise CommandError(_("--office: no office has the code “%(code)s”.") % {"code": code})
        days = settings.API_TOKEN_DEFAULT_DAYS if expires_days is None else expires_days
        if not 1 <= days <= MAX_EXPIRES_DAYS:
            raise CommandError(
                _("--expires-days: give a number of days from 1 to %(max)d.") % {"max": MAX_EXPIRES_DAYS}
            )
        try:
            client, token = services.api_client_create(
                actor=None,
                name=name,
                office=office_obj,
                scopes=[scope.strip() for scope in scopes],
                expires_at=timezone.now() + dt.timedelta(days=days),
            )
        except DomainError as exc:
            option = {"scopes": "--scope", "expires_at": "--expires-days"}.get(exc.field, f"--{exc.field or 'name'}")
            raise CommandError(f"{option}: {exc.message}") from exc
        self.stderr.write(
            _(
                "Created API client “%(name)s” (id %(id)s) for office %(office)s with scopes %(scopes)s, "
                "expiring %(expires)s. Its token follows; it is shown only this once, store it now:"
            )
            % {
                "name": client.name,
                "id": client.pk,
                "office": office_obj.code,
                "scopes": ", ".join(client.scopes),
                "expires": f"{client.expires_at:%Y-%m-%d %H:%M %Z}",
            },
            style_func=self.style.SUCCESS,
        )
        self.stdout.write(token)
