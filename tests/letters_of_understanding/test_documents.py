"""The PDF of a Letter of Understanding (for signature and the archive): the version printed, its number and the
SHA-256 of exactly the text printed; drafts marked as not in force; every kept version (MOU §46) printable."""

import io

import pytest
from django.http import Http404
from pypdf import PdfReader

from letters_of_understanding import content as text
from letters_of_understanding import services
from letters_of_understanding.choices import ActivityKind, Agency
from letters_of_understanding.documents import lou_pdf
from letters_of_understanding.models import LouVersion
from tests.factories.letters_of_understanding import draft, in_force

pytestmark = pytest.mark.django_db

MINISTRY_AR = "وزارة اللاجئين والعودة"  # Ministry of Refugees and Repatriation
FRENCH = "Coopération à Hérat : réintégration des rapatriés"


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def flat(value: str) -> str:
    """The extracted text on one line: a long paragraph wraps where the layout decides."""
    return " ".join(value.split())


def _letter(w, make=draft, **fields):
    return make(w, title=FRENCH, other_parties=MINISTRY_AR, region="Hérat et Kaboul", **fields)


def _amend(w, lou, description: str):
    proposed = text.content_of(lou)
    proposed["activities"][1]["description"] = description
    amendment = services.amendment_propose(
        actor=w.iom_af_staff, lou=lou, content=proposed, rationale="Reception extended to Hérat"
    )
    services.amendment_approve(actor=w.unhcr_af_manager, amendment=amendment, note="Agreed in Kabul")
    lou.refresh_from_db()
    return lou


def test_draft_prints_its_current_text_marked_not_in_force(world):
    lou = _letter(world)

    data, filename = lou_pdf(lou=lou)

    assert filename == f"{lou.reference}-draft.pdf"
    assert data.startswith(b"%PDF-")
    printed = text_of(data)
    digest = text.content_hash(text.content_of(lou))
    assert "DRAFT — not in force" in printed
    assert lou.reference in printed
    assert digest in printed
    assert f"{lou.reference} · DRAFT — not in force · SHA-256 {digest}" in printed  # the footer
    assert "Not signed yet." in printed


def test_text_prints_activities_french_accents_and_arabic(world):
    lou = _letter(world)

    printed = text_of(lou_pdf(lou=lou)[0])

    assert FRENCH in printed
    assert "Hérat et Kaboul" in printed
    assert MINISTRY_AR in printed  # extracted in logical order
    assert "Protection monitoring and voluntariness interviews" in flat(printed)
    assert "Transport and reception" in flat(printed)
    assert "Number of people transported" in flat(printed)
    assert str(ActivityKind.REINTEGRATION.label) in flat(printed)
    assert "ECHO 100000.00 EUR" in printed
    assert "Joint steering committee in Kabul" in printed
    assert world.unhcr_af.name in printed and world.iom_af.name in printed


def test_partly_signed_draft_shows_the_signature_and_the_hash_signed(world):
    lou = _letter(world)
    lou = services.lou_sign(
        actor=world.unhcr_af_manager, lou=lou, signatory_name="Nadia Rahimi", signatory_title="Représentante"
    )

    printed = text_of(lou_pdf(lou=lou)[0])

    digest = text.content_hash(text.content_of(lou))
    assert "DRAFT — not in force" in printed
    assert "Signed by one party" in printed
    assert "Nadia Rahimi" in printed and "Représentante" in printed
    assert printed.count(digest) >= 3  # particulars, footer and the signature's hash of the text signed


def test_in_force_prints_version_1_with_its_hash_and_both_signatures(world):
    lou = _letter(world, make=in_force)
    kept = LouVersion.objects.get(lou=lou, number=1)

    data, filename = lou_pdf(lou=lou)

    assert filename == f"{lou.reference}-v1.pdf"
    printed = text_of(data)
    assert kept.content_hash == text.content_hash(kept.content)
    assert f"{lou.reference} · version 1 · SHA-256 {kept.content_hash}" in printed
    assert "DRAFT" not in printed
    assert "In force" in printed
    assert "UNHCR Representative" in flat(printed) and "IOM Chief of Mission" in flat(printed)
    assert kept.effective_from.isoformat() in printed


def test_amended_letter_prints_each_version_with_its_own_text_and_hash(world):
    lou = _letter(world, make=in_force)
    lou = _amend(world, lou, "Transport, reception and onward travel from Hérat")
    v1, v2 = LouVersion.objects.filter(lou=lou).order_by("number")

    first, first_name = lou_pdf(lou=lou, version=1)
    second, second_name = lou_pdf(lou=lou, version=2)
    current, current_name = lou_pdf(lou=lou)

    assert (first_name, second_name, current_name) == (
        f"{lou.reference}-v1.pdf",
        f"{lou.reference}-v2.pdf",
        f"{lou.reference}-v2.pdf",
    )
    assert current == second
    assert first != second
    assert v1.content_hash != v2.content_hash
    one, two = text_of(first), text_of(second)
    assert v1.content_hash in one and v2.content_hash not in one
    assert v2.content_hash in two
    assert f"{lou.reference} · version 1 · SHA-256 {v1.content_hash}" in one
    assert f"{lou.reference} · version 2 · SHA-256 {v2.content_hash}" in two
    assert "Transport and reception" in flat(one) and "onward travel" not in one
    assert "Transport, reception and onward travel from Hérat" in flat(two)
    assert "superseded by version 2" in one
    # Version 2 names its amendment and its approval by the other party (MOU §46).
    assert "Amendment 1 to version 1" in two
    assert "Reception extended to Hérat" in two
    assert "Agreed in Kabul" in two
    assert f"{Agency.UNHCR}, {world.unhcr_af_manager.get_full_name() or world.unhcr_af_manager.username}" in two
    assert "Amendment 1" not in one


def test_signatures_keep_the_hash_of_version_1_on_an_amended_version(world):
    lou = _letter(world, make=in_force)
    lou = _amend(world, lou, "Onward travel")
    v1 = LouVersion.objects.get(lou=lou, number=1)

    two = text_of(lou_pdf(lou=lou, version=2)[0])

    assert v1.content_hash in two  # in the signatures table: what the parties signed
    assert "results from amendments" in flat(two)


@pytest.mark.parametrize("version", [2, 0, "abc", None])
def test_unknown_version_is_404(world, version):
    lou = _letter(world, make=in_force)

    if version is None:  # a draft has no version of a text in force
        lou = _letter(world)
        version = 1
    with pytest.raises(Http404):
        lou_pdf(lou=lou, version=version)


def test_same_letter_in_the_same_state_gives_the_same_bytes(world):
    lou = _letter(world, make=in_force)
    draft_lou = _letter(world)

    assert lou_pdf(lou=lou, version=1) == lou_pdf(lou=lou, version=1)
    assert lou_pdf(lou=draft_lou) == lou_pdf(lou=draft_lou)


def test_changed_draft_changes_its_hash_and_its_pdf(world):
    lou = _letter(world)
    before, _name = lou_pdf(lou=lou)

    lou = services.lou_update(actor=world.iom_af_staff, lou=lou, version=lou.version, linkages="New linkages")

    after = text_of(lou_pdf(lou=lou)[0])
    assert text.content_hash(text.content_of(lou)) in after
    assert "New linkages" in after
    assert "New linkages" not in text_of(before)
