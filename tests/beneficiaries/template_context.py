"""What the beneficiaries templates need beyond tests/jointops/test_templates.py's minimal context.

test_templates.py merges `template_context(world)` of every tests/<app>/template_context.py into the context it
renders each template with.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from beneficiaries import services
from beneficiaries.forms import (
    BeneficiaryCreateForm,
    CategoryChangeForm,
    DocumentForm,
    HouseholdMemberForm,
    MergeForm,
    PersonSearchForm,
)
from beneficiaries.views import PERSON_FIELDS
from tests.factories.beneficiaries import person


def template_context(world) -> dict:
    head = person(
        world.iom_af,
        actor=world.iom_af_staff,
        given_name="Mohammad",
        family_name="Ahmadi",
        other_names="Muhammad Ahmadi\nمحمد احمدی",
        specific_needs=["single_parent"],
        sharing_basis="consent",
        consent_date=dt.date(2025, 1, 2),
        phone="+93 700 000 000",
    )
    document = services.document_add(actor=None, beneficiary=head, document_type="passport", number="P1")
    household = services.household_create(actor=None, head=head)
    head.refresh_from_db()
    candidate = person(world.iom_af, given_name="Muhammad", family_name="Ahmadi")
    create_form = BeneficiaryCreateForm(data={"given_name": "x" * 101}, offices=None)
    create_form.is_valid()
    now = timezone.now()
    return {
        "beneficiary": head,
        "readable": dict.fromkeys([*PERSON_FIELDS, "documents"], True),
        "can_change": True,
        "documents": [document],
        "category_changes": list(head.category_changes.select_related("category")),
        "household_members": [head],
        "history": [
            {
                "when": now,
                "who": world.iom_af_staff,
                "kind": "Changed",
                "changes": [{"label": "Phone", "old": None, "new": None}],
            },
            {"when": now, "who": None, "kind": "Created", "changes": []},
        ],
        "shares": [],
        "share_target": world.unhcr_af,
        "basis_recorded": True,
        "category_form": CategoryChangeForm(),
        "document_form": DocumentForm(),
        "create_form": create_form,
        "candidates": [{"person": candidate, "score": 91, "reasons": ["same name in another spelling"]}],
        "duplicates_key": "abc",
        "survivor": head,
        "duplicate": candidate,
        "ready": True,
        "merge_form": MergeForm(),
        "household": household,
        "members": [head],
        "member_form": HouseholdMemberForm(),
        "search_form": PersonSearchForm(data={"q": "Ahmadi"}),
        "found": [candidate],
        "relationships": [("child", "Child")],
        "chosen_head": head,
        "filter_fields": [],
        "matrix_rows": [],
        "organisations": [world.iom, world.unhcr],
        "can_add": True,
        "can_export": True,
        "can_merge": True,
        "export_query": "q=ahmadi",
        "inline_rows": 500,  # the import page's "more than N rows run in the background"
    }
