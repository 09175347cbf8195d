"""Writes on people and households: register, edit (optimistic locking), change category, documents,
households, share with the other agency, merge duplicates. Each one transaction, permission-checked, audited."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries import matching
from beneficiaries.choices import Relationship, SharingBasis, SpecificNeed
from beneficiaries.models import (
    Beneficiary,
    BeneficiaryCategory,
    BeneficiaryShare,
    CategoryChange,
    Household,
    IdentityDocument,
)
from jointops import access
from jointops.audit import acting_as
from jointops.exceptions import Conflict, StaleVersion, ValidationFailed
from jointops.models import Office
from jointops.services import acting_user, full_clean_or_fail, require

# Fields a caller may set on a person (the rest are derived or set by their own services).
EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "other_names",
    "sex",
    "date_of_birth",
    "date_of_birth_estimated",
    "nationality",
    "country_of_residence",
    "of_concern_to_unhcr",
    "unhcr_registration_number",
    "iom_case_number",
    "government_id",
    "phone",
    "email",
    "address",
    "preferred_language",
    "specific_needs",
    "sharing_basis",
    "consent_date",
    "consent_scope",
    "sharing_basis_note",
)


def derive_keys(person: Beneficiary) -> None:
    """Keep the search and duplicate-detection keys in step with the names and references."""
    person.name_key, person.family_key = matching.keys_for(given_name=person.given_name, family_name=person.family_name)
    person.search_text = matching.search_text_for(
        given_name=person.given_name,
        family_name=person.family_name,
        other_names=person.other_names,
        references=[person.unhcr_registration_number, person.iom_case_number, person.government_id],
    )


def validate_rules(person: Beneficiary, *, today: dt.date | None = None) -> None:
    """Rules beyond the shape of each field. Raises ValidationFailed naming the field. (`today`: for callers that
    check many people at once, e.g. imports.)"""
    if not (person.given_name or "").strip():
        raise ValidationFailed(_("This field is required."), field="given_name")
    if not (person.family_name or "").strip():
        raise ValidationFailed(_("This field is required."), field="family_name")
    today = today or timezone.localdate()
    if person.date_of_birth and person.date_of_birth > today:
        raise ValidationFailed(_("The date of birth cannot be in the future."), field="date_of_birth")
    if person.date_of_birth and person.date_of_birth < dt.date(1900, 1, 1):
        raise ValidationFailed(_("The date of birth is before 1900."), field="date_of_birth")
    unknown = [n for n in person.specific_needs or [] if n not in SpecificNeed.values]
    if not isinstance(person.specific_needs, list) or unknown:
        raise ValidationFailed(
            _("Unknown specific need: %(need)s.") % {"need": ", ".join(map(str, unknown))}, field="specific_needs"
        )
    if person.sharing_basis == SharingBasis.CONSENT and not person.consent_date:
        raise ValidationFailed(_("Record the date consent was given."), field="consent_date")
    if person.consent_date and person.consent_date > today:
        raise ValidationFailed(_("The consent date cannot be in the future."), field="consent_date")
    for field in ("given_name", "family_name", "other_names", "address", "consent_scope", "sharing_basis_note"):
        if "\x00" in (getattr(person, field) or ""):
            raise ValidationFailed(_("Remove the null character from this field."), field=field)


def refuse_anonymised(person: Beneficiary) -> None:
    """Issue 8: an anonymised record is kept for the statistics only and is never edited again (irreversible)."""
    if person.anonymised_at is not None:
        raise ValidationFailed(
            _(
                "Person %(id)s was anonymised (retention period over, or a deletion request granted) and can no "
                "longer be changed."
            )
            % {"id": person.pk}
        )


@transaction.atomic
def beneficiary_register(
    *,
    actor: Any,
    office: Office,
    category: BeneficiaryCategory,
    category_since: dt.date | None = None,
    **fields: Any,
) -> Beneficiary:
    """Register a person at `office`. Likely duplicates are shown to the user beforehand (selectors); saving
    is still allowed, as the issue asks."""
    require(actor, access.ADD, "beneficiary", office=office)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(_("This field cannot be set."), field=sorted(unknown)[0])
    person = Beneficiary(
        office=office,
        organisation_id=office.organisation_id,
        category=category,
        created_by=acting_user(actor),
        **fields,
    )
    validate_rules(person)
    derive_keys(person)
    full_clean_or_fail(person, exclude=["household", "merged_into", "created_by"], validate_unique=False)
    with acting_as(actor):
        person.save()
        CategoryChange.objects.create(
            beneficiary=person,
            category=category,
            effective_date=category_since or timezone.localdate(),
            reason=_("Registered"),
            recorded_by=acting_user(actor),
        )
    return person


@transaction.atomic
def beneficiary_update(*, actor: Any, beneficiary: Beneficiary, version: int, **changes: Any) -> Beneficiary:
    """Change a person's details. `version` is the one the editor loaded: if someone saved in between, the
    change is refused with StaleVersion (nothing silently overwritten)."""
    require(actor, access.CHANGE, "beneficiary", office=beneficiary.office_id)
    person = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    refuse_anonymised(person)  # before the version: the real reason, not "reload and try again"
    if person.version != version:
        raise StaleVersion()
    if person.merged_into_id:
        raise Conflict(_("This record was merged into another; edit that one."))
    for field, value in changes.items():
        if field not in EDITABLE_FIELDS:
            raise ValidationFailed(_("This field cannot be changed here."), field=field)
        setattr(person, field, value)
    validate_rules(person)
    derive_keys(person)
    full_clean_or_fail(person, exclude=["household", "merged_into", "created_by"], validate_unique=False)
    person.version += 1  # the row is locked (select_for_update)
    with acting_as(actor):
        person.save()
    return person


@transaction.atomic
def beneficiary_change_category(
    *, actor: Any, beneficiary: Beneficiary, category: BeneficiaryCategory, effective_date: dt.date, reason: str = ""
) -> CategoryChange:
    """Record a dated change of category (e.g. asylum-seeker → rejected asylum-seeker). The current category is
    the one with the latest effective date; a back-dated change only adds to the history."""
    require(actor, access.CHANGE, "beneficiary", office=beneficiary.office_id)
    if effective_date > timezone.localdate():
        raise ValidationFailed(_("The date cannot be in the future."), field="effective_date")
    person = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    refuse_anonymised(person)
    with acting_as(actor):
        change = CategoryChange.objects.create(
            beneficiary=person,
            category=category,
            effective_date=effective_date,
            reason=reason[:300],
            recorded_by=acting_user(actor),
        )
        latest = person.category_changes.order_by("-effective_date", "-pk").first()
        if latest.category_id != person.category_id:
            person.category_id = latest.category_id
            person.version += 1  # the row is locked (select_for_update)
            person.save(update_fields=["category", "version", "updated_at"])
    return change


@transaction.atomic
def document_add(
    *,
    actor: Any,
    beneficiary: Beneficiary,
    document_type: str,
    number: str,
    issuing_country: str = "",
    expiry_date: dt.date | None = None,
) -> IdentityDocument:
    require(actor, access.CHANGE, "beneficiary", office=beneficiary.office_id)
    refuse_anonymised(beneficiary)
    document = IdentityDocument(
        beneficiary=beneficiary,
        document_type=document_type,
        number=number.strip(),
        issuing_country=issuing_country or "",
        expiry_date=expiry_date,
    )
    if not document.number:
        raise ValidationFailed(_("This field is required."), field="number")
    full_clean_or_fail(document, validate_unique=False)
    with acting_as(actor):
        document.save()
        _touch(beneficiary)
    return document


def _touch(beneficiary: Beneficiary) -> None:
    """A change to what hangs off a person (documents) is a change of the person for partners that sync with
    `updated_since` and for editors holding an older version."""
    person = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    person.version += 1  # the row is locked
    person.save(update_fields=["version", "updated_at"])


@transaction.atomic
def document_remove(*, actor: Any, document: IdentityDocument) -> None:
    require(actor, access.CHANGE, "beneficiary", office=document.beneficiary.office_id)
    with acting_as(actor):
        document.delete()
        _touch(document.beneficiary)


# --- Households -------------------------------------------------------------------------------------


@transaction.atomic
def household_create(*, actor: Any, head: Beneficiary, notes: str = "") -> Household:
    """A household at the head's office, with the head as its first member."""
    require(actor, access.CHANGE, "beneficiary", office=head.office_id)
    if head.household_id:
        raise Conflict(_("This person already belongs to a household."))
    with acting_as(actor):
        household = Household.objects.create(
            office_id=head.office_id,
            reference=f"HH-{head.office.code}-{secrets.token_hex(4).upper()}",
            head=head,
            notes=notes,
        )
        head = Beneficiary.objects.select_for_update().get(pk=head.pk)
        head.household, head.relationship_to_head = household, Relationship.HEAD
        head.version += 1  # the row is locked (select_for_update)
        head.save(update_fields=["household", "relationship_to_head", "version", "updated_at"])
    return household


@transaction.atomic
def household_add_member(*, actor: Any, household: Household, beneficiary: Beneficiary, relationship: str) -> None:
    require(actor, access.CHANGE, "beneficiary", office=household.office_id)
    require(actor, access.CHANGE, "beneficiary", office=beneficiary.office_id)
    if relationship not in Relationship.values or relationship == Relationship.HEAD:
        raise ValidationFailed(_("Choose the relationship to the head of household."), field="relationship")
    person = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    if person.household_id and person.household_id != household.pk:
        raise Conflict(_("This person already belongs to another household."))
    with acting_as(actor):
        person.household = household
        person.relationship_to_head = relationship
        person.version += 1  # the row is locked (select_for_update)
        person.save(update_fields=["household", "relationship_to_head", "version", "updated_at"])


@transaction.atomic
def household_remove_member(*, actor: Any, household: Household, beneficiary: Beneficiary) -> None:
    require(actor, access.CHANGE, "beneficiary", office=household.office_id)
    person = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    household = Household.objects.get(pk=household.pk)
    if person.household_id != household.pk:
        raise ValidationFailed(_("This person is not a member of the household."), field="beneficiary")
    if household.head_id == person.pk:
        raise Conflict(_("Name another head of household before removing this one."))
    with acting_as(actor):
        person.household = None
        person.relationship_to_head = ""
        person.version += 1  # the row is locked (select_for_update)
        person.save(update_fields=["household", "relationship_to_head", "version", "updated_at"])


# --- Sharing with the other agency ------------------------------------------------------------------


def sharing_basis_problem(beneficiary: Beneficiary) -> None:
    """Refuse (ValidationFailed naming the field) unless the record holds the recorded legitimate basis for sharing it
    with the other agency. Issue 8 (legitimate basis): a record is shared only on the person's consent, recorded with
    its date AND its scope (UNHCR data protection policy, IOM Data Protection Principles: consent, specific). The
    inter-agency arrangement of the Letter of 16 January 2003 is the other basis, and it covers the pre-departure lists
    only (notifications/listing.py) — the one channel that sends names to UNHCR without consent; no other basis
    (vital interest, other) shares a whole record."""
    basis = beneficiary.sharing_basis
    if basis == SharingBasis.NONE:
        raise ValidationFailed(
            _("Record the legitimate basis for sharing (consent or another basis) before sharing."),
            field="sharing_basis",
        )
    if basis != SharingBasis.CONSENT:
        raise ValidationFailed(
            _(
                "A record is shared with the other agency only with the person's consent (with its date and scope); "
                "the Letter's inter-agency arrangement covers the pre-departure lists only."
            ),
            field="sharing_basis",
        )
    if not beneficiary.consent_date:
        raise ValidationFailed(_("Record the date consent was given."), field="consent_date")
    if not (beneficiary.consent_scope or "").strip():
        raise ValidationFailed(
            _("Record the scope of the consent (what the person agreed to share, with whom)."), field="consent_scope"
        )


@transaction.atomic
def beneficiary_share(*, actor: Any, beneficiary: Beneficiary, office: Office) -> BeneficiaryShare:
    """Share a record with an office of the other agency — only on a recorded legitimate basis."""
    require(actor, access.CHANGE, "beneficiary", office=beneficiary.office_id)
    refuse_anonymised(beneficiary)
    if office.organisation_id == beneficiary.organisation_id:
        raise ValidationFailed(_("Share with an office of the other agency."), field="office")
    sharing_basis_problem(beneficiary)
    with acting_as(actor):
        share, created = BeneficiaryShare.objects.get_or_create(
            beneficiary=beneficiary,
            office=office,
            defaults={"basis": beneficiary.sharing_basis, "shared_by": acting_user(actor)},
        )
        if not created and share.revoked_at:
            share.revoked_at = None
            share.basis = beneficiary.sharing_basis
            share.save(update_fields=["revoked_at", "basis"])
    return share


# --- Merging duplicates -----------------------------------------------------------------------------

_NOT_REPOINTED = {"merged_into", "headed_household"}


@transaction.atomic
def beneficiary_merge(*, actor: Any, survivor: Beneficiary, duplicate: Beneficiary) -> Beneficiary:
    """Merge `duplicate` into `survivor`: everything linked to the duplicate (documents, category history,
    case memberships, shares...) moves to the survivor; the duplicate stays, marked merged, with its own audit
    trail. Every model that points at a person is covered, present and future."""
    if survivor.pk == duplicate.pk:
        raise ValidationFailed(_("Choose two different records."), field="duplicate")
    require(actor, access.CHANGE, "beneficiary", office=survivor.office_id)
    require(actor, access.CHANGE, "beneficiary", office=duplicate.office_id)
    first, second = sorted([survivor.pk, duplicate.pk])
    locked = {p.pk: p for p in Beneficiary.objects.select_for_update().filter(pk__in=[first, second])}
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    refuse_anonymised(survivor)
    refuse_anonymised(duplicate)
    if survivor.merged_into_id or duplicate.merged_into_id:
        raise Conflict(_("One of these records was already merged."))
    with acting_as(actor):
        for relation in Beneficiary._meta.related_objects:
            if relation.name in _NOT_REPOINTED or relation.related_model._meta.app_label == "simple_history":
                continue
            if relation.related_model.__name__.startswith("Historical") or relation.many_to_many:
                continue
            model, field = relation.related_model, relation.field.name
            try:
                with transaction.atomic():
                    model._default_manager.filter(**{field: duplicate}).update(**{field: survivor})
            except IntegrityError as exc:
                raise Conflict(
                    _("Both records appear in the same %(what)s; resolve that first.")
                    % {"what": model._meta.verbose_name}
                ) from exc
        if duplicate.household_id and not survivor.household_id:
            survivor.household_id, survivor.relationship_to_head = (
                duplicate.household_id,
                duplicate.relationship_to_head,
            )
        names = [survivor.other_names, f"{duplicate.given_name} {duplicate.family_name}", duplicate.other_names]
        survivor.other_names = "\n".join(dict.fromkeys(n.strip() for n in "\n".join(names).splitlines() if n.strip()))
        for ref in ("unhcr_registration_number", "iom_case_number", "government_id"):
            if not getattr(survivor, ref) and getattr(duplicate, ref):
                setattr(survivor, ref, getattr(duplicate, ref))
        derive_keys(survivor)
        survivor.version += 1  # the row is locked (select_for_update)
        survivor.save()
        duplicate.merged_into = survivor
        duplicate.version += 1  # the row is locked (select_for_update)
        duplicate.save(update_fields=["merged_into", "version", "updated_at"])
    return survivor
