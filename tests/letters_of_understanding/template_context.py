"""What the Letters of Understanding templates need beyond tests/jointops/test_templates.py's minimal context.

test_templates.py merges `template_context(world)` of every tests/<app>/template_context.py into the context it
renders each template with. Keys other than "lou", "amendment" and "party" start with "lou_" (or are the names
only these templates use), so they do not disturb other apps' templates. The letter is in force with every part
filled: an amendment awaiting a decision, a review, an evaluation, a resources flag, a notice, an agreed phase-out
plan, obligations and an asset for handover.
"""

from __future__ import annotations

from django.utils import timezone

from letters_of_understanding import content as text
from letters_of_understanding import lifecycle, selectors, services
from letters_of_understanding.choices import Agency
from letters_of_understanding.forms import AmendmentDecisionForm, ConfirmForm, row_formsets
from letters_of_understanding.views import HINTS, _act_links, _settlement
from tests.factories.letters_of_understanding import agreed_plan, in_force


def template_context(world) -> dict:
    today = timezone.localdate()
    lou = in_force(world)
    current = text.content_of(lou)
    first = services.amendment_propose(
        actor=world.iom_af_staff, lou=lou, content={**current, "title": "Joint returns, 2nd edition"}, rationale="Title"
    )
    services.amendment_approve(actor=world.unhcr_af_manager, amendment=first)
    lou.refresh_from_db()
    pending = services.amendment_propose(
        actor=world.unhcr_af_staff,
        lou=lou,
        content={**text.content_of(lou), "linkages": "Joint transport planning"},
        rationale="Linkages",
    )
    services.lou_record_review(
        actor=world.iom_af_staff, lou=lou, held_on=today, outcome="continue", summary="On track", participants="A, B"
    )
    services.evaluation_record(
        actor=world.iom_af_staff,
        lou=lou,
        kind="monitoring",
        title="First quarter",
        carried_out_on=today,
        findings="Departures on time",
    )
    services.lou_flag_resources(actor=world.unhcr_af_staff, lou=lou, note="Funding ends in June")
    agreed_plan(world, lou)
    services.obligation_save(
        actor=world.iom_af_staff,
        lou=lou,
        agency=Agency.IOM,
        description="Drivers' salaries",
        amount=1200,
        currency="USD",
    )
    item = services.handover_item_save(
        actor=world.iom_af_staff,
        lou=lou,
        owner_agency=Agency.IOM,
        description="Land cruiser",
        value=30000,
        currency="USD",
        donor="ECHO",
        donor_permits_handover=True,
    )
    services.lou_serve_notice(actor=world.unhcr_af_manager, lou=lou, reason="Operation ends")
    lou = selectors.lou_detail_for_user(principal=world.iom_af_manager, pk=lou.pk)
    acts = [
        {"act": act, "reason": reason, "links": _act_links(lou, act, pending)}
        for act, reason in lifecycle.actions_for(world.iom_af_manager, lou)
    ]
    acts.append({"act": lifecycle.ACTS["sign"], "reason": "Blocked for a reason (MOU §5).", "links": []})
    plan = lou.phase_out_plan
    return {
        "lou": lou,
        "party": Agency.IOM,
        "party_label": "IOM",
        "act_name": "sign",
        "lou_page_title": "Sign for your party",
        "lou_hint": HINTS["sign"],
        "lou_hints": HINTS,
        "lou_acts": acts,
        "can_edit_text": True,
        "can_edit_plan": True,
        "can_edit_settlement": True,
        "lou_pending": pending,
        "lou_plan": plan,
        "lou_plan_actions": list(plan.actions.all()),
        "lou_settlement": _settlement(lou, Agency.IOM),
        "lou_handover_items": [item],
        "lou_signatures": list(lou.signatures.all()),
        "lou_versions": list(lou.versions.all()),
        "lou_amendments": list(lou.amendments.all()),
        "lou_timeline": selectors.lou_timeline(lou=lou),
        "lou_review_overdue": True,
        "listed": "listed",
        "lou_content_hash": text.content_hash(current),
        "lou_item": item,
        "amendment": pending,
        "lou_compare_rows": selectors.amendment_compare(amendment=pending),
        "lou_decisions": {
            "approve": {"form": AmendmentDecisionForm(), "act": lifecycle.ACTS["approve_amendment"], "reason": None},
            "reject": {
                "form": AmendmentDecisionForm(note_required=True),
                "act": lifecycle.ACTS["reject_amendment"],
                "reason": None,
            },
            "withdraw": {
                "form": ConfirmForm(),
                "act": lifecycle.ACTS["withdraw_amendment"],
                "reason": "Only the proposing party withdraws its amendment.",
            },
        },
        "lou_formsets": [(name, name, formset) for name, formset in row_formsets(content=current).items()],
        "lou_version": lou.versions.get(number=2),
        "lou_readable": text.readable(current),
        "lou_version_numbers": [1, 2],
        "lou_compared": selectors.lou_versions_compare(lou=lou, left=1, right=2),
    }
