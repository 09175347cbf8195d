"""The lifecycle rules of a Letter of Understanding, each with its paragraph (MOU §5, §39, §40, §44-§47)."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from jointops import services as jointops_services
from jointops.choices import Role
from jointops.exceptions import Conflict, PermissionRefused, TransitionNotAllowed, ValidationFailed
from letters_of_understanding import content, lifecycle, selectors, services
from letters_of_understanding.choices import (
    Agency,
    AmendmentStatus,
    EventKind,
    HandoverStatus,
    LouStatus,
    PlanStatus,
    ReviewOutcome,
)
from letters_of_understanding.models import HandoverItem, LetterOfUnderstanding, Signature
from tests.factories import letters_of_understanding as f
from tests.factories.jointops import staff

pytestmark = pytest.mark.django_db
TODAY = dt.date.today


def _today():
    return timezone.localdate()


# --- Drafting ---------------------------------------------------------------------------------------------------


def test_create_needs_a_unhcr_and_an_iom_office(world):
    with pytest.raises(ValidationFailed) as exc:
        services.lou_create(
            actor=world.iom_af_staff,
            unhcr_office=world.iom_af,
            iom_office=world.iom_af,
            title="x",
            operational_situation="y",
            start_date=_today(),
        )
    assert exc.value.field == "unhcr_office"


def test_create_by_staff_of_neither_party_is_refused(world):
    with pytest.raises(PermissionRefused):
        f.draft(world, actor=world.iom_de_staff)
    with pytest.raises(PermissionRefused):  # HQ focal points follow the portfolio; the offices draft
        f.draft(world, actor=world.iom_hq_focal)


def test_create_refuses_end_before_start(world):
    with pytest.raises(ValidationFailed) as exc:
        f.draft(world, complete=False, end_date=_today() - dt.timedelta(days=1))
    assert "end date" in str(exc.value.message)
    assert not LetterOfUnderstanding.objects.exists()


def test_draft_is_audited_with_the_drafter(world):
    lou = f.draft(world)
    assert lou.history.earliest().history_user == world.iom_af_staff
    assert [e.kind for e in lou.events.all()] == [EventKind.CREATED]
    assert lou.events.get().agency == Agency.IOM


# --- Signature and entry into force (MOU §44 by analogy) -------------------------------------------------------


def test_in_force_from_the_second_signature_with_version_1_and_a_review_due_in_12_months(world):
    lou = f.draft(world)
    lou = services.lou_sign(actor=world.unhcr_af_manager, lou=lou, signatory_name="Rep", signed_on=_today())
    assert lou.status == LouStatus.PARTLY_SIGNED and lou.text_version == 0
    lou = services.lou_sign(actor=world.iom_af_manager, lou=lou, signatory_name="CoM")
    assert lou.status == LouStatus.IN_FORCE
    assert lou.entered_into_force_on == _today() and lou.text_version == 1
    assert lou.review_due_on == services.add_months(_today(), 12)  # MOU §47
    v1 = lou.versions.get()
    assert v1.content == content.content_of(lou) and v1.content_hash == content.content_hash(v1.content)
    assert set(lou.signatures.values_list("content_hash", flat=True)) == {v1.content_hash}
    assert list(lou.events.values_list("kind", flat=True)) == [
        EventKind.CREATED,
        EventKind.SIGNED,
        EventKind.SIGNED,
        EventKind.ENTERED_INTO_FORCE,
    ]


def test_entry_into_force_is_the_date_of_the_later_signature(world):
    lou = f.draft(world)
    lou = services.lou_sign(
        actor=world.unhcr_af_manager, lou=lou, signatory_name="Rep", signed_on=_today() - dt.timedelta(days=3)
    )
    lou = services.lou_sign(
        actor=world.iom_af_manager, lou=lou, signatory_name="CoM", signed_on=_today() - dt.timedelta(days=1)
    )
    assert lou.entered_into_force_on == _today() - dt.timedelta(days=1)


def test_only_an_office_manager_of_a_party_signs(world):
    lou = f.draft(world)
    with pytest.raises(PermissionRefused) as exc:
        services.lou_sign(actor=world.iom_af_staff, lou=lou, signatory_name="x")
    assert "office manager" in str(exc.value.message)
    for outsider in (world.iom_de_manager, world.iom_hq_focal, world.unhcr_hq_focal, world.iom_admin):
        with pytest.raises(PermissionRefused):
            services.lou_sign(actor=outsider, lou=lou, signatory_name="x")
    assert not Signature.objects.exists()


def test_a_partner_system_never_signs(world):
    client, _token = jointops_services.api_client_create(
        actor=None, name="MiMOSA", office=world.iom_af, scopes=["letters-of-understanding:write"]
    )
    lou = f.draft(world)
    assert lifecycle.acting_party(client, lou) == Agency.IOM  # it may draft and record
    with pytest.raises(PermissionRefused):
        services.lou_sign(actor=client, lou=lou, signatory_name="robot")


def test_incomplete_text_cannot_be_signed_and_the_reason_lists_what_is_missing(world):
    lou = f.draft(world, complete=False)
    with pytest.raises(TransitionNotAllowed) as exc:
        services.lou_sign(actor=world.unhcr_af_manager, lou=lou, signatory_name="Rep")
    message = str(exc.value.message)
    assert "MOU §5" in message
    for part in ("institutional framework", "activity of each agency", "linkages", "funding"):
        assert part in message


def test_an_activity_of_one_agency_only_is_not_enough(world):
    lou = f.draft(world)
    iom_activity = lou.activities.get(agency=Agency.IOM)
    services.lou_row_remove(actor=world.iom_af_staff, lou=lou, collection="activities", row_id=iom_activity.pk)
    with pytest.raises(TransitionNotAllowed, match="each agency"):
        services.lou_sign(actor=world.unhcr_af_manager, lou=lou, signatory_name="Rep")


def test_a_party_signs_once(world):
    lou = f.draft(world)
    services.lou_sign(actor=world.unhcr_af_manager, lou=lou, signatory_name="Rep")
    second_manager = staff(world.unhcr_af, Role.OFFICE_MANAGER, username="unhcr_af_manager2")
    with pytest.raises(TransitionNotAllowed, match="already signed"):
        services.lou_sign(actor=second_manager, lou=lou, signatory_name="Deputy")


def test_signing_on_a_future_date_is_refused(world):
    with pytest.raises(ValidationFailed) as exc:
        services.lou_sign(
            actor=world.unhcr_af_manager, lou=f.draft(world), signatory_name="R", signed_on=_today() + dt.timedelta(1)
        )
    assert exc.value.field == "signed_on"


def test_a_signed_draft_is_frozen_until_reopened_which_voids_the_signature(world):
    lou = services.lou_sign(actor=world.unhcr_af_manager, lou=f.draft(world), signatory_name="Rep")
    with pytest.raises(Conflict, match="reopen"):
        services.lou_update(actor=world.iom_af_staff, lou=lou, version=None, title="Changed")
    with pytest.raises(Conflict):
        services.lou_row_add(
            actor=world.iom_af_staff, lou=lou, collection="funding", agency=Agency.UNHCR, source="UNHCR budget"
        )
    with pytest.raises(ValidationFailed) as exc:
        services.lou_reopen(actor=world.iom_af_manager, lou=lou, reason="")
    assert exc.value.field == "reason"
    lou = services.lou_reopen(actor=world.iom_af_manager, lou=lou, reason="The ministry asked for changes")
    assert lou.status == LouStatus.DRAFT
    voided = Signature.objects.get()
    assert voided.voided_at and voided.void_reason == "The ministry asked for changes"  # kept, never deleted
    services.lou_update(actor=world.iom_af_staff, lou=lou, version=None, title="Changed")
    # Both sign the new text: the new signature binds the new hash.
    services.lou_sign(actor=world.unhcr_af_manager, lou=lou, signatory_name="Rep")
    lou = services.lou_sign(actor=world.iom_af_manager, lou=lou, signatory_name="CoM")
    assert lou.status == LouStatus.IN_FORCE and lou.title == "Changed"
    live = Signature.objects.filter(voided_at__isnull=True)
    assert live.count() == 2 and {s.content_hash for s in live} == {lou.versions.get().content_hash}
    assert voided.content_hash != lou.versions.get().content_hash


def test_stale_version_is_refused(world):
    from jointops.exceptions import StaleVersion

    lou = f.draft(world)
    with pytest.raises(StaleVersion):
        services.lou_update(actor=world.iom_af_staff, lou=lou, version=lou.version - 1, title="x")


def test_abandon_a_draft_but_never_a_letter_in_force(world):
    lou = services.lou_abandon(actor=world.iom_af_manager, lou=f.draft(world), reason="Situation changed")
    assert lou.status == LouStatus.ABANDONED and lou.ended_on == _today()
    with pytest.raises(TransitionNotAllowed):
        services.lou_abandon(actor=world.iom_af_manager, lou=f.in_force(world), reason="x")


# --- Amendments (MOU §46) ---------------------------------------------------------------------------------------


def _proposal(lou, **changes):
    text = content.content_of(lou)
    text.update(changes)
    return text


def test_in_force_the_text_changes_only_through_an_amendment(world):
    lou = f.in_force(world)
    with pytest.raises(Conflict, match="§46"):
        services.lou_update(actor=world.iom_af_staff, lou=lou, version=None, title="Changed")
    with pytest.raises(Conflict, match="§46"):
        services.lou_row_add(actor=world.iom_af_staff, lou=lou, collection="funding", agency="IOM", source="x")


def test_amendment_proposed_by_one_party_approved_by_the_other_makes_version_2(world):
    lou = f.in_force(world)
    proposal = _proposal(
        lou,
        title="Joint return and reintegration programme",
        activities=[
            *content.content_of(lou)["activities"],
            {"kind": "information", "agency": "UNHCR", "description": "Go-and-see visits", "indicators": ""},
        ],
    )
    amendment = services.amendment_propose(
        actor=world.iom_af_staff, lou=lou, content=proposal, rationale="Add information activities"
    )
    assert amendment.proposed_by_agency == Agency.IOM and amendment.base_text_version == 1
    with pytest.raises(TransitionNotAllowed, match="§46"):  # not by the proposing party
        services.amendment_approve(actor=world.iom_af_manager, amendment=amendment)
    with pytest.raises(PermissionRefused):  # a decision is an office manager's act
        services.amendment_approve(actor=world.unhcr_af_staff, amendment=amendment)
    services.amendment_approve(actor=world.unhcr_af_manager, amendment=amendment, note="Agreed in Kabul")
    lou.refresh_from_db()
    assert lou.text_version == 2 and lou.title == "Joint return and reintegration programme"
    assert lou.activities.count() == 3
    v1, v2 = lou.versions.order_by("number")
    assert v1.content["title"] == "Joint return programme, Afghanistan"  # every version kept
    assert v2.content == content.content_of(lou) and v2.content_hash == content.content_hash(v2.content)
    assert v2.amendment == amendment
    comparison = selectors.lou_versions_compare(lou=lou, left=1, right=2)["rows"]
    changed = {row["field"] for row in comparison if row["changed"]}
    assert changed == {"title", "activities"}
    assert any("Go-and-see visits" in line for row in comparison for line in row["right"])
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.APPROVED and amendment.decided_by_agency == Agency.UNHCR


def test_one_open_amendment_at_a_time_and_an_unchanged_text_is_not_an_amendment(world):
    lou = f.in_force(world)
    with pytest.raises(ValidationFailed) as exc:
        services.amendment_propose(actor=world.iom_af_staff, lou=lou, content=_proposal(lou), rationale="nothing")
    assert exc.value.field == "content"
    services.amendment_propose(actor=world.iom_af_staff, lou=lou, content=_proposal(lou, region="x"), rationale="r")
    with pytest.raises(TransitionNotAllowed, match="already awaiting"):
        services.amendment_propose(
            actor=world.unhcr_af_staff, lou=lou, content=_proposal(lou, region="y"), rationale="r"
        )


def test_a_proposed_text_is_validated_field_by_field(world):
    lou = f.in_force(world)
    bad = _proposal(lou)
    bad["activities"] = [*bad["activities"], {"kind": "teleportation", "agency": "IOM", "description": "x"}]
    with pytest.raises(ValidationFailed) as exc:
        services.amendment_propose(actor=world.iom_af_staff, lou=lou, content=bad, rationale="r")
    assert exc.value.field == "activities[2].kind"
    for changes, field in [
        ({"funding": [{"agency": "IOM", "source": "ECHO", "amount": "12.5"}]}, "funding[0].currency"),
        ({"funding": [{"agency": "IOM", "source": "ECHO", "amount": "-1", "currency": "EUR"}]}, "funding[0].amount"),
        ({"start_date": "31/12/2026"}, "start_date"),
        ({"countries": ["ZZ"]}, "countries"),
        ({"categories": ["aliens"]}, "categories"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"secret": "x"}, "secret"),
        ({"secondments": [{"from_agency": "IOM", "position": "Officer", "number": 0}]}, "secondments[0].number"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            services.amendment_propose(
                actor=world.iom_af_staff, lou=lou, content=_proposal(lou, **changes), rationale="r"
            )
        assert exc.value.field == field, changes
    assert not lou.amendments.exists()


def test_reject_needs_a_note_and_withdraw_is_the_proposers(world):
    lou = f.in_force(world)
    a = services.amendment_propose(actor=world.iom_af_staff, lou=lou, content=_proposal(lou, region="x"), rationale="r")
    with pytest.raises(TransitionNotAllowed, match="proposing party"):
        services.amendment_withdraw(actor=world.unhcr_af_staff, amendment=a)
    with pytest.raises(ValidationFailed):
        services.amendment_reject(actor=world.unhcr_af_manager, amendment=a, note="")
    services.amendment_reject(actor=world.unhcr_af_manager, amendment=a, note="Not now")
    a.refresh_from_db()
    assert a.status == AmendmentStatus.REJECTED
    with pytest.raises(Conflict, match="already"):
        services.amendment_approve(actor=world.unhcr_af_manager, amendment=a)
    lou.refresh_from_db()
    assert lou.text_version == 1 and lou.region == ""
    b = services.amendment_propose(actor=world.iom_af_staff, lou=lou, content=_proposal(lou, region="y"), rationale="r")
    services.amendment_withdraw(actor=world.iom_af_staff, amendment=b)
    assert b.__class__.objects.get(pk=b.pk).status == AmendmentStatus.WITHDRAWN


def test_the_database_holds_one_open_amendment_per_letter(world):
    lou = f.in_force(world)
    a = services.amendment_propose(actor=world.iom_af_staff, lou=lou, content=_proposal(lou, region="x"), rationale="r")
    a.pk, a.number = None, 2
    with pytest.raises(IntegrityError), transaction.atomic():
        a.save()


# --- Termination (MOU §45) --------------------------------------------------------------------------------------


def test_notice_takes_effect_at_least_90_days_later(world):
    lou = f.in_force(world)
    with pytest.raises(ValidationFailed) as exc:
        services.lou_serve_notice(
            actor=world.unhcr_af_manager, lou=lou, reason="Funding ends", effective_on=_today() + dt.timedelta(89)
        )
    assert exc.value.field == "effective_on" and "§45" in str(exc.value.message)
    with pytest.raises(PermissionRefused):
        services.lou_serve_notice(actor=world.unhcr_af_staff, lou=lou, reason="Funding ends")
    lou = services.lou_serve_notice(actor=world.unhcr_af_manager, lou=lou, reason="Funding ends")
    assert lou.termination_effective_on == _today() + dt.timedelta(days=90)
    assert lou.termination_notice_by == Agency.UNHCR and lou.status == LouStatus.IN_FORCE
    with pytest.raises(TransitionNotAllowed, match="already served"):
        services.lou_serve_notice(actor=world.iom_af_manager, lou=lou, reason="again")


def test_notice_cannot_be_dated_in_the_future(world):
    with pytest.raises(ValidationFailed) as exc:
        services.lou_serve_notice(
            actor=world.iom_af_manager, lou=f.in_force(world), reason="r", served_on=_today() + dt.timedelta(1)
        )
    assert exc.value.field == "served_on"


def test_termination_takes_effect_on_its_date_once(world):
    lou = services.lou_serve_notice(actor=world.iom_af_manager, lou=f.in_force(world), reason="r")
    untouched = f.in_force(world, title="Another")
    assert services.lou_terminations_take_effect(today=lou.termination_effective_on - dt.timedelta(1)) == []
    assert services.lou_terminations_take_effect(today=lou.termination_effective_on) == [lou.pk]
    assert services.lou_terminations_take_effect(today=lou.termination_effective_on) == []  # idempotent
    lou.refresh_from_db()
    untouched.refresh_from_db()
    assert lou.status == LouStatus.TERMINATED and lou.ended_on == lou.termination_effective_on
    assert untouched.status == LouStatus.IN_FORCE
    assert lou.events.filter(kind=EventKind.TERMINATED).count() == 1


def test_no_amendment_once_termination_has_taken_effect(world):
    long_ago = _today() - dt.timedelta(days=120)
    lou = f.draft(world, start_date=long_ago)
    services.lou_sign(actor=world.unhcr_af_manager, lou=lou, signatory_name="Rep", signed_on=long_ago)
    lou = services.lou_sign(actor=world.iom_af_manager, lou=lou, signatory_name="CoM", signed_on=long_ago)
    lou = services.lou_serve_notice(
        actor=world.iom_af_manager, lou=lou, reason="r", served_on=_today() - dt.timedelta(days=90)
    )
    with pytest.raises(TransitionNotAllowed, match="§45"):
        services.amendment_propose(actor=world.iom_af_staff, lou=lou, content=_proposal(lou, region="x"), rationale="r")


# --- Reviews (MOU §47) ------------------------------------------------------------------------------------------


def test_review_sets_the_next_due_date_at_most_12_months_later(world):
    lou = f.in_force(world)
    with pytest.raises(ValidationFailed) as exc:
        services.lou_record_review(
            actor=world.unhcr_af_staff,
            lou=lou,
            held_on=_today(),
            outcome=ReviewOutcome.CONTINUE,
            summary="Fine",
            next_review_due=services.add_months(_today(), 12) + dt.timedelta(days=1),
        )
    assert exc.value.field == "next_review_due" and "§47" in str(exc.value.message)
    review = services.lou_record_review(
        actor=world.unhcr_af_staff, lou=lou, held_on=_today(), outcome=ReviewOutcome.CONTINUE, summary="Fine"
    )
    lou.refresh_from_db()
    assert review.next_review_due == lou.review_due_on == services.add_months(_today(), 12)
    services.lou_record_review(
        actor=world.iom_af_staff,
        lou=lou,
        held_on=_today(),
        outcome=ReviewOutcome.AMEND,
        summary="Add reintegration",
        next_review_due=_today() + dt.timedelta(days=100),
    )
    lou.refresh_from_db()
    assert lou.review_due_on == _today() + dt.timedelta(days=100)


def test_review_overdue_is_found(world):
    lou = f.in_force(world)
    LetterOfUnderstanding.objects.filter(pk=lou.pk).update(review_due_on=_today() - dt.timedelta(days=1))
    assert list(selectors.review_overdue(LetterOfUnderstanding.objects.all())) == [lou]
    assert not selectors.review_overdue(LetterOfUnderstanding.objects.all(), today=_today() - dt.timedelta(days=2))


def test_add_months_keeps_the_end_of_february():
    assert services.add_months(dt.date(2028, 2, 29), 12) == dt.date(2029, 2, 28)
    assert services.add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)


# --- Phase-out (MOU §39) ----------------------------------------------------------------------------------------


def test_phase_out_needs_a_plan_both_parties_agreed(world):
    lou = f.in_force(world)
    with pytest.raises(TransitionNotAllowed, match="§39"):
        services.lou_start_phase_out(actor=world.iom_af_manager, lou=lou)
    services.phase_out_plan_save(actor=world.iom_af_staff, lou=lou, summary="Hand over to the ministry")
    with pytest.raises(TransitionNotAllowed, match="actions"):
        services.phase_out_plan_agree(actor=world.iom_af_manager, lou=lou)
    services.phase_out_action_add(
        actor=world.iom_af_staff, lou=lou, description="Train", owner_agency="IOM", owner="Ops", due_on=_today()
    )
    plan = services.phase_out_plan_agree(actor=world.iom_af_manager, lou=lou)
    assert plan.status == PlanStatus.DRAFT and plan.iom_agreed_on == _today()
    with pytest.raises(TransitionNotAllowed, match="already agreed"):
        services.phase_out_plan_agree(actor=world.iom_af_manager, lou=lou)
    with pytest.raises(TransitionNotAllowed, match="§39"):
        services.lou_start_phase_out(actor=world.iom_af_manager, lou=lou)
    plan = services.phase_out_plan_agree(actor=world.unhcr_af_manager, lou=lou)
    assert plan.status == PlanStatus.AGREED
    lou = services.lou_start_phase_out(actor=world.unhcr_af_manager, lou=lou)
    assert lou.status == LouStatus.PHASING_OUT and lou.phase_out_started_on == _today()


def test_changing_an_agreed_plan_needs_both_agreements_again_but_progress_does_not(world):
    lou = f.in_force(world)
    plan = f.agreed_plan(world, lou)
    action = plan.actions.get()
    services.phase_out_action_update(actor=world.unhcr_af_staff, lou=lou, action_id=action.pk, done_on=_today())
    plan.refresh_from_db()
    assert plan.status == PlanStatus.AGREED  # recording progress changes nothing agreed
    services.phase_out_action_update(
        actor=world.unhcr_af_staff, lou=lou, action_id=action.pk, due_on=_today() + dt.timedelta(days=5)
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and plan.unhcr_agreed_on is None and plan.iom_agreed_on is None
    assert lou.events.filter(kind=EventKind.PLAN_REOPENED).exists()


def test_ending_soon_or_flagged_without_an_agreed_plan_is_found(world):
    all_lous = LetterOfUnderstanding.objects.all()
    ending = f.in_force(world, end_date=_today() + dt.timedelta(days=60))
    later = f.in_force(world, end_date=_today() + dt.timedelta(days=200))
    assert list(selectors.ending_without_agreed_plan(all_lous)) == [ending]
    assert not selectors.flagged_without_agreed_plan(all_lous).exists()
    later = services.lou_flag_resources(actor=world.unhcr_af_staff, lou=later, note="Donor cut")
    assert later.resources_flagged_by == Agency.UNHCR
    assert list(selectors.flagged_without_agreed_plan(all_lous)) == [later]
    with pytest.raises(ValidationFailed):
        services.lou_flag_resources(actor=world.unhcr_af_staff, lou=later, note=" ")
    f.agreed_plan(world, ending)
    f.agreed_plan(world, later)
    assert not selectors.ending_without_agreed_plan(all_lous).exists()
    assert not selectors.flagged_without_agreed_plan(all_lous).exists()


# --- Conclusion, obligations and handover (MOU §40) -------------------------------------------------------------


def _phasing_out(world):
    lou = f.in_force(world)
    f.agreed_plan(world, lou)
    return services.lou_start_phase_out(actor=world.iom_af_manager, lou=lou)


def test_conclusion_needs_both_obligation_lists_confirmed_and_every_asset_decided(world):
    lou = _phasing_out(world)
    with pytest.raises(TransitionNotAllowed, match="§40") as exc:
        services.lou_conclude(actor=world.iom_af_manager, lou=lou)
    assert "UNHCR" in str(exc.value.message) and "IOM" in str(exc.value.message)
    with pytest.raises(PermissionRefused, match="§40"):  # each agency lists its own
        services.obligation_save(actor=world.unhcr_af_staff, lou=lou, agency="IOM", description="Rent")
    services.obligation_save(
        actor=world.iom_af_staff, lou=lou, agency="IOM", description="Warehouse rent", amount=1200, currency="USD"
    )
    services.lou_confirm_obligations(actor=world.iom_af_manager, lou=lou)
    services.lou_confirm_obligations(actor=world.unhcr_af_manager, lou=lou)  # an empty list, confirmed
    lou.refresh_from_db()
    assert lou.iom_obligations_confirmed_on and lou.unhcr_obligations_confirmed_on
    # A new obligation reopens that party's list.
    services.obligation_save(actor=world.iom_af_staff, lou=lou, agency="IOM", description="Fuel bill")
    lou.refresh_from_db()
    assert lou.iom_obligations_confirmed_on is None
    services.lou_confirm_obligations(actor=world.iom_af_manager, lou=lou)

    truck = services.handover_item_save(
        actor=world.iom_af_staff,
        lou=lou,
        owner_agency="IOM",
        description="Truck",
        value=30000,
        currency="USD",
        donor="ECHO",
        donor_permits_handover=True,
    )
    tents = services.handover_item_save(
        actor=world.unhcr_af_staff,
        lou=lou,
        owner_agency="UNHCR",
        description="Tents",
        quantity=200,
        donor="BPRM",
        donor_restriction="Return to donor stock",
        donor_permits_handover=False,
    )
    with pytest.raises(TransitionNotAllowed, match="§40"):
        services.lou_conclude(actor=world.iom_af_manager, lou=lou)
    with pytest.raises(TransitionNotAllowed, match="donor agreement"):
        services.handover_item_decide(
            actor=world.unhcr_af_staff,
            item=tents,
            decision=HandoverStatus.HANDED_OVER,
            recipient_kind="ngo",
            recipient_name="NGO",
        )
    with pytest.raises(ValidationFailed) as exc:
        services.handover_item_decide(actor=world.iom_af_staff, item=truck, decision=HandoverStatus.HANDED_OVER)
    assert exc.value.field == "recipient_kind"
    services.handover_item_decide(
        actor=world.iom_af_staff,
        item=truck,
        decision=HandoverStatus.HANDED_OVER,
        recipient_kind="national_institution",
        recipient_name="Ministry of Refugees and Repatriation",
    )
    services.handover_item_decide(actor=world.unhcr_af_staff, item=tents, decision=HandoverStatus.RETAINED)
    lou = services.lou_conclude(actor=world.unhcr_af_manager, lou=lou)
    assert lou.status == LouStatus.CONCLUDED and lou.ended_on == _today()
    assert list(lou.events.values_list("kind", flat=True))[-1] == EventKind.CONCLUDED


def test_the_database_refuses_a_handover_the_donor_does_not_permit(world):
    lou = _phasing_out(world)
    item = services.handover_item_save(actor=world.iom_af_staff, lou=lou, owner_agency="IOM", description="Car")
    HandoverItem.objects.filter(pk=item.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        HandoverItem.objects.filter(pk=item.pk).update(status=HandoverStatus.HANDED_OVER)


def test_conclusion_only_from_phase_out(world):
    with pytest.raises(TransitionNotAllowed, match="in force"):
        services.lou_conclude(actor=world.iom_af_manager, lou=f.in_force(world))


# --- Who sees a letter ------------------------------------------------------------------------------------------


def test_visible_to_both_parties_offices_and_both_hqs_only(world):
    lou = f.draft(world)
    visible = {
        u.username
        for u in [
            world.iom_af_staff,
            world.iom_af_manager,
            world.iom_field_staff,
            world.unhcr_af_staff,
            world.unhcr_af_manager,
            world.iom_hq_focal,
            world.unhcr_hq_focal,
            world.iom_de_staff,
            world.unhcr_de_staff,
            world.iom_admin,
            world.unhcr_admin,
        ]
        if LetterOfUnderstanding.objects.visible_to(u).filter(pk=lou.pk).exists()
    }
    assert visible == {
        "iom_af_staff",
        "iom_af_manager",
        "unhcr_af_staff",
        "unhcr_af_manager",
        "iom_hq_focal",
        "unhcr_hq_focal",
    }


def test_actions_offered_follow_status_party_and_role(world):
    lou = f.draft(world)
    names = lambda actor: {act.name for act, _reason in lifecycle.actions_for(actor, lou)}  # noqa: E731
    assert names(world.iom_af_staff) == {"edit"}
    assert names(world.iom_af_manager) == {"edit", "sign", "abandon"}
    assert names(world.iom_hq_focal) == set() and names(world.iom_de_manager) == set()
    lou = services.lou_sign(actor=world.iom_af_manager, lou=lou, signatory_name="CoM")
    offered = dict((act.name, reason) for act, reason in lifecycle.actions_for(world.iom_af_manager, lou))
    assert offered["sign"] and "already signed" in offered["sign"]  # shown with the reason it is blocked
    assert offered["reopen"] is None
    lou = services.lou_sign(actor=world.unhcr_af_manager, lou=lou, signatory_name="Rep")
    assert not names(world.unhcr_af_manager) & lifecycle.AMENDMENT_DECISIONS  # nothing awaits a decision
    proposal = {**content.content_of(lou), "region": "x"}
    services.amendment_propose(actor=world.iom_af_staff, lou=lou, content=proposal, rationale="r")
    unhcr = dict((a.name, r) for a, r in lifecycle.actions_for(world.unhcr_af_manager, lou))
    assert unhcr["approve_amendment"] is None and unhcr["reject_amendment"] is None
    assert "proposing party" in unhcr["withdraw_amendment"]
    iom = dict((a.name, r) for a, r in lifecycle.actions_for(world.iom_af_manager, lou))
    assert "§46" in iom["approve_amendment"] and iom["withdraw_amendment"] is None
