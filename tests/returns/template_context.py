"""What the returns and consultations templates need beyond tests/jointops/test_templates.py's minimal context.

test_templates.py merges `template_context(world)` of every tests/<app>/template_context.py into the context it
renders each template with. Keys are specific to these templates, so they do not disturb other apps' templates.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from jointops import services as jointops_services
from returns import flow, services
from returns.choices import ReturnKind
from returns.forms import CaseMemberForm, MeasureDoneForm, PersonSearchForm, VisitForm
from returns.models import AdditionalMeasure
from returns.views import CHANGE_OF_MIND_RULE, KIND_RULES, WITHDRAW_RULE, _move_form, timeline_entries
from tests.factories.beneficiaries import person
from tests.factories.jointops import OrganisationFactory
from tests.factories.returns import scheduled


def template_context(world) -> dict:
    actor = world.iom_de_staff
    concerned = person(world.iom_de, actor=actor, of_concern_to_unhcr=True)
    c = scheduled(world.iom_de, actor, principal=concerned)
    c = services.return_case_move(
        actor=actor,
        case=c,
        transition="reschedule_departure",
        reason="Flight cancelled",
        expected_departure_date=timezone.localdate() + dt.timedelta(days=20),
    )
    measure = AdditionalMeasure.objects.create(office=world.iom_de, label="UNHCR counselling offered")
    operation = services.operation_create(
        actor=None, office=world.unhcr_af, title="Return 2026", kind="organised", country_of_origin="AF"
    )
    consultation = jointops_services.consultation_record(
        actor=None,
        recorded_by_office=world.iom_de,
        offices=[world.unhcr_de],
        held_on=timezone.localdate(),
        participants="A\nB",
        subject_kind="rejected_asylum_seekers",
        subject="Return of Mr K.",
        linked=c,
    )
    government = OrganisationFactory(code="GOV-PK", name="Government of Pakistan")
    agreement = services.agreement_create(
        actor=None,
        office=world.iom_af,
        parties=[government, world.iom, world.unhcr],
        kind="tripartite",
        title="Afghanistan–Pakistan",
        country_of_origin="AF",
        host_country="PK",
        valid_from=dt.date(2026, 1, 1),
    )
    moves = services.moves_for(actor=actor, case=c)
    visit_form = VisitForm(data={"visited_on": "2026-02-30"})
    visit_form.is_valid()
    return {
        "case": c,
        "kind_lead": "IOM",
        "kind_rules": KIND_RULES[ReturnKind.AVR_ASYLUM_SEEKER],
        "withdraw_rule": WITHDRAW_RULE,
        "change_of_mind_rule": CHANGE_OF_MIND_RULE,
        "unhcr_informed": True,
        "listed_for_unhcr": flow.departure_listed_for_unhcr(c),
        "of_concern": True,
        "shows_section_29": True,
        "shows_section_12": True,
        "case_members": list(c.members.select_related("beneficiary")),
        "can_edit": True,
        "before_embarkation": True,
        "move_forms": [{"move": m, "form": _move_form(c, m)} for m in moves if m.name != "withdraw"],
        "withdraw_form": next(_move_form(c, m) for m in moves if m.name == "withdraw"),
        "move": moves[0],
        "stale": True,
        "refused": True,
        "timeline": timeline_entries(c),
        "visits": [],
        "visit_form": visit_form,
        "member_form": CaseMemberForm(),
        "person_search": PersonSearchForm(data={"q": "Given"}),
        "people_found": [concerned],
        "chosen_principal": concerned,
        "measures": [{"measure": measure, "record": None, "form": MeasureDoneForm()}],
        "consultations": [consultation],
        "can_consult": True,
        "days": 7,
        "operation": operation,
        "agreement": agreement,
        "parties": [government, world.iom, world.unhcr],
        "linked_cases": [c],
        "linked_count": 1,
        "consultation": consultation,
        "consultation_offices": [world.iom_de, world.unhcr_de],
        "linked": {"kind": "Return case", "record": c, "visible": True},
        "linked_record": c,
    }
