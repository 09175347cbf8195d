"""People and households for tests, created through the services (so keys, history and rules apply)."""

import datetime as dt
import itertools

from beneficiaries import services
from beneficiaries.models import Beneficiary, BeneficiaryCategory

_counter = itertools.count(1)


def category(code: str = "asylum_seeker") -> BeneficiaryCategory:
    return BeneficiaryCategory.objects.get(code=code)


def person(office, *, actor=None, category_code: str = "asylum_seeker", **fields) -> Beneficiary:
    """A registered person at `office` (registered by the system unless `actor` is given)."""
    n = next(_counter)
    values = {
        "given_name": f"Given{n}",
        "family_name": f"Family{n}",
        "sex": "female",
        "date_of_birth": dt.date(1990, 1, 1) + dt.timedelta(days=n),
        "nationality": "AF",
        "country_of_residence": office.country or "DE",
    }
    values.update(fields)
    if values.get("sharing_basis") == "consent":  # issue 8: consent shares a record only with its scope recorded
        values.setdefault("consent_scope", "Sharing with the other agency's office")
    return services.beneficiary_register(actor=actor, office=office, category=category(category_code), **values)
