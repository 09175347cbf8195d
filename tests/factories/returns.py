"""Return cases for tests, opened and moved through the services."""

import datetime as dt

from django.utils import timezone

from returns import services
from returns.choices import ReturnKind
from tests.factories.beneficiaries import person


def case(office, actor, *, kind=ReturnKind.AVR_ASYLUM_SEEKER, principal=None, **fields):
    principal = principal or person(office, actor=actor)
    values = {"country_of_departure": office.country or "DE", "country_of_return": "AF"}
    values.update(fields)
    return services.return_case_open(actor=actor, kind=kind, lead_office=office, principal=principal, **values)


def move(c, actor, *names, **inputs):
    for name in names:
        c = services.return_case_move(actor=actor, case=c, transition=name, reason=inputs.pop("reason", "ok"), **inputs)
    return c


def scheduled(office, actor, *, days=10, **fields):
    """A case at 'departure scheduled', fit to travel, departure in `days` days."""
    c = case(office, actor, fit_to_travel=True, **fields)
    c = move(c, actor, "start_counselling", "start_preparing")
    return services.return_case_move(
        actor=actor,
        case=c,
        transition="schedule_departure",
        expected_departure_date=timezone.localdate() + dt.timedelta(days=days),
    )
