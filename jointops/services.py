"""Writes to the shared records. Each service: keyword-only, one transaction, permission-checked, audited.

`actor` is the acting User or ApiClient; None means the system itself (management commands, migrations).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jointops import access
from jointops.audit import acting_as
from jointops.choices import ORGANISATION_WIDE_ROLES, OfficeLevel, Role
from jointops.exceptions import Conflict, PermissionRefused, ValidationFailed
from jointops.models import ApiClient, Consultation, Membership, Office, Organisation, User, hash_token


def require(actor: Any, action: str, resource: str, *, office: Any = None) -> None:
    """Every service's permission check: `actor` None is the system itself (commands, migrations, tasks)."""
    if actor is None:
        return
    access.require(actor, action, resource, office=office)


def full_clean_or_fail(instance, *, exclude: list[str] | None = None, validate_unique: bool = True) -> None:
    """Model validation as a domain error naming the first field at fault (400 in the API, a form error in pages)."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=validate_unique)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ValidationFailed(" ".join(messages), field=None if field == "__all__" else field) from exc


def acting_user(actor: Any) -> User | None:
    """The staff member behind an actor, for `created_by`-style columns (None for partner systems and the system)."""
    return actor if isinstance(actor, User) else None


def _require_organisation_admin(actor: Any, organisation: Organisation) -> None:
    """Creating offices and accounts: administrators of that organisation only."""
    if actor is not None and not access.administers(actor, organisation):
        raise PermissionRefused()


# --- Offices ----------------------------------------------------------------------------------------

OFFICE_FIELDS = ("code", "name", "level", "country", "parent", "counterpart", "is_active")


@transaction.atomic
def office_create(
    *,
    actor: Any,
    organisation: Organisation,
    code: str,
    name: str,
    level: str,
    country: str = "",
    parent: Office | None = None,
    counterpart: Office | None = None,
) -> Office:
    _require_organisation_admin(actor, organisation)
    office = Office(
        organisation=organisation,
        code=code.strip().upper(),
        name=name.strip(),
        level=level,
        country=country or "",
        parent=parent,
        counterpart=counterpart,
    )
    full_clean_or_fail(office)
    with acting_as(actor):
        office.save()
        _link_counterpart(office)
    return office


@transaction.atomic
def office_update(*, actor: Any, office: Office, **changes: Any) -> Office:
    require(actor, access.CHANGE, "office", office=office)
    office = Office.objects.select_for_update().get(pk=office.pk)
    for field, value in changes.items():
        if field not in OFFICE_FIELDS:
            raise ValidationFailed(_("This field cannot be changed."), field=field)
        setattr(office, field, value)
    office.code = office.code.strip().upper()
    full_clean_or_fail(office)
    with acting_as(actor):
        office.save()
        _link_counterpart(office)
    return office


def _link_counterpart(office: Office) -> None:
    """Counterparts are mutual: linking A to B links B to A; whatever pointed at A or B before is unlinked."""
    other = office.counterpart
    stale = Office.objects.filter(counterpart=office).exclude(pk=getattr(other, "pk", None))
    if other is not None:
        stale = stale | Office.objects.filter(counterpart=other).exclude(pk=office.pk)
    for previous in stale:  # a few rows at most; saved one by one so each keeps its history
        previous.counterpart = None
        previous.save(update_fields=["counterpart", "updated_at"])
    if other is not None and other.counterpart_id != office.pk:
        other.counterpart = office
        other.save(update_fields=["counterpart", "updated_at"])


# --- Staff ------------------------------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    actor: Any,
    organisation: Organisation,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
) -> User:
    _require_organisation_admin(actor, organisation)
    user = User(
        organisation=organisation,
        username=username.strip(),
        email=email.strip().lower(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )
    full_clean_or_fail(user, exclude=["password"])
    if User.objects.filter(email__iexact=user.email).exists():
        raise ValidationFailed(_("A user with this e-mail address already exists."), field="email")
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), field="password") from exc
        user.set_password(password)
    else:
        user.set_unusable_password()  # the person sets one through "Forgot your password?"
    with acting_as(actor):
        user.save()
    return user


@transaction.atomic
def user_set_active(*, actor: Any, user: User, is_active: bool) -> User:
    if actor is not None and user.organisation is not None:
        _require_organisation_admin(actor, user.organisation)
    if actor is not None and actor.pk == user.pk and not is_active:
        raise ValidationFailed(_("You cannot deactivate your own account."), field="is_active")
    user = User.objects.select_for_update().get(pk=user.pk)
    user.is_active = is_active
    with acting_as(actor):
        user.save(update_fields=["is_active"])
    if not is_active:
        _end_sessions(user)
    return user


def _end_sessions(user: User) -> None:
    """Kill every session of a disabled account (sign-out everywhere)."""
    from django.contrib.sessions.models import Session

    doomed = [
        s.pk
        for s in Session.objects.filter(expire_date__gt=timezone.now())
        if str(s.get_decoded().get("_auth_user_id")) == str(user.pk)
    ]
    Session.objects.filter(pk__in=doomed).delete()


@transaction.atomic
def membership_set(*, actor: Any, user: User, office: Office, role: str) -> Membership:
    """Give `user` the `role` at `office` (replacing the role they held there)."""
    require(actor, access.CHANGE, "user", office=office)
    if user.organisation_id != office.organisation_id:
        raise ValidationFailed(_("Staff can only hold roles at offices of their own organisation."), field="office")
    role = Role(role)
    if role in ORGANISATION_WIDE_ROLES and office.level != OfficeLevel.HEADQUARTERS:
        # MOU §35: focal points are designated at headquarters.
        raise ValidationFailed(
            _("HQ focal points and administrators are appointed at a headquarters office."), field="role"
        )
    with acting_as(actor):
        membership, created = Membership.objects.get_or_create(user=user, office=office, defaults={"role": role})
        if not created and membership.role != role:
            membership.role = role
            membership.save()
    access.forget(user)
    return membership


@transaction.atomic
def membership_remove(*, actor: Any, membership: Membership) -> None:
    require(actor, access.CHANGE, "user", office=membership.office)
    if membership.role == Role.ADMINISTRATOR:
        others = Membership.objects.filter(
            role=Role.ADMINISTRATOR, office__organisation_id=membership.office.organisation_id, user__is_active=True
        ).exclude(pk=membership.pk)
        if not others.exists():
            raise Conflict(_("This is the organisation's last administrator: appoint another one first."))
    with acting_as(actor):
        membership.delete()
    access.forget(membership.user)


# --- Partner systems --------------------------------------------------------------------------------


@transaction.atomic
def api_client_create(
    *,
    actor: Any,
    name: str,
    office: Office,
    scopes: list[str],
    expires_at: dt.datetime | None = None,
) -> tuple[ApiClient, str]:
    """Create a partner system's credentials. Returns (client, token); the token is shown once, stored hashed."""
    require(actor, access.ADD, "api_client", office=office)
    known = set(access.all_scopes())
    unknown = sorted(set(scopes) - known)
    if unknown:
        raise ValidationFailed(
            _("Unknown scope(s): %(unknown)s. Known scopes: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(sorted(known))},
            field="scopes",
        )
    if not scopes:
        raise ValidationFailed(_("Give the client at least one scope."), field="scopes")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(_("The expiry date must be in the future."), field="expires_at")
    if not name.strip():
        raise ValidationFailed(_("This field is required."), field="name")
    prefix, token = ApiClient.new_token()
    client = ApiClient(
        name=name.strip(),
        organisation=office.organisation,
        office=office,
        scopes=sorted(set(scopes)),
        token_prefix=prefix,
        token_hash=hash_token(token),
        expires_at=expires_at,
        created_by=actor if isinstance(actor, User) else None,
    )
    full_clean_or_fail(client, exclude=["token_prefix", "token_hash"])
    with acting_as(actor):
        try:
            with transaction.atomic():
                client.save()
        except IntegrityError as exc:  # a prefix collision: vanishingly rare, never silent
            raise Conflict(_("Could not create the client; try again.")) from exc
    return client, token


@transaction.atomic
def api_client_revoke(*, actor: Any, client: ApiClient) -> ApiClient:
    require(actor, access.CHANGE, "api_client", office=client.office)
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        with acting_as(actor):
            client.save(update_fields=["revoked_at", "updated_at"])
    return client


def api_client_authenticate(*, token: str) -> ApiClient | None:
    """The usable client holding `token`, or None. Records when it was last used (at most once a minute)."""
    import hmac

    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "jo":
        return None
    client = ApiClient.objects.select_related("organisation", "office").filter(token_prefix=parts[1]).first()
    if client is None or not hmac.compare_digest(client.token_hash, hash_token(token)) or not client.is_usable:
        return None
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at > dt.timedelta(minutes=1):
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client


# --- Consultations between the agencies (MOU §22, §25, §28, §29) ------------------------------------------------


@transaction.atomic
def consultation_record(
    *,
    actor: Any,
    recorded_by_office: Office,
    offices: list[Office],
    held_on: dt.date,
    participants: str,
    subject_kind: str,
    subject: str,
    outcome: str = "",
    linked: Any = None,
) -> Consultation:
    """Record a consultation. Both agencies take part (it is a consultation *between* them); the linked case,
    operation or Letter of Understanding must be one the actor may see."""
    require(actor, access.ADD, "consultation", office=recorded_by_office)
    offices = list({o.pk: o for o in [recorded_by_office, *offices]}.values())
    if not {"UNHCR", "IOM"} <= {o.organisation.code for o in offices}:
        raise ValidationFailed(_("A consultation brings together offices of both UNHCR and IOM."), field="offices")
    if held_on > timezone.localdate() + dt.timedelta(days=366):
        raise ValidationFailed(_("The date is too far in the future."), field="held_on")
    consultation = Consultation(
        recorded_by_office=recorded_by_office,
        held_on=held_on,
        participants=participants.strip(),
        subject_kind=subject_kind,
        subject=subject.strip(),
        outcome=outcome.strip(),
        created_by=actor if isinstance(actor, User) else None,
    )
    if linked is not None:
        from django.contrib.contenttypes.models import ContentType

        manager = type(linked)._default_manager
        visible = manager.visible_to(actor) if actor is not None and hasattr(manager, "visible_to") else manager.all()
        if not visible.filter(pk=linked.pk).exists():
            raise ValidationFailed(_("Link a record you may see."), field="linked")

        consultation.linked_type = ContentType.objects.get_for_model(linked)
        consultation.linked_id = linked.pk
    full_clean_or_fail(consultation, exclude=["created_by"])
    with acting_as(actor):
        consultation.save()
        consultation.offices.set(offices)
    return consultation
