"""jointops.pdf: the one PDF builder (LoUs, pre-departure lists). Read back with pypdf: text in logical order, Arabic
shaped (contextual letter forms), a footer with "page n of N" on every page, the same bytes for the same input."""

import datetime as dt
import io
import re

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from jointops.pdf import PdfDocument, is_rtl

WHEN = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
HASH = "3f7a" * 16
NAME_AR = "محمد احمدی"  # Mohammad Ahmadi, in Dari


def pages_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def text_of(data: bytes) -> str:
    return "\n".join(pages_text(data))


def glyph_names(data: bytes) -> set[str]:
    """The glyphs of every font embedded in the PDF (fpdf2 embeds the subset actually drawn)."""
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            descendant = font.get_object()["/DescendantFonts"][0].get_object()
            embedded = descendant["/FontDescriptor"].get_object()["/FontFile2"].get_object().get_data()
            names |= set(TTFont(io.BytesIO(embedded)).getGlyphOrder())
    return names


def sample(**overrides) -> PdfDocument:
    doc = PdfDocument(
        title=overrides.pop("title", "Liste avant départ — Hérat"),
        created=overrides.pop("created", WHEN),
        footer=overrides.pop("footer", f"LIST-DE-2026-7 · version 2 · SHA-256 {HASH}"),
        **overrides,
    )
    doc.notice("DRAFT — not in force")
    doc.key_values([("Office", "IOM Germany, Berlin"), ("Content hash (SHA-256)", HASH)])
    doc.section(
        "Coopération",
        paragraphs=["Les agences coopèrent à Kaboul et à Hérat; l'œuvre commune est évaluée chaque année."],
        bullets=["UNHCR — entretiens sur le caractère volontaire", NAME_AR],
    )
    doc.table(
        ["Name", "Name (original script)", "Expected departure"],
        [["Mohammad Ahmadi", NAME_AR, "2026-05-04"], ["Fatemeh Ahmadi", "فاطمه احمدی", "2026-05-04"]],
        widths=(3, 3, 2),
    )
    return doc


def test_render_returns_a_pdf_with_every_block_in_reading_order():
    data = sample().render()

    assert data.startswith(b"%PDF-")
    text = text_of(data)
    for expected in [
        "Liste avant départ — Hérat",
        "DRAFT — not in force",
        "Office",
        "IOM Germany, Berlin",
        "Coopération",
        "UNHCR — entretiens sur le caractère volontaire",
        "Name (original script)",
        "Mohammad Ahmadi",
        "Expected departure",
        "2026-05-04",
    ]:
        assert expected in text
    assert text.index("DRAFT") < text.index("Coopération") < text.index("Expected departure")


def test_french_accents_come_back_unchanged():
    text = text_of(sample().render())

    assert "Les agences coopèrent à Kaboul et à Hérat; l'œuvre commune est évaluée chaque année." in text


def test_arabic_is_extracted_in_logical_order():
    text = text_of(sample().render())

    assert NAME_AR in text
    assert "فاطمه احمدی" in text


def test_arabic_is_shaped_with_contextual_letter_forms():
    data = sample().render()

    names = glyph_names(data)
    # محمد: meem initial, hah medial, meem medial, dal final (Unicode presentation forms FExx of DejaVu Sans).
    assert {"uniFEE3", "uniFEA4", "uniFEE4", "uniFEAA"} <= names
    # Unshaped text would draw the isolated letters instead.
    assert "uni0645" not in names  # meem
    assert "uni062D" not in names  # hah


def test_right_to_left_paragraphs_are_detected_by_their_first_strong_character():
    assert is_rtl(NAME_AR)
    assert is_rtl("  (2026) محمد")
    assert not is_rtl("Mohammad محمد")
    assert not is_rtl("2026-05-04")


def test_every_page_has_the_callers_footer_line_and_page_n_of_n():
    doc = PdfDocument(title="Long list", created=WHEN, footer=f"LOU-AF-2026-ABC123 · version 2 · SHA-256 {HASH}")
    doc.table(["#", "Name"], [[str(n), f"Person {n}"] for n in range(120)])

    pages = pages_text(doc.render())

    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert f"LOU-AF-2026-ABC123 · version 2 · SHA-256 {HASH}" in page
        assert f"Page {number} of {len(pages)}" in page


def test_a_table_spanning_pages_repeats_its_header_row():
    doc = PdfDocument(title="Long list", created=WHEN)
    doc.table(["Given name", "Departure"], [[f"Person {n}", "2026-05-04"] for n in range(120)])

    pages = pages_text(doc.render())

    assert len(pages) >= 3
    assert all("Given name" in page for page in pages)
    found = re.findall(r"Person (\d+)", "\n".join(pages))
    assert sorted(map(int, found)) == list(range(120))


def test_a_hash_too_wide_for_its_column_stays_whole_on_one_line():
    doc = PdfDocument(title="Signatures", created=WHEN)
    doc.table(["Party", "Hash"], [["UNHCR", HASH]], widths=(1, 1))

    assert HASH in text_of(doc.render())


def test_a_row_taller_than_a_page_continues_on_the_next_page_without_losing_text():
    long_text = " ".join(f"word{n}" for n in range(800))
    doc = PdfDocument(title="Long cell", created=WHEN)
    doc.table(["Field", "Value"], [["Description", long_text]])
    doc.key_values([("Long value", long_text)])

    data = doc.render()

    words = text_of(data).split()
    for n in range(800):
        assert words.count(f"word{n}") == 2
    assert len(pages_text(data)) > 2


def test_same_input_gives_the_same_bytes_and_the_callers_date():
    first, second = sample().render(), sample().render()

    assert first == second
    assert PdfReader(io.BytesIO(first)).metadata.creation_date == WHEN
    assert sample(created=WHEN + dt.timedelta(days=1)).render() != first


def test_metadata_title_author_and_language():
    data = sample(author="IOM", subject="Pre-departure list", language="fr").render()

    metadata = PdfReader(io.BytesIO(data)).metadata
    assert metadata.title == "Liste avant départ — Hérat"
    assert metadata.author == "IOM"
    assert metadata.subject == "Pre-departure list"
    assert b"/Lang (fr)" in data


def test_control_characters_are_dropped_and_missing_glyphs_do_not_fail():
    doc = PdfDocument(title="Odd input", created=WHEN)
    doc.paragraph("tab\there\x07bell\r\nnew line")
    doc.paragraph("漢字 outside the font")
    doc.bullets([])
    doc.key_values([])
    doc.table(["A"], [], empty="No entries.")

    text = text_of(doc.render())

    assert "tab    herebell" in text
    assert "new line" in text
    assert "outside the font" in text
    assert "No entries." in text


def test_wrong_input_is_refused_with_a_clear_message():
    with pytest.raises(TypeError, match="created"):
        PdfDocument(title="x", created=dt.date(2026, 3, 1))
    doc = PdfDocument(title="x", created=WHEN)
    with pytest.raises(ValueError, match="row 2 has 1 cells for 2 columns"):
        doc.table(["A", "B"], [["1", "2"], ["3"]])
    with pytest.raises(ValueError, match="3 widths for 2 columns"):
        doc.table(["A", "B"], [["1", "2"]], widths=(1, 1, 1))
