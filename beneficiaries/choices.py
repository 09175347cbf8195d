"""Choices of the beneficiaries app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CategoryCode(models.TextChoices):
    """The beneficiary categories of MOU §4 (asylum-seekers and rejected asylum-seekers counted apart)."""

    REFUGEE = "refugee", _("Refugee")
    MIGRANT = "migrant", _("Migrant")
    ASYLUM_SEEKER = "asylum_seeker", _("Asylum-seeker")
    REJECTED_ASYLUM_SEEKER = "rejected_asylum_seeker", _("Rejected asylum-seeker")
    RETURNEE = "returnee", _("Returnee")
    IDP = "idp", _("Internally displaced person")
    AFFECTED_LOCAL_POPULATION = "affected_local_population", _("Affected local population")


class MandateRole(models.TextChoices):
    LEAD = "lead", _("Lead")
    SERVICES = "services", _("Services")
    INTEREST = "interest", _("Interest")
    SELECTIVE = "selective", _("Selective")
    INFORMED = "informed", _("Kept informed")
    GENERAL = "general", _("General concern")


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class SpecificNeed(models.TextChoices):
    """A short fixed list (no medical details)."""

    UNACCOMPANIED_CHILD = "unaccompanied_child", _("Unaccompanied or separated child")
    SINGLE_PARENT = "single_parent", _("Single parent")
    OLDER_PERSON = "older_person", _("Older person at risk")
    DISABILITY = "disability", _("Disability")
    SERIOUS_MEDICAL_CONDITION = "serious_medical_condition", _("Serious medical condition")
    SURVIVOR_OF_VIOLENCE = "survivor_of_violence", _("Survivor of violence or torture")
    WOMAN_AT_RISK = "woman_at_risk", _("Woman at risk")
    LEGAL_PROTECTION_NEEDS = "legal_protection_needs", _("Legal and physical protection needs")


class DocumentType(models.TextChoices):
    PASSPORT = "passport", _("Passport")
    NATIONAL_ID = "national_id", _("National identity card")
    TRAVEL_DOCUMENT = "travel_document", _("Travel document")
    LAISSEZ_PASSER = "laissez_passer", _("Laissez-passer")
    BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")
    ASYLUM_SEEKER_CERTIFICATE = "asylum_seeker_certificate", _("Asylum-seeker certificate")
    REFUGEE_ID = "refugee_id", _("Refugee identity card")
    OTHER = "other", _("Other")


class SharingBasis(models.TextChoices):
    """Legitimate basis recorded before a record is shared with the other agency."""

    NONE = "none", _("No basis recorded: not shared")
    CONSENT = "consent", _("Consent of the person")
    INTER_AGENCY_ARRANGEMENT = (
        "inter_agency_arrangement",
        _("Inter-agency arrangement (Letter of 16 January 2003: pre-departure lists)"),
    )
    VITAL_INTEREST = "vital_interest", _("Vital interest of the person")
    OTHER = "other", _("Other basis")


class Relationship(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse or partner")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    SIBLING = "sibling", _("Sibling")
    GRANDCHILD = "grandchild", _("Grandchild")
    OTHER_RELATIVE = "other_relative", _("Other relative")
    NON_RELATIVE = "non_relative", _("Non-relative")
