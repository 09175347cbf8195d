"""Browser pages of Letters of Understanding: every URL as every role (both parties' offices see a letter, both HQs
read it, administrators and other offices do not), only the acts lifecycle.actions_for offers, each act carried
through to its state, the service's refusals on the right field, bad input and query strings, the version
comparison, the PDF and query counts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from jointops import access
from jointops.choices import Role
from letters_of_understanding import content as text
from letters_of_understanding import services
from letters_of_understanding import urls as lou_urls
from letters_of_understanding.choices import (
    ActivityKind,
    Agency,
    AmendmentStatus,
    HandoverStatus,
    LouStatus,
    PlanStatus,
)
from letters_of_understanding.models import (
    Activity,
    Amendment,
    Evaluation,
    FundingArrangement,
    HandoverItem,
    LetterOfUnderstanding,
    LouVersion,
    Obligation,
    PhaseOutAction,
    Review,
    Signature,
)
from tests.factories.jointops import staff
from tests.factories.letters_of_understanding import agreed_plan, draft, in_force

TODAY = timezone.localdate()


def _url(name: str, *args) -> str:
    return reverse(f"letters_of_understanding:{name}", args=args)


def _de_draft(w, *, complete: bool = True) -> LetterOfUnderstanding:
    lou = services.lou_create(
        actor=w.iom_de_staff,
        unhcr_office=w.unhcr_de,
        iom_office=w.iom_de,
        title="Returns from Germany",
        operational_situation="Assisted voluntary returns",
        countries=["DE"],
        start_date=TODAY,
        institutional_framework="Monthly coordination meeting" if complete else "",
        linkages="IOM counselling after UNHCR information sessions" if complete else "",
    )
    if complete:
        for agency, kind in ((Agency.UNHCR, ActivityKind.INFORMATION), (Agency.IOM, ActivityKind.REINTEGRATION)):
            services.lou_row_add(
                actor=w.iom_de_staff, lou=lou, collection="activities", kind=kind, agency=agency, description="Work"
            )
        services.lou_row_add(actor=w.iom_de_staff, lou=lou, collection="funding", agency=Agency.IOM, source="BMI")
    lou.refresh_from_db()
    return lou


def _amend_title(w, lou, title: str, *, proposer=None, approver=None) -> Amendment:
    amendment = services.amendment_propose(
        actor=proposer or w.iom_af_staff, lou=lou, content={**text.content_of(lou), "title": title}, rationale="Title"
    )
    return services.amendment_approve(actor=approver or w.unhcr_af_manager, amendment=amendment)


@pytest.fixture
def lw(world):
    """build_world() plus, in Afghanistan, a complete draft and a letter in force (amended once: versions 1 and 2)
    with a phase-out action, an IOM obligation and an IOM asset; the same pair in Germany."""
    w = world
    w.unhcr_de_manager = staff(w.unhcr_de, Role.OFFICE_MANAGER, username="unhcr_de_manager")
    w.draft_af = draft(w)
    w.lou_af = in_force(w, title="Joint returns, Afghanistan")
    w.amendment_af = _amend_title(w, w.lou_af, "Joint returns, Afghanistan (2nd)")
    w.lou_af.refresh_from_db()
    services.phase_out_plan_save(actor=w.iom_af_staff, lou=w.lou_af, summary="Hand over to the ministry")
    w.action_af = services.phase_out_action_add(
        actor=w.iom_af_staff,
        lou=w.lou_af,
        description="Train drivers",
        owner_agency=Agency.IOM,
        owner="Logistics",
        due_on=TODAY + dt.timedelta(days=30),
    )
    w.obligation_af = services.obligation_save(
        actor=w.iom_af_staff, lou=w.lou_af, agency=Agency.IOM, description="Rent of the warehouse"
    )
    w.item_af = services.handover_item_save(
        actor=w.iom_af_staff, lou=w.lou_af, owner_agency=Agency.IOM, description="Truck", donor_permits_handover=True
    )
    w.draft_de = _de_draft(w)
    lou_de = _de_draft(w)
    lou_de = services.lou_sign(actor=w.unhcr_de_manager, lou=lou_de, signatory_name="UNHCR Representative")
    w.lou_de = services.lou_sign(actor=w.iom_de_manager, lou=lou_de, signatory_name="IOM Chief of Mission")
    w.amendment_de = services.amendment_approve(
        actor=w.unhcr_de_manager,
        amendment=services.amendment_propose(
            actor=w.iom_de_staff, lou=w.lou_de, content={**text.content_of(w.lou_de), "title": "New"}, rationale="T"
        ),
    )
    for name in ("draft_af", "lou_af", "draft_de", "lou_de"):
        getattr(w, name).refresh_from_db()
    return w


# --- The table: URL × role × place -> status, per jointops.access.MATRIX and lifecycle's roles --------------------
#
# 2 = 200 page, 3 = 302 (done, or back to the letter with the reason), 4 = 403 (visible, yet acts for neither
# party), N = 404 (hidden). Targetless URLs have one code per role; the others one per place: "own" is the letter
# between UNHCR-AF-KBL and IOM-AF-KBL (both parties' offices act on it), "other" the one between the German offices.
# Roles: F field staff, M office manager (at the Afghan offices), H HQ focal point, A administrator. "unhcr:F"
# applies to UNHCR's side only: an IOM obligation or asset is IOM's to list (MOU §40), not found for UNHCR.

VIEW = {"F": "2N", "M": "2N", "H": "22", "A": "NN"}
CHANGE = {"F": "2N", "M": "2N", "H": "44", "A": "NN"}
CHANGE_DONE = {"F": "3N", "M": "3N", "H": "44", "A": "NN"}
MANAGERS_ACT = {"F": "3N", "M": "2N", "H": "44", "A": "NN"}  # field staff: back to the letter with the reason
IOM_ROW = {**CHANGE, "unhcr:F": "NN", "unhcr:M": "NN"}

TABLE = {
    # name: (method, target, action, {role: codes})
    "lou_list": ("get", None, "view", {"F": "2", "M": "2", "H": "2", "A": "4"}),
    "lou_create": ("get", None, "add", {"F": "2", "M": "2", "H": "4", "A": "4"}),
    "lou_detail": ("get", "lou", "view", VIEW),
    "lou_update": ("get", "draft", "change", CHANGE),
    "lou_act": ("get", "sign", "change", MANAGERS_ACT),
    "lou_pdf": ("get", "lou", "view", VIEW),
    "lou_row_add": ("get", "row_add", "change", CHANGE),
    "lou_row_update": ("get", "row", "change", CHANGE),
    "lou_row_remove": ("post", "row", "change", CHANGE_DONE),
    "version_compare": ("get", "lou", "view", VIEW),
    "version_detail": ("get", "version", "view", VIEW),
    "version_pdf": ("get", "version", "view", VIEW),
    "amendment_create": ("get", "lou", "change", CHANGE),
    "amendment_detail": ("get", "amendment", "view", VIEW),
    "amendment_decide": ("post", "decide", "change", CHANGE),  # 200: "already approved" on the form
    "plan_edit": ("get", "lou", "change", CHANGE),
    "plan_action_add": ("get", "lou", "change", CHANGE),
    "plan_action_update": ("get", "action", "change", CHANGE),
    "plan_action_remove": ("post", "action", "change", CHANGE_DONE),
    "obligation_add": ("get", "lou", "change", CHANGE),
    "obligation_update": ("get", "obligation", "change", IOM_ROW),
    "handover_add": ("get", "lou", "change", CHANGE),
    "handover_update": ("get", "item", "change", IOM_ROW),
    "handover_decide": ("get", "item", "change", IOM_ROW),
}
CODES = {"2": 200, "3": 302, "4": 403, "N": 404}
LETTERS = {"F": Role.FIELD_STAFF, "M": Role.OFFICE_MANAGER, "H": Role.HQ_FOCAL_POINT, "A": Role.ADMINISTRATOR}
ACTORS = {
    "iom_F": "iom_af_staff",
    "iom_M": "iom_af_manager",
    "iom_H": "iom_hq_focal",
    "iom_A": "iom_admin",
    "unhcr_F": "unhcr_af_staff",
    "unhcr_M": "unhcr_af_manager",
    "unhcr_H": "unhcr_hq_focal",
    "unhcr_A": "unhcr_admin",
}


def _target_url(w, name: str, target: str | None, place: str) -> str:
    af = place == "own"
    lou, draft_lou = (w.lou_af, w.draft_af) if af else (w.lou_de, w.draft_de)
    if target is None:
        return _url(name)
    args = {
        "lou": [lou.pk],
        "draft": [draft_lou.pk],
        "sign": [draft_lou.pk, "sign"],
        "row_add": [draft_lou.pk, "activities"],
        "row": [draft_lou.pk, "activities", draft_lou.activities.first().pk],
        "version": [lou.pk, 1],
        "amendment": [lou.pk, (w.amendment_af if af else w.amendment_de).pk],
        "decide": [lou.pk, (w.amendment_af if af else w.amendment_de).pk, "approve"],
        "action": [lou.pk, w.action_af.pk],
        "obligation": [lou.pk, w.obligation_af.pk],
        "item": [lou.pk, w.item_af.pk],
    }[target]
    return _url(name, *args)


def _names(patterns, namespace: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= _names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(pattern.name)
    return names


def test_table_covers_every_url_of_the_app():
    assert _names(lou_urls.urlpatterns) == set(TABLE)


def test_table_agrees_with_access_matrix():
    """A role MATRIX allows reaches its own office's letter (or the targetless page); the others never do."""
    for name, (_method, _target, action, rows) in TABLE.items():
        for letter, role in LETTERS.items():
            allowed = role in access.MATRIX["lou"].get(action, ())
            assert (rows[letter][0] in "23") == allowed, (name, letter)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_url_every_role_and_place_answers_per_matrix(lw, name):
    method, target, _action, rows = TABLE[name]
    mismatches, requests = [], 0
    for key, attr in ACTORS.items():
        side, letter = key.split("_")
        client = Client()
        client.force_login(getattr(lw, attr))
        codes = rows.get(f"{side}:{letter}", rows[letter])
        places = ["own"] if target is None else ["own", "other"]
        for place, code in zip(places, codes, strict=True):
            url = _target_url(lw, name, target, place)
            with transaction.atomic():  # undo each request's writes: every request sees the same world
                response = client.post(url) if method == "post" else client.get(url)
                transaction.set_rollback(True)
            requests += 1
            if response.status_code != CODES[code]:
                mismatches.append(f"{key} {place} {method.upper()} {url}: {response.status_code} != {code}")
    assert mismatches == []
    assert requests >= len(ACTORS)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_url_anonymous_redirects_to_login(lw, name):
    method, target, *_ = TABLE[name]
    url = _target_url(lw, name, target, "own")
    response = Client().post(url) if method == "post" else Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(
    "url",
    [
        "/letters/9999999999999999999999999/",
        "/letters/{lou}/acts/teleport/",
        "/letters/{lou}/versions/99/",
        "/letters/{lou}/versions/99/pdf/",
        "/letters/{lou}/versions/99999999999999999999999/",
        "/letters/{lou}/amendments/99999999999999999999999/",
        "/letters/{lou}/amendments/99999/",
        "/letters/{draft}/text/dragons/add/",
        "/letters/{draft}/text/activities/99999/edit/",
        "/letters/{lou}/amendments/{amendment}/dance/",
    ],
)
def test_unknown_things_are_not_found(lw, client, url):
    client.force_login(lw.unhcr_af_manager)
    url = url.format(lou=lw.lou_af.pk, draft=lw.draft_af.pk, amendment=lw.amendment_af.pk)
    response = client.post(url) if url.endswith("dance/") else client.get(url)
    assert response.status_code == 404


# --- List ---------------------------------------------------------------------------------------------------------


def _pks(response) -> set[int]:
    assert response.status_code == 200
    return {lou.pk for lou in response.context["object_list"]}


def test_list_shows_the_letters_of_both_parties_with_their_columns(lw, client):
    client.force_login(lw.unhcr_af_staff)  # the UNHCR party sees letters IOM drafted
    response = client.get(_url("lou_list"))
    assert _pks(response) == {lw.draft_af.pk, lw.lou_af.pk}
    html = response.content.decode()
    for expected in (lw.lou_af.reference, lw.lou_af.title, "UNHCR-AF-KBL", "IOM-AF-KBL", "In force", "Draft"):
        assert expected in html
    assert lw.lou_de.reference not in html
    assert lw.lou_af.review_due_on.strftime("%m/%d/%Y") in html  # next review due (MOU §47)
    assert _url("lou_create") in html


def test_list_hq_focal_point_sees_every_country_read_only(lw, client):
    client.force_login(lw.iom_hq_focal)
    response = client.get(_url("lou_list"))
    assert _pks(response) == {lw.draft_af.pk, lw.lou_af.pk, lw.draft_de.pk, lw.lou_de.pk}
    assert _url("lou_create") not in response.content.decode()


def test_list_filters_status_country_office_search_and_attention(lw, client):
    client.force_login(lw.iom_hq_focal)
    url = _url("lou_list")
    assert _pks(client.get(url, {"status": "in_force"})) == {lw.lou_af.pk, lw.lou_de.pk}
    assert _pks(client.get(url, {"country": "DE"})) == {lw.draft_de.pk, lw.lou_de.pk}
    assert _pks(client.get(url, {"office": "unhcr-af-kbl"})) == {lw.draft_af.pk, lw.lou_af.pk}
    assert _pks(client.get(url, {"q": "(2nd)"})) == {lw.lou_af.pk}
    assert _pks(client.get(url, {"attention": "handover_pending"})) == {lw.lou_af.pk}  # MOU §40
    services.lou_serve_notice(actor=lw.unhcr_de_manager, lou=lw.lou_de, reason="Operation ends")
    assert _pks(client.get(url, {"attention": "notice_served"})) == {lw.lou_de.pk}  # MOU §45
    html = client.get(url).content.decode()
    assert "Review overdue (MOU §47)" in html and 'value="IOM-DE-BER"' in html


@pytest.mark.parametrize(
    "params",
    [
        {"status": "dragon"},
        {"country": "XX"},
        {"attention": "everything"},
        {"office": "X" * 33},
        {"q": "x" * 201},
    ],
)
def test_list_bad_filter_shows_message_and_no_results(lw, client, params):
    client.force_login(lw.iom_af_staff)
    response = client.get(_url("lou_list"), params)
    assert response.status_code == 200
    assert list(response.context["object_list"]) == []
    assert "Some filters are not valid" in response.content.decode()


def test_list_null_character_and_bad_page_never_an_error(lw, client):
    client.force_login(lw.iom_af_staff)
    assert client.get(_url("lou_list"), {"q": "a\x00b"}).status_code == 400
    assert client.get(_url("lou_list"), {"page": "last"}).status_code == 200
    assert client.get(_url("lou_list"), {"page": "abc"}).status_code == 404


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_page_size(world, client, django_assert_num_queries):
    client.force_login(world.iom_hq_focal)
    url = _url("lou_list")
    for _ in range(3):
        in_force(world)
    client.get(url)  # warm-up: the first request of a session fills caches
    three = _count_queries(client, url)
    for _ in range(10):
        draft(world, complete=False)
    _de_draft(world, complete=False)
    with django_assert_num_queries(three):
        response = client.get(url)
    assert len(response.context["object_list"]) == 14


# --- Drafting -----------------------------------------------------------------------------------------------------


def _draft_data(w, **overrides) -> dict:
    data = {
        "unhcr_office": w.unhcr_af.pk,
        "iom_office": w.iom_af.pk,
        "title": "Return and reintegration, Herat",
        "operational_situation": "Returns from Iran and Pakistan",
        "countries": ["AF"],
        "region": "West",
        "other_parties": "Ministry of Refugees and Repatriation",
        "categories": ["returnee", "refugee"],
        "start_date": TODAY.isoformat(),
        "end_date": (TODAY + dt.timedelta(days=365)).isoformat(),
        "institutional_framework": "Joint steering committee",
        "linkages": "IOM transport after UNHCR interviews",
        "monitoring_procedures": "Monthly joint reports",
        "evaluation_arrangements": "Mid-term evaluation",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_create_page_preselects_own_office_and_counterpart(world, client):
    client.force_login(world.iom_af_staff)
    form = client.get(_url("lou_create")).context["form"]
    assert form.initial["iom_office"] == world.iom_af.pk and form.initial["unhcr_office"] == world.unhcr_af.pk
    client.force_login(world.unhcr_de_staff)
    form = client.get(_url("lou_create")).context["form"]
    assert form.initial["unhcr_office"] == world.unhcr_de.pk and form.initial["iom_office"] == world.iom_de.pk


def test_create_draft_records_the_text_and_opens_its_page(world, client):
    client.force_login(world.iom_af_staff)
    response = client.post(_url("lou_create"), _draft_data(world))
    lou = LetterOfUnderstanding.objects.get()
    assert response.status_code == 302 and response["Location"] == lou.get_absolute_url()
    assert (lou.unhcr_office, lou.iom_office, lou.status) == (world.unhcr_af, world.iom_af, LouStatus.DRAFT)
    assert [c.code for c in lou.countries] == ["AF"]
    assert sorted(lou.categories.values_list("code", flat=True)) == ["refugee", "returnee"]
    assert lou.created_by == world.iom_af_staff
    html = client.get(lou.get_absolute_url()).content.decode()
    assert "Joint steering committee" in html and "Ministry of Refugees and Repatriation" in html


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"operational_situation": ""}, "operational_situation"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"countries": ["XX"]}, "countries"),
        ({"categories": ["dragons"]}, "categories"),
        ({"unhcr_office": "IOM"}, "unhcr_office"),
        ({"iom_office": "99999999999999999999999"}, "iom_office"),
    ],
)
def test_create_bad_input_shows_the_field_and_writes_nothing(world, client, overrides, field):
    client.force_login(world.iom_af_staff)
    response = client.post(_url("lou_create"), _draft_data(world, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not LetterOfUnderstanding.objects.exists()


def test_create_refusals_of_the_service_show_on_the_form(world, client):
    client.force_login(world.iom_af_staff)
    # An office of the wrong organisation as the UNHCR party (the choice is among UNHCR offices only).
    response = client.post(_url("lou_create"), _draft_data(world, unhcr_office=world.iom_de.pk))
    assert "unhcr_office" in response.context["form"].errors
    # Neither office is the drafter's: the service refuses, with the reason above the form.
    response = client.post(
        _url("lou_create"), _draft_data(world, unhcr_office=world.unhcr_de.pk, iom_office=world.iom_de.pk)
    )
    assert response.status_code == 200
    assert "You draft letters for your own office" in response.content.decode()
    # The end before the start (the model's constraint).
    response = client.post(_url("lou_create"), _draft_data(world, end_date=(TODAY - dt.timedelta(days=1)).isoformat()))
    assert "The end date cannot be before the start date." in response.content.decode()
    assert not LetterOfUnderstanding.objects.exists()


def _edit_data(lou, **overrides) -> dict:
    data = {
        "version": lou.version,
        "title": lou.title,
        "operational_situation": lou.operational_situation,
        "countries": [c.code for c in lou.countries],
        "start_date": lou.start_date.isoformat(),
        "institutional_framework": lou.institutional_framework,
        "linkages": lou.linkages,
    }
    data.update(overrides)
    return data


def test_edit_draft_saves_and_bumps_version(lw, client):
    client.force_login(lw.unhcr_af_staff)  # either party's staff edits the draft
    lou = lw.draft_af
    form = client.get(_url("lou_update", lou.pk)).context["form"]
    assert form.initial["version"] == lou.version and form.initial["countries"] == ["AF"]
    response = client.post(_url("lou_update", lou.pk), _edit_data(lou, title="Renamed", categories=["idp"]))
    assert response.status_code == 302
    changed = LetterOfUnderstanding.objects.get(pk=lou.pk)
    assert changed.title == "Renamed" and changed.version == lou.version + 1
    assert list(changed.categories.values_list("code", flat=True)) == ["idp"]


def test_edit_with_stale_version_shows_conflict_and_keeps_the_other_change(lw, client):
    lou = lw.draft_af
    services.lou_update(actor=lw.iom_af_staff, lou=lou, version=lou.version, region="East")
    client.force_login(lw.unhcr_af_staff)
    response = client.post(_url("lou_update", lou.pk), _edit_data(lou, title="Mine"))
    assert response.status_code == 200
    assert "Someone else changed this letter since you opened it" in response.content.decode()
    changed = LetterOfUnderstanding.objects.get(pk=lou.pk)
    assert (changed.title, changed.region) == (lou.title, "East")


def test_edit_of_a_letter_in_force_refused_with_the_rule(lw, client):
    client.force_login(lw.iom_af_staff)
    response = client.get(_url("lou_update", lw.lou_af.pk), follow=True)
    assert "This is not possible while the letter is in force." in response.content.decode()
    response = client.post(_url("lou_update", lw.lou_af.pk), _edit_data(lw.lou_af, title="Sneaky"))
    assert response.status_code == 200
    assert "MOU §46" in response.content.decode()
    assert LetterOfUnderstanding.objects.get(pk=lw.lou_af.pk).title == lw.lou_af.title


def test_rows_added_edited_and_removed_on_the_draft(world, client):
    lou = draft(world, complete=False)
    client.force_login(world.iom_af_staff)
    activity = {"kind": "voluntary_repatriation", "agency": "UNHCR", "description": "Interviews", "indicators": ""}
    assert client.post(_url("lou_row_add", lou.pk, "activities"), activity).status_code == 302
    funding = {"agency": "IOM", "source": "ECHO", "amount": "2500.50", "currency": "eur", "joint_appeal": "on"}
    assert client.post(_url("lou_row_add", lou.pk, "funding"), funding).status_code == 302
    secondment = {"from_agency": "IOM", "position": "Logistics officer", "number": "2", "start_on": "", "end_on": ""}
    assert client.post(_url("lou_row_add", lou.pk, "secondments"), secondment).status_code == 302
    row = FundingArrangement.objects.get(lou=lou)
    assert (row.amount, row.currency, row.joint_appeal) == (Decimal("2500.50"), "EUR", True)
    assert lou.secondments.get().number == 2
    item = Activity.objects.get(lou=lou)
    response = client.post(_url("lou_row_update", lou.pk, "activities", item.pk), {**activity, "agency": "IOM"})
    assert response.status_code == 302 and Activity.objects.get(pk=item.pk).agency == Agency.IOM
    assert client.post(_url("lou_row_remove", lou.pk, "activities", item.pk)).status_code == 302
    assert not Activity.objects.filter(lou=lou).exists()
    html = client.get(lou.get_absolute_url()).content.decode()
    assert "ECHO" in html and "2500.50 EUR" in html and "Logistics officer" in html


@pytest.mark.parametrize(
    ("collection", "data", "field", "message"),
    [
        ("activities", {"kind": "dragons", "agency": "IOM", "description": "x"}, "kind", "Select a valid choice"),
        ("activities", {"kind": "resettlement", "agency": "WFP", "description": "x"}, "agency", "Select a valid"),
        ("funding", {"agency": "IOM", "source": "ECHO", "amount": "-1"}, "amount", "greater than or equal to 0"),
        ("funding", {"agency": "IOM", "source": "ECHO", "amount": "1", "currency": "EURO"}, "currency", "at most 3"),
        ("funding", {"agency": "IOM", "source": "ECHO", "amount": "10"}, None, "Give the currency of the amount."),
        (
            "secondments",
            {
                "from_agency": "IOM",
                "position": "Driver",
                "number": "1",
                "start_on": "2026-05-02",
                "end_on": "2026-05-01",
            },
            None,
            "The end of the secondment cannot be before its start.",
        ),
    ],
)
def test_row_bad_input_shows_the_reason_and_writes_nothing(world, client, collection, data, field, message):
    lou = draft(world, complete=False)
    client.force_login(world.iom_af_staff)
    response = client.post(_url("lou_row_add", lou.pk, collection), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors.get(field or "__all__", [])), form.errors
    assert not getattr(lou, collection).exists()


# --- The letter's page: only the acts offered now ----------------------------------------------------------------


def _offered(response) -> list[str]:
    return re.findall(r'jo-act" data-act="([a-z_]+)"', response.content.decode())


def _blocked(response) -> list[str]:
    return re.findall(r'jo-act-blocked" data-act="([a-z_]+)"', response.content.decode())


def test_detail_field_staff_may_edit_a_draft_but_sees_no_sign(lw, client):
    client.force_login(lw.iom_af_staff)
    response = client.get(lw.draft_af.get_absolute_url())
    assert _offered(response) == ["edit"] and _blocked(response) == []
    assert "sign" not in _offered(response)
    html = response.content.decode()
    assert _url("lou_row_add", lw.draft_af.pk, "activities") in html


def test_detail_manager_sees_sign_and_abandon_and_the_blocked_sign_with_its_reason(lw, client):
    client.force_login(lw.unhcr_af_manager)
    assert _offered(client.get(lw.draft_af.get_absolute_url())) == ["edit", "sign", "abandon"]
    incomplete = draft(lw, complete=False)
    response = client.get(incomplete.get_absolute_url())
    assert _offered(response) == ["edit", "abandon"] and _blocked(response) == ["sign"]
    assert "MOU §5: the letter must set out the institutional framework" in response.content.decode()


def test_detail_hq_focal_point_follows_without_any_act(lw, client):
    client.force_login(lw.unhcr_hq_focal)
    for lou in (lw.draft_af, lw.lou_af, lw.lou_de):
        response = client.get(lou.get_absolute_url())
        assert _offered(response) == [] and _blocked(response) == []
        html = response.content.decode()
        assert "You follow this letter read-only" in html
        assert _url("lou_update", lou.pk) not in html and "/remove/" not in html


def test_detail_in_force_shows_text_signatures_versions_and_acts(lw, client):
    client.force_login(lw.iom_af_manager)
    lou = lw.lou_af
    response = client.get(lou.get_absolute_url())
    html = response.content.decode()
    assert _offered(response) == [
        "propose_amendment",
        "serve_notice",
        "record_review",
        "record_evaluation",
        "flag_resources",
        "edit_plan",
        "agree_plan",
        "edit_settlement",
        "edit_settlement",
        "confirm_obligations",
    ]
    # Acts of this status and role that a rule still blocks are shown disabled, with the rule.
    # Deciding an amendment is offered only while one awaits a decision (none here).
    assert _blocked(response) == ["start_phase_out"]
    assert "No amendment is awaiting a decision." not in html
    assert "MOU §39: both parties must first agree the phase-out plan." in html
    for signature in Signature.objects.filter(lou=lou):
        assert signature.content_hash in html and signature.signatory_name in html
    for version in LouVersion.objects.filter(lou=lou):
        assert _url("version_detail", lou.pk, version.number) in html and version.content_hash in html
    assert 'id="lou-text-version">2<' in html
    assert "Protection monitoring and voluntariness interviews" in html and "ECHO" in html
    assert _url("amendment_detail", lou.pk, lw.amendment_af.pk) in html
    assert "Rent of the warehouse" in html and "Truck" in html and "Train drivers" in html
    assert html.count('class="list-group-item jo-timeline-entry"') == lou.events.count()


def test_detail_other_party_manager_may_not_edit_iom_assets(lw, client):
    client.force_login(lw.unhcr_af_manager)
    html = client.get(lw.lou_af.get_absolute_url()).content.decode()
    assert _url("handover_decide", lw.lou_af.pk, lw.item_af.pk) not in html
    assert _url("obligation_update", lw.lou_af.pk, lw.obligation_af.pk) not in html
    client.force_login(lw.iom_af_staff)
    html = client.get(lw.lou_af.get_absolute_url()).content.decode()
    assert _url("handover_decide", lw.lou_af.pk, lw.item_af.pk) in html
    assert _url("obligation_update", lw.lou_af.pk, lw.obligation_af.pk) in html


# --- Signatures and entry into force (MOU §44 by analogy) --------------------------------------------------------


def _sign(client, lou, name="Representative"):
    return client.post(
        _url("lou_act", lou.pk, "sign"),
        {"version": lou.version, "signatory_name": name, "signatory_title": "Head", "signed_on": TODAY.isoformat()},
    )


def test_sign_twice_brings_the_letter_into_force(lw, client):
    lou = lw.draft_af
    client.force_login(lw.unhcr_af_manager)
    page = client.get(_url("lou_act", lou.pk, "sign"))
    digest = text.content_hash(text.content_of(lou))
    assert digest in page.content.decode()
    assert page.context["form"].initial["signed_on"] == TODAY
    response = _sign(client, lou, "Ms UNHCR")
    assert response.status_code == 302 and response["Location"].endswith("#signatures")
    lou.refresh_from_db()
    assert lou.status == LouStatus.PARTLY_SIGNED
    assert Signature.objects.get(lou=lou).content_hash == digest
    # The same manager cannot sign again; the page says why.
    response = client.get(lou.get_absolute_url())
    assert "sign" in _blocked(response) and "Your party has already signed this draft." in response.content.decode()
    client.force_login(lw.iom_af_manager)
    response = _sign(client, lou, "Mr IOM")
    assert response.status_code == 302
    lou.refresh_from_db()
    assert (lou.status, lou.text_version) == (LouStatus.IN_FORCE, 1)
    assert lou.review_due_on == services.add_months(TODAY, 12)
    html = client.get(lou.get_absolute_url(), follow=True).content.decode()
    assert "In force" in html and LouVersion.objects.get(lou=lou).content_hash in html


def test_sign_by_field_staff_is_not_offered_and_refused(lw, client):
    client.force_login(lw.iom_af_staff)
    response = client.get(_url("lou_act", lw.draft_af.pk, "sign"), follow=True)
    assert "An office manager of your party performs this act" in response.content.decode()
    assert _sign(client, lw.draft_af).status_code == 403
    assert not Signature.objects.filter(lou=lw.draft_af).exists()


def test_sign_after_the_draft_changed_is_refused_as_stale(lw, client):
    lou = lw.draft_af
    client.force_login(lw.unhcr_af_manager)
    services.lou_update(actor=lw.iom_af_staff, lou=lou, version=lou.version, title="Changed meanwhile")
    response = _sign(client, lou)
    assert response.status_code == 200
    assert "The draft changed since you opened it, so it was not signed." in response.content.decode()
    assert not Signature.objects.filter(lou=lou).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"signatory_name": ""}, "signatory_name"),
        ({"signed_on": "yesterday"}, "signed_on"),
        ({"signed_on": (TODAY + dt.timedelta(days=3)).isoformat()}, "signed_on"),
        ({"version": "abc"}, "version"),
    ],
)
def test_sign_bad_input_shows_the_field_and_signs_nothing(lw, client, overrides, field):
    client.force_login(lw.unhcr_af_manager)
    lou = lw.draft_af
    data = {"version": lou.version, "signatory_name": "X", "signed_on": TODAY.isoformat(), **overrides}
    response = client.post(_url("lou_act", lou.pk, "sign"), data)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not Signature.objects.filter(lou=lou).exists()


def test_reopen_voids_the_signature_and_abandon_keeps_the_draft(lw, client):
    lou = lw.draft_af
    services.lou_sign(actor=lw.iom_af_manager, lou=lou, signatory_name="IOM")
    client.force_login(lw.iom_af_manager)
    assert client.post(_url("lou_act", lou.pk, "reopen"), {"reason": ""}).status_code == 200  # reason required
    assert client.post(_url("lou_act", lou.pk, "reopen"), {"reason": "Budget changed"}).status_code == 302
    lou.refresh_from_db()
    assert lou.status == LouStatus.DRAFT and Signature.objects.get(lou=lou).void_reason == "Budget changed"
    assert client.post(_url("lou_act", lou.pk, "abandon"), {"reason": "Situation changed"}).status_code == 302
    lou.refresh_from_db()
    assert lou.status == LouStatus.ABANDONED
    response = client.get(lou.get_absolute_url())
    assert _offered(response) == []


# --- Amendments (MOU §46) -----------------------------------------------------------------------------------------


def _amendment_data(content: dict, *, extra: dict | None = None, **changes) -> dict:
    """The proposal form as the browser posts it: the scalar fields, then one formset per collection whose rows are
    the items of `content`, plus `extra` rows (collection -> list of items) in the empty rows offered."""
    content = {**content, **changes}
    data = {name: content[name] or "" for name in text.SCALAR_FIELDS}
    data.update(
        countries=content["countries"],
        categories=content["categories"],
        start_date=content["start_date"],
        end_date=content["end_date"] or "",
        rationale="Because the situation changed",
        effective_from="",
    )
    for collection in ("activities", "funding", "secondments"):
        rows = list(content[collection]) + list((extra or {}).get(collection, []))
        data.update(
            {
                f"{collection}-TOTAL_FORMS": str(len(rows) + 1),
                f"{collection}-INITIAL_FORMS": str(len(content[collection])),
                f"{collection}-MIN_NUM_FORMS": "0",
                f"{collection}-MAX_NUM_FORMS": "200",
            }
        )
        if collection == "secondments":  # the browser sends the empty row's prefilled number of staff
            data[f"secondments-{len(rows)}-number"] = "1"
        for index, item in enumerate(rows):
            for name, value in item.items():
                if value is True:
                    data[f"{collection}-{index}-{name}"] = "on"
                elif value not in (None, False):
                    data[f"{collection}-{index}-{name}"] = str(value)
    return data


def test_amendment_form_is_prefilled_with_the_text_in_force(lw, client):
    client.force_login(lw.iom_af_staff)
    response = client.get(_url("amendment_create", lw.lou_af.pk))
    assert response.context["form"].initial["title"] == "Joint returns, Afghanistan (2nd)"
    formsets = {name: formset for name, _title, formset in response.context["lou_formsets"]}
    assert [form.initial["description"] for form in formsets["activities"].initial_forms] == [
        "Protection monitoring and voluntariness interviews",
        "Transport and reception",
    ]
    assert formsets["funding"].initial_forms[0].initial["source"] == "ECHO"
    html = response.content.decode()
    assert 'name="activities-TOTAL_FORMS" value="3"' in html and "MOU §46" in html


def test_amendment_proposed_then_approved_makes_version_3_and_compares(lw, client):
    lou = lw.lou_af
    current = text.content_of(lou)
    client.force_login(lw.iom_af_staff)
    extra = {"secondments": [{"from_agency": "UNHCR", "position": "Protection officer", "number": 1}]}
    data = _amendment_data(current, extra=extra, title="Joint returns, third edition")
    data["activities-1-DELETE"] = "on"
    response = client.post(_url("amendment_create", lou.pk), data)
    amendment = Amendment.objects.get(lou=lou, status=AmendmentStatus.PROPOSED)
    assert response.status_code == 302 and response["Location"] == _url("amendment_detail", lou.pk, amendment.pk)
    assert amendment.content["title"] == "Joint returns, third edition"
    assert [a["description"] for a in amendment.content["activities"]] == [current["activities"][0]["description"]]
    assert amendment.content["secondments"][0]["position"] == "Protection officer"
    assert LetterOfUnderstanding.objects.get(pk=lou.pk).title == current["title"]  # not yet: the other party decides
    # The proposing party cannot approve; the other party's manager can.
    client.force_login(lw.iom_af_manager)
    page = client.get(_url("amendment_detail", lou.pk, amendment.pk))
    assert "MOU §46: the other party decides on an amendment your party proposed." in page.content.decode()
    refused = client.post(_url("amendment_decide", lou.pk, amendment.pk, "approve"), {})
    assert refused.status_code == 200 and "the other party decides" in refused.content.decode()
    assert Amendment.objects.get(pk=amendment.pk).status == AmendmentStatus.PROPOSED
    client.force_login(lw.unhcr_af_manager)
    page = client.get(_url("amendment_detail", lou.pk, amendment.pk))
    html = page.content.decode()
    assert 'data-field="title" data-changed="true"' in html and 'data-field="linkages" data-changed="false"' in html
    assert re.findall(r'jo-act" data-act="([a-z_]+)"', html) == ["approve_amendment", "reject_amendment"]
    response = client.post(_url("amendment_decide", lou.pk, amendment.pk, "approve"), {"note": "Agreed"})
    assert response.status_code == 302
    lou.refresh_from_db()
    assert (lou.text_version, lou.title) == (3, "Joint returns, third edition")
    assert lou.activities.count() == 1 and lou.secondments.get().position == "Protection officer"
    html = client.get(lou.get_absolute_url(), follow=True).content.decode()
    assert "version 3 of the text is in force" in html and 'id="lou-text-version">3<' in html


def test_amendment_error_of_a_row_shows_on_that_row(lw, client):
    lou = lw.lou_af
    client.force_login(lw.iom_af_staff)
    extra = {"funding": [{"agency": "UNHCR", "source": "CERF", "amount": "5000", "currency": ""}]}
    response = client.post(_url("amendment_create", lou.pk), _amendment_data(text.content_of(lou), extra=extra))
    assert response.status_code == 200
    formsets = {name: formset for name, _title, formset in response.context["lou_formsets"]}
    assert formsets["funding"].forms[1].errors["currency"] == ["Give the currency of the amount."]
    html = response.content.decode()
    assert 'id="id_funding-1-currency_error"' in html and "A row of the text needs correcting" in html
    # With the row before it removed, the service names funding[0]: the error still lands on the row sent.
    data = _amendment_data(text.content_of(lou), extra=extra)
    data["funding-0-DELETE"] = "on"
    response = client.post(_url("amendment_create", lou.pk), data)
    formsets = {name: formset for name, _title, formset in response.context["lou_formsets"]}
    assert formsets["funding"].forms[0].errors == {}
    assert formsets["funding"].forms[1].errors["currency"] == ["Give the currency of the amount."]
    extra = {"secondments": [{"from_agency": "IOM", "position": "Driver", "number": 1, "start_on": "2026-05-02"}]}
    data = _amendment_data(text.content_of(lou), extra=extra)
    data["secondments-0-end_on"] = "2026-05-01"
    response = client.post(_url("amendment_create", lou.pk), data)
    formsets = {name: formset for name, _title, formset in response.context["lou_formsets"]}
    assert "cannot be before its start" in formsets["secondments"].forms[0].errors["end_on"][0]
    assert not Amendment.objects.filter(lou=lou, status=AmendmentStatus.PROPOSED).exists()


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ({}, None, "The proposed text is the same as the text in force."),
        ({"rationale": ""}, "rationale", "This field is required."),
        ({"title": ""}, "title", "This field is required."),
        ({"activities-0-kind": "dragons"}, "activities", "Select a valid choice"),
        ({"funding-TOTAL_FORMS": "abc"}, None, "ManagementForm data is missing or has been tampered with"),
        ({"effective_from": "2001-01-01", "title": "Other"}, "effective_from", "before the letter entered into force"),
    ],
)
def test_amendment_bad_input_never_proposes(lw, client, change, where, message):
    lou = lw.lou_af
    client.force_login(lw.iom_af_staff)
    data = {**_amendment_data(text.content_of(lou)), **change}
    response = client.post(_url("amendment_create", lou.pk), data)
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    if where == "activities":
        formsets = {name: formset for name, _title, formset in response.context["lou_formsets"]}
        assert "kind" in formsets["activities"].forms[0].errors
    elif where:
        assert where in response.context["form"].errors
    assert not Amendment.objects.filter(lou=lou, status=AmendmentStatus.PROPOSED).exists()


def test_amendment_rejected_with_a_note_or_withdrawn_by_its_proposer(lw, client):
    lou = lw.lou_af
    first = services.amendment_propose(
        actor=lw.unhcr_af_staff, lou=lou, content={**text.content_of(lou), "region": "East"}, rationale="Region"
    )
    client.force_login(lw.iom_af_manager)
    response = client.post(_url("amendment_decide", lou.pk, first.pk, "reject"), {"note": ""})
    assert response.status_code == 200 and "note" in response.context["lou_decisions"]["reject"]["form"].errors
    assert client.post(_url("amendment_decide", lou.pk, first.pk, "reject"), {"note": "Not now"}).status_code == 302
    assert Amendment.objects.get(pk=first.pk).status == AmendmentStatus.REJECTED
    second = services.amendment_propose(
        actor=lw.unhcr_af_staff, lou=lou, content={**text.content_of(lou), "region": "West"}, rationale="Region"
    )
    client.force_login(lw.unhcr_af_staff)
    assert _offered(client.get(lou.get_absolute_url())) == [
        "withdraw_amendment",
        "record_review",
        "record_evaluation",
        "flag_resources",
        "edit_plan",
        "edit_settlement",
        "edit_settlement",
    ]
    assert client.post(_url("amendment_decide", lou.pk, second.pk, "withdraw"), {}).status_code == 302
    assert Amendment.objects.get(pk=second.pk).status == AmendmentStatus.WITHDRAWN
    assert LetterOfUnderstanding.objects.get(pk=lou.pk).text_version == 2


def test_amendment_page_refuses_while_one_is_pending(lw, client):
    lou = lw.lou_af
    services.amendment_propose(
        actor=lw.unhcr_af_staff, lou=lou, content={**text.content_of(lou), "region": "East"}, rationale="Region"
    )
    client.force_login(lw.iom_af_staff)
    response = client.get(_url("amendment_create", lou.pk), follow=True)
    assert "MOU §46: an amendment is already awaiting the other party" in response.content.decode()
    detail = client.get(lou.get_absolute_url())
    assert "propose_amendment" in _blocked(detail) and "lou-pending" in detail.content.decode()


# --- Versions and the PDF -----------------------------------------------------------------------------------------


def test_version_compare_highlights_the_changed_rows(lw, client):
    client.force_login(lw.unhcr_hq_focal)
    lou = lw.lou_af
    response = client.get(_url("version_compare", lou.pk))
    rows = {row["field"]: row["changed"] for row in response.context["lou_compared"]["rows"]}
    assert rows["title"] is True and not any(changed for field, changed in rows.items() if field != "title")
    html = response.content.decode()
    assert 'class="table-warning jo-changed" data-field="title" data-changed="true"' in html
    assert "Joint returns, Afghanistan" in html and "Joint returns, Afghanistan (2nd)" in html
    response = client.get(_url("version_compare", lou.pk), {"left": "2", "right": "1"})
    assert response.context["lou_compared"]["left"].number == 2


@pytest.mark.parametrize("params", [{"left": "abc", "right": "2"}, {"left": "1", "right": "1"}, {"left": "9"}])
def test_version_compare_bad_query_shows_message(lw, client, params):
    client.force_login(lw.iom_af_staff)
    response = client.get(_url("version_compare", lw.lou_af.pk), params)
    assert response.status_code == 200 and response.context["lou_compared"] is None
    assert "Choose two different versions of this letter." in response.content.decode()


def test_version_compare_with_one_version_says_so(lw, client):
    client.force_login(lw.iom_de_staff)
    lou = _de_draft(lw)
    response = client.get(_url("version_compare", lou.pk))
    assert response.status_code == 200 and "nothing to compare" in response.content.decode()


def test_version_page_shows_the_text_and_its_hash(lw, client):
    client.force_login(lw.iom_af_staff)
    version = LouVersion.objects.get(lou=lw.lou_af, number=1)
    html = client.get(_url("version_detail", lw.lou_af.pk, 1)).content.decode()
    assert version.content_hash in html and "Joint returns, Afghanistan" in html and "MOU §36" in html


def test_pdf_of_the_current_text_and_of_a_version_is_an_attachment(lw, client):
    client.force_login(lw.unhcr_hq_focal)
    for url in (_url("lou_pdf", lw.lou_af.pk), _url("version_pdf", lw.lou_af.pk, 1), _url("lou_pdf", lw.draft_af.pk)):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment; filename=")
        assert response.content.startswith(b"%PDF")
    assert lw.lou_af.reference in client.get(_url("version_pdf", lw.lou_af.pk, 2))["Content-Disposition"]


# --- Termination (MOU §45), reviews (§47), evaluations (§38), resources (§39) --------------------------------------


def test_notice_prefilled_90_days_and_shorter_notice_refused_on_its_field(lw, client):
    lou = lw.lou_af
    client.force_login(lw.unhcr_af_manager)
    form = client.get(_url("lou_act", lou.pk, "serve_notice")).context["form"]
    assert form.initial["effective_on"] == TODAY + dt.timedelta(days=90)
    data = {"served_on": TODAY.isoformat(), "effective_on": (TODAY + dt.timedelta(days=89)).isoformat(), "reason": "x"}
    response = client.post(_url("lou_act", lou.pk, "serve_notice"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors["effective_on"]
    earliest = (TODAY + dt.timedelta(days=90)).isoformat()
    assert errors == [
        f"MOU §45: termination takes effect at least 90 days after the notice, on {earliest} at the earliest."
    ]
    assert 'id="id_effective_on_error"' in response.content.decode()
    assert LetterOfUnderstanding.objects.get(pk=lou.pk).termination_notice_served_on is None


def test_notice_served_shows_the_banner_with_the_effective_date(lw, client):
    lou = lw.lou_af
    client.force_login(lw.unhcr_af_manager)
    effective = TODAY + dt.timedelta(days=120)
    data = {"served_on": TODAY.isoformat(), "effective_on": effective.isoformat(), "reason": "Operation ends"}
    response = client.post(_url("lou_act", lou.pk, "serve_notice"), data)
    assert response.status_code == 302
    lou.refresh_from_db()
    assert (lou.termination_effective_on, lou.termination_notice_by) == (effective, Agency.UNHCR)
    response = client.get(lou.get_absolute_url())
    html = response.content.decode()
    assert f'data-date="{effective.isoformat()}"' in html and "Operation ends" in html
    assert "serve_notice" in _blocked(response) and "MOU §45: notice was already served" in html


def test_notice_by_field_staff_not_offered(lw, client):
    client.force_login(lw.iom_af_staff)
    assert "serve_notice" not in _offered(client.get(lw.lou_af.get_absolute_url()))
    data = {"served_on": TODAY.isoformat(), "reason": "x"}
    assert client.post(_url("lou_act", lw.lou_af.pk, "serve_notice"), data).status_code == 403


def test_review_recorded_and_12_months_enforced(lw, client):
    lou = lw.lou_af
    client.force_login(lw.iom_af_staff)
    late = services.add_months(TODAY, 12) + dt.timedelta(days=1)
    data = {"held_on": TODAY.isoformat(), "outcome": "continue", "summary": "On track", "next_review_due": late}
    response = client.post(_url("lou_act", lou.pk, "record_review"), data)
    assert response.status_code == 200 and "MOU §47" in response.context["form"].errors["next_review_due"][0]
    assert client.post(_url("lou_act", lou.pk, "record_review"), {**data, "outcome": "maybe"}).status_code == 200
    assert not Review.objects.exists()
    data["next_review_due"] = ""
    assert client.post(_url("lou_act", lou.pk, "record_review"), data).status_code == 302
    review = Review.objects.get()
    assert review.next_review_due == services.add_months(TODAY, 12)
    assert "On track" in client.get(lou.get_absolute_url()).content.decode()


def test_evaluation_and_resources_flag_recorded(lw, client):
    lou = lw.lou_af
    client.force_login(lw.unhcr_af_staff)
    data = {"kind": "evaluation", "title": "Mid-term", "carried_out_on": TODAY.isoformat(), "findings": "Good"}
    assert client.post(_url("lou_act", lou.pk, "record_evaluation"), {**data, "kind": "opinion"}).status_code == 200
    assert client.post(_url("lou_act", lou.pk, "record_evaluation"), data).status_code == 302
    assert Evaluation.objects.get().title == "Mid-term"
    assert client.post(_url("lou_act", lou.pk, "flag_resources"), {"note": ""}).status_code == 200
    assert client.post(_url("lou_act", lou.pk, "flag_resources"), {"note": "CERF ends"}).status_code == 302
    html = client.get(lou.get_absolute_url()).content.decode()
    assert 'id="lou-resources"' in html and "a phase-out plan agreed by both parties is required (MOU §39)" in html
    assert "Mid-term" in html


# --- Phase-out (MOU §39), settlement and conclusion (MOU §40) -----------------------------------------------------


def test_phase_out_plan_agreed_by_both_then_started(lw, client):
    lou = lw.lou_af
    client.force_login(lw.iom_af_staff)
    assert client.post(_url("plan_edit", lou.pk), {"summary": ""}).status_code == 200
    assert client.post(_url("plan_edit", lou.pk), {"summary": "Hand over to the ministry by June"}).status_code == 302
    action = {"description": "Close warehouse", "owner_agency": "UNHCR", "owner": "Supply", "due_on": "2026-02-30"}
    assert client.post(_url("plan_action_add", lou.pk), action).status_code == 200
    action["due_on"] = (TODAY + dt.timedelta(days=60)).isoformat()
    assert client.post(_url("plan_action_add", lou.pk), action).status_code == 302
    assert PhaseOutAction.objects.filter(plan__lou=lou).count() == 2
    plan = lou.phase_out_plan
    for manager in (lw.unhcr_af_manager, lw.iom_af_manager):
        client.force_login(manager)
        page = client.get(_url("lou_act", lou.pk, "agree_plan"))
        assert "Close warehouse" in page.content.decode()
        plan.refresh_from_db()
        assert client.post(_url("lou_act", lou.pk, "agree_plan"), {"plan_version": plan.version}).status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.AGREED
    # Recording progress keeps the agreement; changing what was agreed reopens it.
    client.force_login(lw.iom_af_staff)
    done = {
        "description": "Train drivers",
        "owner_agency": "IOM",
        "owner": "Logistics",
        "due_on": lw.action_af.due_on.isoformat(),
        "done_on": TODAY.isoformat(),
    }
    assert client.post(_url("plan_action_update", lou.pk, lw.action_af.pk), done).status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.AGREED and PhaseOutAction.objects.get(pk=lw.action_af.pk).done_on == TODAY
    # Saving the plan unchanged does not ask both parties to agree again.
    assert client.post(_url("plan_edit", lou.pk), {"summary": "Hand over to the ministry by June"}).status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.AGREED
    client.force_login(lw.unhcr_af_manager)
    assert client.post(_url("lou_act", lou.pk, "start_phase_out"), {}).status_code == 302
    lou.refresh_from_db()
    assert lou.status == LouStatus.PHASING_OUT


def test_agree_plan_changed_since_opened_is_refused_as_stale(lw, client):
    lou = lw.lou_af
    plan = lou.phase_out_plan
    client.force_login(lw.unhcr_af_manager)
    services.phase_out_plan_save(actor=lw.iom_af_staff, lou=lou, summary="Changed")
    response = client.post(_url("lou_act", lou.pk, "agree_plan"), {"plan_version": plan.version})
    assert response.status_code == 200 and "The phase-out plan changed since you opened it" in response.content.decode()


def test_obligations_own_agency_only_then_confirmed(lw, client):
    lou = lw.lou_af
    client.force_login(lw.unhcr_af_staff)
    data = {"description": "Office rent", "amount": "300", "currency": ""}
    response = client.post(_url("obligation_add", lou.pk), data)
    assert response.status_code == 200 and "Give the currency of the amount." in response.content.decode()
    data["currency"] = "usd"
    assert client.post(_url("obligation_add", lou.pk), data).status_code == 302
    obligation = Obligation.objects.get(lou=lou, agency=Agency.UNHCR)
    assert (obligation.amount, obligation.currency) == (Decimal("300.00"), "USD")
    # IOM's obligation is not UNHCR's to change (MOU §40).
    assert client.post(_url("obligation_update", lou.pk, lw.obligation_af.pk), data).status_code == 404
    client.force_login(lw.unhcr_af_manager)
    page = client.get(_url("lou_act", lou.pk, "confirm_obligations"))
    assert "Office rent" in page.content.decode() and "MOU §40" in page.content.decode()
    assert client.post(_url("lou_act", lou.pk, "confirm_obligations"), {}).status_code == 302
    lou.refresh_from_db()
    assert lou.unhcr_obligations_confirmed_on == TODAY and lou.iom_obligations_confirmed_on is None
    assert "confirm_obligations" in _blocked(client.get(lou.get_absolute_url()))
    # Saving the same obligation keeps the confirmation; changing it asks for a new one (MOU §40).
    client.force_login(lw.unhcr_af_staff)
    url = _url("obligation_update", lou.pk, obligation.pk)
    assert client.post(url, {"description": "Office rent", "amount": "300.00", "currency": "USD"}).status_code == 302
    assert LetterOfUnderstanding.objects.get(pk=lou.pk).unhcr_obligations_confirmed_on == TODAY
    assert client.post(url, {"description": "Office rent", "amount": "350", "currency": "USD"}).status_code == 302
    assert LetterOfUnderstanding.objects.get(pk=lou.pk).unhcr_obligations_confirmed_on is None


def test_handover_only_where_the_donor_permits(lw, client):
    lou = lw.lou_af
    client.force_login(lw.iom_af_staff)
    data = {"description": "Generator", "quantity": "1", "value": "800", "currency": "USD", "donor": "BPRM"}
    assert client.post(_url("handover_add", lou.pk), data).status_code == 302
    generator = HandoverItem.objects.get(description="Generator")
    decide = {"decision": "handed_over", "recipient_kind": "ngo", "recipient_name": "Local NGO"}
    response = client.post(_url("handover_decide", lou.pk, generator.pk), decide)
    assert response.status_code == 200
    assert "MOU §40: a free handover is recorded only where the donor agreement permits it" in response.content.decode()
    assert HandoverItem.objects.get(pk=generator.pk).status == HandoverStatus.LISTED
    assert client.post(_url("handover_decide", lou.pk, generator.pk), {"decision": "retained"}).status_code == 302
    response = client.post(_url("handover_decide", lou.pk, lw.item_af.pk), {"decision": "handed_over"})
    assert "recipient_kind" in response.context["form"].errors
    response = client.post(_url("handover_decide", lou.pk, lw.item_af.pk), decide)
    assert response.status_code == 302
    truck = HandoverItem.objects.get(pk=lw.item_af.pk)
    assert (truck.status, truck.recipient_name, truck.handed_over_on) == (
        HandoverStatus.HANDED_OVER,
        "Local NGO",
        TODAY,
    )
    response = client.get(_url("handover_decide", lou.pk, lw.item_af.pk), follow=True)
    assert "This asset was already handed over." in response.content.decode()


def test_conclude_after_plan_obligations_and_assets(lw, client):
    lou = in_force(lw)
    agreed_plan(lw, lou)
    services.lou_start_phase_out(actor=lw.iom_af_manager, lou=lou)
    client.force_login(lw.iom_af_manager)
    response = client.get(lou.get_absolute_url())
    assert "conclude" in _blocked(response) and "still to confirm: UNHCR, IOM" in response.content.decode()
    services.lou_confirm_obligations(actor=lw.iom_af_manager, lou=lou)
    services.lou_confirm_obligations(actor=lw.unhcr_af_manager, lou=lou)
    assert "conclude" in _offered(client.get(lou.get_absolute_url()))
    assert client.post(_url("lou_act", lou.pk, "conclude"), {}).status_code == 302
    lou.refresh_from_db()
    assert lou.status == LouStatus.CONCLUDED and lou.ended_on == TODAY


# --- Refusals write nothing ---------------------------------------------------------------------------------------


def test_hq_and_other_offices_cannot_act_and_nothing_is_written(lw, client):
    lou, draft_lou = lw.lou_af, lw.draft_af
    before = (lou.version, draft_lou.version)
    client.force_login(lw.iom_hq_focal)
    assert _sign(client, draft_lou).status_code == 403
    data = {"served_on": TODAY.isoformat(), "reason": "x"}
    assert client.post(_url("lou_act", lou.pk, "serve_notice"), data).status_code == 403
    assert client.post(_url("amendment_create", lou.pk), _amendment_data(text.content_of(lou))).status_code == 403
    client.force_login(lw.iom_de_manager)
    assert _sign(client, draft_lou).status_code == 404
    assert client.post(_url("lou_act", lou.pk, "serve_notice"), data).status_code == 404
    lou.refresh_from_db()
    draft_lou.refresh_from_db()
    assert (lou.version, draft_lou.version) == before


def test_posts_without_csrf_token_forbidden(lw):
    client = Client(enforce_csrf_checks=True)
    client.force_login(lw.unhcr_af_manager)
    assert _sign(client, lw.draft_af).status_code == 403
    assert not Signature.objects.filter(lou=lw.draft_af).exists()
