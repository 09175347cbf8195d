"""PDF documents: one small builder for everything the application prints (Letters of Understanding for signature
and the archive, the pre-departure name lists, ...).

Built on fpdf2 (pure Python, from PyPI) with text shaping by HarfBuzz (the `uharfbuzz` wheel), so that names and
texts in Arabic script are joined and laid out right to left. The one font is DejaVu Sans (Latin with every French
accent, Arabic and Persian letters), vendored in static/vendor/fonts/: nothing is fetched at run time and no system
library is needed.

The builder knows nothing of the domain: a caller adds a title, a key/value table, headings, paragraphs, bullet lines
and tables with a header row, gives the line printed in every page's footer (with "page n of N") and the document's
date, and gets bytes back. The same input gives the same bytes: the PDF's creation date is the caller's, never "now".

    doc = PdfDocument(title="Pre-departure list", created=when, footer="IOM-DE-BER · list 12")
    doc.key_values([("Office", "IOM Germany, Berlin")])
    doc.table(["Name", "Date of departure"], [["محمد احمدی", "2026-05-01"]])
    data = doc.render()
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from fpdf import FPDF, FontFace
from fpdf.enums import MethodReturnValue, TableBordersLayout, XPos, YPos

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor" / "fonts" / "dejavu-fonts-ttf-2.37.3"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FAMILY = "dejavu"

MARGIN = 18  # mm
BODY_SIZE = 10
SMALL_SIZE = 7.5
MIN_SIZE = 5.5  # the smallest a hash or a reference is shrunk to, to stay on one line
PADDING = (1.2, 1.5)  # mm: vertical, horizontal padding of table cells
LINE = 5.2  # mm per line of body text
GREY = (90, 90, 90)
RULE = (170, 170, 170)
SHADE = (235, 235, 235)

# fontTools logs every font subset at INFO level: one screenful per document in the server's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

RTL_CLASSES = frozenset({"R", "AL"})
LTR_CLASSES = frozenset({"L"})


def is_rtl(text: str) -> bool:
    """Whether the text's first strongly directional character is right-to-left (Arabic, Hebrew...): the paragraph
    is then aligned on the right, as its reader expects (Unicode bidirectional algorithm, rule P2)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in RTL_CLASSES:
            return True
        if kind in LTR_CLASSES:
            return False
    return False


def needs_shaping(text: str) -> bool:
    """Whether the text needs OpenType shaping to read right: right-to-left scripts (Arabic letters join and change
    form), the Indic and South-East Asian scripts, combining marks. Latin, Greek and Cyrillic text is laid out without
    it, which is many times faster (fpdf2 measures shaped text glyph by glyph)."""
    for char in text:
        if unicodedata.bidirectional(char) in RTL_CLASSES or unicodedata.category(char) == "Mn":
            return True
        code = ord(char)
        if 0x0900 <= code <= 0x109F or 0x1780 <= code <= 0x17FF:
            return True
    return False


def _shape(pdf: FPDF, *texts: str) -> None:
    """Turn the shaping engine on for what comes next if any of `texts` needs it, off otherwise."""
    pdf.set_text_shaping(use_shaping_engine=any(needs_shaping(text) for text in texts))


def _clean(text: Any) -> str:
    """Text as printed: composed (NFC), tabs as spaces, control characters other than line breaks dropped."""
    value = unicodedata.normalize("NFC", "" if text is None else str(text))
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return "".join(c for c in value if c == "\n" or unicodedata.category(c) != "Cc")


def _texts(value: Any) -> list[str]:
    """Every string in a block's value (nested lists and tuples)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    return []


class _Pdf(FPDF):
    def __init__(self, *, running_title: str, footer_line: str, landscape: bool):
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        self.running_title = running_title
        self.footer_line = footer_line

    def header(self) -> None:
        if self.page_no() == 1:
            return
        saved = self.text_shaping
        _shape(self, self.running_title)
        self.set_font(FAMILY, "", SMALL_SIZE)
        self.set_text_color(*GREY)
        self.cell(0, 4, self.running_title, align="R" if is_rtl(self.running_title) else "L")
        self.set_text_color(0, 0, 0)
        self.set_y(self.t_margin + 6)
        self.text_shaping = saved

    def footer(self) -> None:
        saved = self.text_shaping
        page = _("Page %(page)s of %(pages)s") % {"page": self.page_no(), "pages": "{nb}"}
        _shape(self, self.footer_line, page)
        self.set_y(-(MARGIN - 4))
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y() - 1, self.w - self.r_margin, self.get_y() - 1)
        self.set_font(FAMILY, "", SMALL_SIZE)
        self.set_text_color(*GREY)
        if self.footer_line:
            # One line if at all possible (a reference and a hash are read and compared whole).
            needed = self.get_string_width(self.footer_line)
            available = self.epw - 2 * self.c_margin
            if needed > available:
                self.set_font(FAMILY, "", max(MIN_SIZE, SMALL_SIZE * available / needed * 0.98))
            self.multi_cell(0, 3.4, self.footer_line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_font(FAMILY, "", SMALL_SIZE)
        self.cell(0, 3.4, page, align="R")
        self.set_text_color(0, 0, 0)
        self.text_shaping = saved


class PdfDocument:
    """Collects the blocks of a document; `render()` lays them out on A4 pages and returns the PDF's bytes."""

    def __init__(
        self,
        *,
        title: str,
        created: dt.datetime,
        footer: str = "",
        subtitle: str = "",
        author: str = "",
        subject: str = "",
        language: str = "",
        landscape: bool = False,
    ):
        if not isinstance(created, dt.datetime):
            raise TypeError("created must be a datetime (the document's own date, for reproducible output)")
        if created.tzinfo is None:
            created = created.replace(tzinfo=dt.UTC)
        self.title = _clean(title)
        self.subtitle = _clean(subtitle)
        self.created = created
        self.footer = _clean(footer)
        self.author = _clean(author)
        self.subject = _clean(subject)
        self.language = language
        self.landscape = landscape
        self.blocks: list[tuple[str, Any]] = []

    # --- Blocks --------------------------------------------------------------------------------------------------

    def notice(self, text: str) -> PdfDocument:
        """A boxed, bold line that nobody can miss (e.g. "DRAFT — not in force")."""
        self.blocks.append(("notice", _clean(text)))
        return self

    def key_values(self, rows: Iterable[tuple[Any, Any]]) -> PdfDocument:
        """A two-column table of labels and values (the document's particulars)."""
        self.blocks.append(("key_values", [(_clean(key), _clean(value)) for key, value in rows]))
        return self

    def heading(self, text: str) -> PdfDocument:
        self.blocks.append(("heading", _clean(text)))
        return self

    def paragraph(self, text: str, *, bold: bool = False, small: bool = False) -> PdfDocument:
        self.blocks.append(("paragraph", (_clean(text), bold, small)))
        return self

    def bullets(self, lines: Iterable[Any]) -> PdfDocument:
        self.blocks.append(("bullets", [_clean(line) for line in lines]))
        return self

    def section(self, heading: str, *, paragraphs: Iterable[Any] = (), bullets: Iterable[Any] = ()) -> PdfDocument:
        """A heading followed by its paragraphs and then its bullet lines."""
        self.heading(heading)
        for text in paragraphs:
            self.paragraph(text)
        items = list(bullets)
        if items:
            self.bullets(items)
        return self

    def table(
        self,
        header: Sequence[Any],
        rows: Iterable[Sequence[Any]],
        *,
        widths: Sequence[float] | None = None,
        empty: str = "",
    ) -> PdfDocument:
        """A table with a header row (repeated on every page it spans). `widths` are relative column widths;
        `empty` is printed in place of a table without rows."""
        header = [_clean(cell) for cell in header]
        body = [[_clean(cell) for cell in row] for row in rows]
        for number, row in enumerate(body, start=1):
            if len(row) != len(header):
                raise ValueError(f"table row {number} has {len(row)} cells for {len(header)} columns")
        if widths is not None and len(widths) != len(header):
            raise ValueError(f"{len(widths)} widths for {len(header)} columns")
        self.blocks.append(("table", (header, body, tuple(widths) if widths else None, _clean(empty))))
        return self

    def spacer(self, height: float = 3) -> PdfDocument:
        self.blocks.append(("spacer", height))
        return self

    # --- Layout --------------------------------------------------------------------------------------------------

    def render(self) -> bytes:
        pdf = _Pdf(running_title=self.title, footer_line=self.footer, landscape=self.landscape)
        for style, name in FONT_FILES.items():
            pdf.add_font(FAMILY, style, str(FONT_DIR / name))
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(auto=True, margin=MARGIN + 4)
        pdf.set_creation_date(self.created)
        pdf.set_creator("jointops")
        pdf.set_title(self.title)
        if self.author:
            pdf.set_author(self.author)
        if self.subject:
            pdf.set_subject(self.subject)
        if self.language:
            pdf.set_lang(self.language)
        _shape(pdf, self.title, self.subtitle)
        pdf.add_page()
        self._title(pdf)
        for kind, value in self.blocks:
            _shape(pdf, *_texts(value))
            getattr(self, f"_{kind}")(pdf, value)
        return bytes(pdf.output())

    def _write(self, pdf: FPDF, text: str, *, height: float = LINE, indent: float = 0) -> None:
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(
            pdf.epw - indent,
            height,
            text,
            align="R" if is_rtl(text) else "L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def _title(self, pdf: FPDF) -> None:
        pdf.set_font(FAMILY, "B", 16)
        self._write(pdf, self.title, height=7.5)
        if self.subtitle:
            pdf.set_font(FAMILY, "", 11)
            pdf.set_text_color(*GREY)
            self._write(pdf, self.subtitle, height=6)
            pdf.set_text_color(0, 0, 0)
        pdf.ln(3)

    def _notice(self, pdf: FPDF, text: str) -> None:
        pdf.set_font(FAMILY, "B", 12)
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(0.6)
        pdf.multi_cell(pdf.epw, 8, text, border=1, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT, padding=1.5)
        pdf.set_line_width(0.2)
        pdf.ln(3)

    def _heading(self, pdf: FPDF, text: str) -> None:
        # Keep a heading with at least a few lines of what follows it.
        if pdf.will_page_break(7 + 3 * LINE):
            pdf.add_page()
        pdf.ln(2)
        pdf.set_font(FAMILY, "B", 11.5)
        self._write(pdf, text, height=6.5)
        pdf.set_draw_color(*RULE)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(1.5)

    def _paragraph(self, pdf: FPDF, value: tuple[str, bool, bool]) -> None:
        text, bold, small = value
        pdf.set_font(FAMILY, "B" if bold else "", SMALL_SIZE + 1 if small else BODY_SIZE)
        for part in text.split("\n\n"):
            self._write(pdf, part, height=4.2 if small else LINE)
            pdf.ln(1.2)

    def _bullets(self, pdf: FPDF, lines: list[str]) -> None:
        pdf.set_font(FAMILY, "", BODY_SIZE)
        for line in lines:
            rtl = is_rtl(line)
            if pdf.will_page_break(LINE):
                pdf.add_page()
            top = pdf.get_y()
            pdf.set_xy(pdf.w - pdf.r_margin - 5 if rtl else pdf.l_margin, top)
            pdf.cell(5, LINE, "•", align="C")
            pdf.set_xy(pdf.l_margin if rtl else pdf.l_margin + 5, top)
            pdf.multi_cell(pdf.epw - 5, LINE, line, align="R" if rtl else "L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(0.8)
        pdf.ln(1)

    def _fitted(self, pdf: FPDF, text: str, width: float, size: float, *, bold: bool = False) -> FontFace | None:
        """A smaller font for a single unbreakable token (a hash, a reference) too wide for its cell, so it stays on
        one line and can be read and compared whole; None when the text fits or can wrap between words."""
        if not text or any(char.isspace() for char in text):
            return None
        pdf.set_font(FAMILY, "B" if bold else "", size)
        needed = pdf.get_string_width(text)
        if needed <= width:
            return None
        return FontFace(emphasis="BOLD" if bold else None, size_pt=max(MIN_SIZE, size * width / needed * 0.98))

    def _rows_that_fit(
        self, pdf: FPDF, rows: list[list[str]], columns: list[float], size: float, line_height: float, bold: int = -1
    ) -> list[list[str]]:
        """fpdf2 cannot break a table row across pages: a row taller than a page (a long text in a cell) is cut into
        continuation rows of at most a page of lines each, nothing left out."""
        usable = pdf.h - pdf.t_margin - pdf.b_margin - 26  # the running header, a repeated heading row, padding
        most = max(1, int(usable / line_height))
        result = []
        for row in rows:
            wrapped = []
            for index, (text, width) in enumerate(zip(row, columns, strict=True)):
                pdf.set_font(FAMILY, "B" if index == bold else "", size)
                lines = pdf.multi_cell(
                    width + 2 * pdf.c_margin, line_height, text, dry_run=True, output=MethodReturnValue.LINES
                )
                wrapped.append(lines or [""])
            tallest = max(len(lines) for lines in wrapped)
            if tallest <= most:
                result.append(row)
                continue
            for start in range(0, tallest, most):
                result.append(["\n".join(lines[start : start + most]) for lines in wrapped])
        return result

    def _grid(
        self,
        pdf: FPDF,
        header: list[str] | None,
        body: list[list[str]],
        widths: tuple[float, ...],
        *,
        size: float,
        line_height: float,
        bold_first_column: bool = False,
    ) -> None:
        columns = [pdf.epw * width / sum(widths) - 2 * PADDING[1] for width in widths]
        # Measured before the table opens: once open, the table sets the font of each cell itself.
        body = self._rows_that_fit(pdf, body, columns, size, line_height, bold=0 if bold_first_column else -1)
        styles = [
            [
                self._fitted(pdf, text, width, size, bold=bold_first_column and index == 0)
                for index, (text, width) in enumerate(zip(row, columns, strict=True))
            ]
            for row in body
        ]
        pdf.set_font(FAMILY, "", size)
        pdf.set_draw_color(*RULE)
        with pdf.table(
            col_widths=widths,
            first_row_as_headings=header is not None,
            headings_style=FontFace(emphasis="BOLD", fill_color=SHADE),
            borders_layout=TableBordersLayout.ALL if header is not None else TableBordersLayout.HORIZONTAL_LINES,
            text_align="LEFT",
            v_align="TOP",
            line_height=line_height,
            padding=PADDING,
            repeat_headings=1,
        ) as table:
            if header is not None:
                heading_row = table.row()
                for text in header:
                    heading_row.cell(text, align="R" if is_rtl(text) else "L")
            for cells, cell_styles in zip(body, styles, strict=True):
                row = table.row()
                for index, (text, style) in enumerate(zip(cells, cell_styles, strict=True)):
                    if bold_first_column and index == 0 and style is None:
                        style = FontFace(emphasis="BOLD")
                    row.cell(text, style=style, align="R" if is_rtl(text) else "L")
        pdf.ln(3)

    def _key_values(self, pdf: FPDF, rows: list[tuple[str, str]]) -> None:
        if rows:
            body = [[key, value or "—"] for key, value in rows]
            self._grid(pdf, None, body, (28, 72), size=9.5, line_height=4.8, bold_first_column=True)

    def _table(self, pdf: FPDF, value: tuple[list[str], list[list[str]], tuple | None, str]) -> None:
        header, body, widths, empty = value
        if body:
            self._grid(pdf, header, body, widths or (1,) * len(header), size=9, line_height=4.6)
        elif empty:
            pdf.set_font(FAMILY, "", BODY_SIZE)
            self._write(pdf, empty)
            pdf.ln(2)

    def _spacer(self, pdf: FPDF, height: float) -> None:
        pdf.ln(height)
