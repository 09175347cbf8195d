"""Demo people for `manage.py seed_demo`: a few households in each demo country, registered through the services."""

from __future__ import annotations

import datetime as dt

from beneficiaries import services
from beneficiaries.models import Beneficiary, BeneficiaryCategory

# office, given, family, sex, birth date, nationality, category, of concern to UNHCR, other spellings
PEOPLE = [
    ("IOM-DE-BER", "Mohammad", "Ahmadi", "male", dt.date(1988, 3, 14), "AF", "asylum_seeker", True, "Muhammad Ahmadi"),
    ("IOM-DE-BER", "Fatemeh", "Ahmadi", "female", dt.date(1991, 7, 2), "AF", "asylum_seeker", True, "Fatima Ahmadi"),
    ("IOM-DE-BER", "Hamid", "Karimi", "male", dt.date(1979, 1, 30), "AF", "rejected_asylum_seeker", False, ""),
    ("IOM-DE-BER", "Abdullah", "Rahimi", "male", dt.date(1995, 11, 5), "AF", "migrant", False, ""),
    ("IOM-AF-KBL", "Gul", "Noori", "female", dt.date(1983, 4, 21), "AF", "returnee", False, ""),
    ("IOM-AF-HRT", "Zahra", "Hosseini", "female", dt.date(2001, 9, 9), "AF", "idp", False, "Zahra Husaini"),
    ("UNHCR-DE-BER", "Yusuf", "Haile", "male", dt.date(1993, 2, 17), "ER", "refugee", True, "Youssef Haile"),
    ("UNHCR-AF-KBL", "Khalid", "Sultani", "male", dt.date(1975, 12, 1), "AF", "returnee", True, "Khaled Sultani"),
]


def seed_people(demo) -> None:
    categories = {c.code: c for c in BeneficiaryCategory.objects.all()}
    for office_code, given, family, sex, dob, nationality, category, concern, other in PEOPLE:
        office = demo.offices[office_code]
        if Beneficiary.objects.filter(office=office, given_name=given, family_name=family).exists():
            continue
        services.beneficiary_register(
            actor=None,
            office=office,
            category=categories[category],
            category_since=dt.date(2025, 1, 15),
            given_name=given,
            family_name=family,
            other_names=other,
            sex=sex,
            date_of_birth=dob,
            nationality=nationality,
            country_of_residence=office.country,
            of_concern_to_unhcr=concern,
        )
        demo.created += 1


SEEDERS = [seed_people]
