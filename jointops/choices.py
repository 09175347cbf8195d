"""Choices shared by every app: organisation kinds, office levels, staff roles, API scopes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    UN_AGENCY = "un_agency", _("UN agency / international organisation")
    GOVERNMENT = "government", _("Government")
    NATIONAL_INSTITUTION = "national_institution", _("National institution")
    NGO = "ngo", _("Non-governmental organisation")
    OTHER = "other", _("Other")


class OfficeLevel(models.TextChoices):
    HEADQUARTERS = "hq", _("Headquarters")
    REGIONAL = "regional", _("Regional office")
    COUNTRY = "country", _("Country office")
    FIELD = "field", _("Field office")


class Role(models.TextChoices):
    FIELD_STAFF = "field_staff", _("Field staff")
    OFFICE_MANAGER = "office_manager", _("Office manager")
    # MOU §35: "Each agency shall designate focal points at Headquarters for regular consultations".
    HQ_FOCAL_POINT = "hq_focal_point", _("HQ focal point")
    ADMINISTRATOR = "administrator", _("Administrator")


# Roles whose membership covers every office of the user's organisation (not only the office held).
ORGANISATION_WIDE_ROLES = frozenset({Role.HQ_FOCAL_POINT, Role.ADMINISTRATOR})

# Codes of the two founding parties of the MOU (loaded by a data migration).
UNHCR = "UNHCR"
IOM = "IOM"
FOUNDING_ORGANISATIONS = (UNHCR, IOM)
