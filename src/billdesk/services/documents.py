"""Invoice and account statement PDFs (E5, P5) with ReportLab.

``invoice_pdf(invoice_id)`` and ``statement_pdf(statement)`` return the PDF
bytes and, given a ``target``, also write them there (atomically). Amounts
are shown in the client's currency and language (Babel, as
``Money.format``), dates in Babel's medium format, country codes as the
language names them; the company's details, tax id and logo head every
document, and the client's default billing contact, when set, is who it
is addressed to (K1).

Speed is part of the design (an invoice renders in about 4 ms, a
10,000-row statement in well under a second; ReportLab here runs without
its optional C accelerator):

- Long tables are one ``_Rows`` flowable that knows every row's height in
  advance: at a page end it keeps exactly the rows that fit and hands the
  rest on, each piece drawing the header row first, so the header repeats
  on every page and the work is linear in the rows (one ReportLab
  ``Table`` split page by page is not; even 500-row chunks of them cost
  about 2 s per 10,000 rows). A row can be a heading (bold, spanning the
  table: an invoice's service group, S7); a heading never ends a page.
- Text is drawn through one PDF text object per block (``_Pen``), cells
  are plain strings wrapped by us, never Paragraphs (so user text needs no
  markup escaping: "<" and "&" print as typed), and amounts use a
  Babel-checked fast formatter.
- "Page N of M" comes from a canvas that keeps its pages and numbers them
  when it is saved: one layout pass.
- The built-in Helvetica needs no font file. Text that Windows-1252 cannot
  hold (Polish "ł", Greek, Cyrillic) switches that document to a Unicode
  TrueType font of the system (DejaVu Sans, Arial) when there is one;
  none ships with billdesk.

No Qt here (services never import it)."""

from __future__ import annotations

import bisect
import datetime as dt
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from peewee import JOIN
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Spacer

from billdesk.errors import NotFound
from billdesk.models import Client, Contact, database
from billdesk.services import invoicing, settings
# Amounts, dates and addresses live in addresses.py (emails use them without
# ReportLab); quote_documents.py, gdpr.py and the tests read them here too.
from billdesk.services.addresses import (
    _PRINTABLE,  # noqa: F401
    _address,
    _amount_formatter,
    _country,  # noqa: F401
    _date,
    _locale_name,
    _rate,
)
from billdesk.services.statements import Statement

__all__ = ["invoice_pdf", "statement_pdf"]

# --- page and palette

PAGE_W, PAGE_H = A4
MARGIN_X = 16 * mm
MARGIN_TOP = 16 * mm
MARGIN_BOTTOM = 20 * mm
FRAME_W = PAGE_W - 2 * MARGIN_X

INK = colors.HexColor("#1F2933")
MUTED = colors.HexColor("#66707C")
ACCENT = colors.HexColor("#1F4E79")
RULE = colors.HexColor("#C9D0D8")
HEAD_BG = colors.HexColor("#E9EEF4")
ZEBRA = colors.HexColor("#F6F8FA")
DUE_BG = colors.HexColor("#E9EEF4")
STATUS_COLOURS = {
    "Paid": colors.HexColor("#1E7B45"), "Unpaid": colors.HexColor("#B23B21"),
    "Collections": colors.HexColor("#B23B21"), "Draft": MUTED, "Cancelled": MUTED,
    "Refunded": ACCENT,
}

LOGO_MAX_W = 40 * mm
LOGO_MAX_H = 22 * mm
MAX_CELL_LINES = 40  # a row never outgrows a page


# --- fonts

@dataclass(frozen=True, slots=True)
class _Fonts:
    regular: str
    bold: str


HELVETICA = _Fonts("Helvetica", "Helvetica-Bold")


def _font_candidates() -> list[tuple[Path, Path]]:
    """System fonts that cover Latin Extended, Greek and Cyrillic, narrow
    ones first (closest to Helvetica's metrics). No font ships with billdesk."""
    dirs = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu-sans-fonts"),
            Path("/usr/share/fonts/dejavu"), Path("/usr/share/fonts/TTF"),
            Path("/usr/local/share/fonts")]
    found = [(d / f"DejaVuSans{kind}.ttf", d / f"DejaVuSans{kind}-Bold.ttf")
             for kind in ("Condensed", "") for d in dirs]
    windows = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
    found.append((windows / "arial.ttf", windows / "arialbd.ttf"))
    mac = Path("/System/Library/Fonts/Supplemental")
    found.append((mac / "Arial.ttf", mac / "Arial Bold.ttf"))
    return found


@lru_cache(maxsize=None)
def _unicode_fonts() -> _Fonts | None:
    """A Unicode TrueType pair registered with ReportLab, or None."""
    from reportlab.pdfbase.ttfonts import TTFont

    for regular, bold in _font_candidates():
        if not regular.is_file():
            continue
        try:
            pdfmetrics.registerFont(TTFont("BilldeskSans", str(regular)))
            if bold.is_file():
                pdfmetrics.registerFont(TTFont("BilldeskSans-Bold", str(bold)))
                return _Fonts("BilldeskSans", "BilldeskSans-Bold")
            return _Fonts("BilldeskSans", "BilldeskSans")
        except Exception:  # a broken font file: try the next one
            continue
    return None


def _fonts_for(texts: Iterable[str]) -> _Fonts:
    """Helvetica when Windows-1252 holds every character, else DejaVu."""
    try:
        "\n".join(texts).encode("cp1252")
    except UnicodeEncodeError:
        return _unicode_fonts() or HELVETICA
    return HELVETICA


# --- who and from whom

@dataclass(slots=True)
class _Party:
    name: str
    lines: list[str]



_ADDRESS_KEYS = ("address1", "address2", "city", "state", "postcode", "country")
_PERSON_KEYS = ("first_name", "last_name", "company") + _ADDRESS_KEYS


@lru_cache(maxsize=4)
def _recipient_sql(param: str) -> str:
    """One query for the client and its default billing contact, compiled
    by peewee once per placeholder style (building a query costs more than
    SQLite's work)."""
    contact = Contact.alias()
    query = (Client.select(*(getattr(Client, k) for k in _PERSON_KEYS), Client.tax_id,
                           Client.language, contact.id,
                           *(getattr(contact, k) for k in _PERSON_KEYS))
             .join(contact, JOIN.LEFT_OUTER, on=(contact.id == Client.billing_contact))
             .where(Client.id == 0))
    sql, _ = query.sql()
    return sql


def _recipient(client_id: int) -> tuple[_Party, str]:
    """Who the document is addressed to (the default billing contact when
    set, K1) and the Babel locale for the client's language."""
    row = database.execute_sql(_recipient_sql(database.param), [client_id]).fetchone()
    if row is None:
        raise NotFound("client_id", f"no client #{client_id}")
    n = len(_PERSON_KEYS)
    client = dict(zip(_PERSON_KEYS, row[:n]))
    tax_id, language, contact_id = row[n:n + 3]
    locale = _locale_name(language)
    name = f"{client['first_name']} {client['last_name']}".strip()
    company = client["company"] or ""
    address_from = client
    if contact_id is not None:
        contact = dict(zip(_PERSON_KEYS, row[n + 3:]))
        client_name = name
        name = f"{contact['first_name']} {contact['last_name']}".strip() or name
        company = contact["company"] or company
        if any((contact[k] or "").strip() for k in _ADDRESS_KEYS):
            address_from = contact
        elif not company and name != client_name:
            # the contact has no address of its own: at the client's, named
            # as the client is (not the contact's name over a stranger's door)
            company = client_name
    lines = ([company] if company else []) + _address(address_from, locale)
    if tax_id:
        lines.append(f"Tax ID: {tax_id}")
    return _Party(name, lines), locale


def _company_lines(company: settings.Company, locale: str) -> list[str]:
    lines = _address(
        {"address1": company.address1, "address2": company.address2, "city": company.city,
         "state": company.state, "postcode": company.postcode, "country": company.country},
        locale)
    contact = "  ·  ".join(p for p in (company.email, company.phone) if p)
    if contact:
        lines.append(contact)
    if company.tax_id:
        lines.append(f"Tax ID: {company.tax_id}")
    return lines


# --- the logo: decoded and scaled to print size once, reused by every document

@dataclass(slots=True)
class _Logo:
    key: str
    width: float  # drawn size in points
    height: float
    reader: ImageReader


@lru_cache(maxsize=4)
def _logo(data: bytes) -> _Logo | None:
    """The company logo scaled down to what the page shows (at 300 dpi),
    ready to draw; None when the bytes are not an image."""
    import hashlib

    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:
        return None
    w_px, h_px = image.size
    if not w_px or not h_px:
        return None
    scale = min(LOGO_MAX_W / w_px, LOGO_MAX_H / h_px)
    width, height = w_px * scale, h_px * scale
    target = (max(1, round(width / 72 * 200)), max(1, round(height / 72 * 200)))  # 200 dpi
    if target[0] < w_px:
        image = image.resize(target, Image.LANCZOS)
    alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if alpha else "RGB")
    if alpha and image.getextrema()[3] == (255, 255):  # opaque after all: no soft mask
        image = image.convert("RGB")
    return _Logo(hashlib.md5(data).hexdigest(), width, height, ImageReader(image))


def _draw_logo(canv: rl_canvas.Canvas, logo: _Logo, x: float, y: float) -> None:
    """The logo, already scaled to print size (so each document compresses
    only a small image)."""
    canv.drawImage(logo.reader, x, y, logo.width, logo.height, mask="auto")


# --- drawing text

def _wrap(text: str, font: str, size: float, width: float, limit: int | None = None) -> list[str]:
    """Lines of ``text`` no wider than ``width`` (a word longer than the
    width is cut), at most ``limit`` of them."""
    sw = _text_width
    out: list[str] = []
    space = sw(" ", font, size)
    for paragraph in (text or "").split("\n"):
        if sw(paragraph, font, size) <= width:
            out.append(paragraph)
            continue
        line: list[str] = []
        used = -space
        for word in paragraph.split():
            w = sw(word, font, size)
            while w > width and len(word) > 1:  # one unbreakable word: cut it
                if line:
                    out.append(" ".join(line))
                    line, used = [], -space
                cut = len(word) - 1
                while cut > 1 and sw(word[:cut], font, size) > width:
                    cut -= 1
                out.append(word[:cut])
                word = word[cut:]
                w = sw(word, font, size)
            if line and used + space + w > width:
                out.append(" ".join(line))
                line, used = [], -space
            line.append(word)
            used += space + w
        out.append(" ".join(line))
    return out[:limit] or [""]


# Built-in fonts take Windows-1252 bytes; a PDF string escapes \, ( and )
# and, to stay ASCII, every byte outside 32..126 as octal.


@lru_cache(maxsize=None)
def _measure(font_name: str) -> Callable[[str, float], float]:
    """``stringWidth`` for one font. For the built-in fonts, a sum over
    the font's width table (ReportLab's own is pure Python unless the
    optional rl_accel is installed, and this is the hot path)."""
    font = pdfmetrics.getFont(font_name)
    widths = getattr(font, "widths", None)
    if (getattr(font, "_dynamicFont", True) or getattr(font, "encName", "") != "WinAnsiEncoding"
            or not isinstance(widths, list) or len(widths) != 256):
        return lambda text, size: pdfmetrics.stringWidth(text, font_name, size)
    per_mille = [w / 1000 for w in widths]
    get = per_mille.__getitem__

    def width(text: str, size: float) -> float:
        try:
            return sum(map(get, text.encode("cp1252"))) * size
        except UnicodeEncodeError:
            return pdfmetrics.stringWidth(text, font_name, size)

    return width


def _text_width(text: str, font: str, size: float) -> float:
    return _measure(font)(text, size)


class _Pen:
    """Positioned text through one PDF text object (BT … ET) per block,
    rather than ``drawString``'s text object per string."""

    def __init__(self, canv: rl_canvas.Canvas) -> None:
        self.canv = canv
        self.tx = canv.beginText()
        self._font: tuple[str, float] = ("", 0.0)
        self._measure: Callable[[str, float], float] = _measure("Helvetica")
        self._color: Any = None

    def use(self, font: str, size: float, color: Any = INK) -> None:
        if self._font != (font, size):
            self.tx.setFont(font, size)
            self._font = (font, size)
            self._measure = _measure(font)
        if color is not self._color:
            self.tx.setFillColor(color)
            self._color = color

    def at(self, x: float, y: float, text: str) -> None:
        if text:
            self.tx.setTextOrigin(x, y)
            self.tx.textOut(text)

    def right(self, x: float, y: float, text: str) -> None:
        if text:
            self.at(x - self._measure(text, self._font[1]), y, text)

    def close(self) -> None:
        self.canv.drawText(self.tx)


def _baseline(top: float, leading: float, size: float) -> float:
    """Where text sits in a line box from ``top`` down by ``leading``."""
    return top - leading + (leading - size) * 0.5 + size * 0.22


@dataclass(slots=True)
class _Text:
    text: str
    font: str
    size: float
    color: Any = INK
    leading: float = 0.0
    space_after: float = 0.0

    def __post_init__(self) -> None:
        self.leading = self.leading or round(self.size * 1.32, 2)


def _lay(items: Sequence[_Text], width: float) -> list[_Text]:
    """Wrap each item to the width: one _Text per printed line."""
    out: list[_Text] = []
    for item in items:
        lines = _wrap(item.text, item.font, item.size, width)
        for n, line in enumerate(lines):
            last = n == len(lines) - 1
            out.append(_Text(line, item.font, item.size, item.color, item.leading,
                             item.space_after if last else 0.0))
    return out


def _height(lines: Sequence[_Text]) -> float:
    return sum(t.leading + t.space_after for t in lines)


def _draw_lines(pen: _Pen, lines: Sequence[_Text], x: float, top: float,
                align: str = "left") -> None:
    y = top
    for t in lines:
        pen.use(t.font, t.size, t.color)
        baseline = _baseline(y, t.leading, t.size)
        if align == "right":
            pen.right(x, baseline, t.text)
        else:
            pen.at(x, baseline, t.text)
        y -= t.leading + t.space_after


class _TextBlock(Flowable):
    """Lines of plain text (never markup, so "<" and "&" print as typed),
    wrapped to the frame and split between pages at a line."""

    def __init__(self, items: Sequence[_Text], space_before: float = 0.0,
                 lines: list[_Text] | None = None) -> None:
        super().__init__()
        self.items = list(items)
        self.lines = lines
        self.spaceBefore = space_before

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if self.lines is None:
            self.lines = _lay(self.items, availWidth)
        self.width, self.height = availWidth, _height(self.lines)
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        self.wrap(availWidth, availHeight)
        used, n = 0.0, 0
        for n, line in enumerate(self.lines):
            if used + line.leading > availHeight:
                break
            used += line.leading + line.space_after
        else:
            return [self]
        if n == 0:
            return []
        return [_TextBlock([], self.spaceBefore, self.lines[:n]), _TextBlock([], 0, self.lines[n:])]

    def draw(self) -> None:
        pen = _Pen(self.canv)
        _draw_lines(pen, self.lines, 0, self.height)
        pen.close()


# --- the header block at the top of page one

@dataclass(slots=True)
class _HeaderData:
    company: settings.Company
    company_lines: list[str]
    logo: _Logo | None
    title: str
    subtitle: list[str]
    party_label: str
    party: _Party
    meta: list[tuple[str, str, Any]]  # label, value, value colour (None: plain)
    highlight: tuple[str, str, Any] | None  # label, value, colour


class _Header(Flowable):
    """Logo and company, title and the figure that matters, addressee and
    the document's facts, drawn straight on the canvas."""

    def __init__(self, data: _HeaderData, fonts: _Fonts) -> None:
        super().__init__()
        self.data = data
        self.fonts = fonts
        self.width = -1.0

    def _layout(self, width: float) -> None:
        d, f = self.data, self.fonts
        self.width = width
        # band A: logo or name (left), company details (right)
        # (without a logo the name stands large at the left, not twice)
        right_w = width * 0.55
        named = [_Text(d.company.name, f.bold, 10.5, INK, space_after=1.5)] if d.logo else []
        self.company = _lay([t for t in named if t.text]
                            + [_Text(line, f.regular, 8.5, MUTED) for line in d.company_lines],
                            right_w)
        self.brand = []
        if d.logo is not None:
            left_h = d.logo.height
        elif d.company.name:
            self.brand = _lay([_Text(d.company.name, f.bold, 16, ACCENT, leading=20)],
                              width - right_w - 6 * mm)
            left_h = _height(self.brand)
        else:
            left_h = 0.0
        self.band_a = max(left_h, _height(self.company))
        self.gap_ab = 8 * mm if self.band_a else 0.0
        # band B: title (left) and the highlighted figure (right)
        self.title = _lay([_Text(d.title, f.bold, 21, ACCENT, leading=27)]
                          + [_Text(s, f.regular, 9.5, MUTED) for s in d.subtitle], width * 0.6)
        self.highlight: list[_Text] = []
        if d.highlight:
            label, value, colour = d.highlight
            self.highlight = _lay([_Text(label, f.regular, 8.5, MUTED),
                                   _Text(value, f.bold, 16, colour, leading=21)], width * 0.4)
        self.band_b = max(_height(self.title), _height(self.highlight))
        # band C: addressee (left), facts (right)
        self.party = _lay([_Text(d.party_label.upper(), f.bold, 7.5, MUTED, space_after=2.5),
                           _Text(d.party.name, f.bold, 10.5, INK, leading=14)]
                          + [_Text(line, f.regular, 9.5, INK) for line in d.party.lines],
                          width * 0.5)
        self.meta_label_w = 32 * mm
        self.meta_value_w = 50 * mm
        self.meta: list[tuple[list[_Text], list[_Text]]] = []
        for label, value, colour in d.meta:
            self.meta.append((
                _lay([_Text(label, f.regular, 9, MUTED, leading=13.5)], self.meta_label_w - 2 * mm),
                _lay([_Text(value, f.bold if colour is not None else f.regular, 9, colour or INK,
                            leading=13.5)], self.meta_value_w - 2 * mm)))
        meta_h = sum(max(_height(a), _height(b)) for a, b in self.meta)
        self.band_c = max(_height(self.party), meta_h)
        self.gap_bc = 6 * mm
        self.height = self.band_a + self.gap_ab + self.band_b + self.gap_bc + self.band_c + 8 * mm

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if self.width != availWidth:
            self._layout(availWidth)
        return self.width, self.height

    def draw(self) -> None:
        c, d = self.canv, self.data
        top = self.height
        if d.logo is not None:
            _draw_logo(c, d.logo, 0, top - d.logo.height)
        if self.band_a:  # a hairline under the letterhead
            rule_y = top - self.band_a - self.gap_ab * 0.5
            c.setStrokeColor(RULE)
            c.setLineWidth(0.6)
            c.line(0, rule_y, self.width, rule_y)
        pen = _Pen(c)
        _draw_lines(pen, self.brand, 0, top)
        _draw_lines(pen, self.company, self.width, top, "right")
        y = top - self.band_a - self.gap_ab
        _draw_lines(pen, self.title, 0, y)
        _draw_lines(pen, self.highlight, self.width, y, "right")
        y -= self.band_b + self.gap_bc
        _draw_lines(pen, self.party, 0, y)
        label_x = self.width - self.meta_label_w - self.meta_value_w
        for label, value in self.meta:
            _draw_lines(pen, label, label_x, y)
            _draw_lines(pen, value, self.width, y, "right")
            y -= max(_height(label), _height(value))
        pen.close()


# --- long tables

Cell = str | tuple[str, ...]  # one line, or the lines of a wrapped cell


@dataclass(slots=True)
class _Grid:
    """The columns of a long table: widths, header, alignment, type."""

    widths: list[float]
    header: list[str]
    right: frozenset[int]  # right-aligned columns (amounts)
    wrap: tuple[int, ...]  # columns whose text may wrap
    fonts: _Fonts
    size: float = 8.5
    leading: float = 10.5
    pad_v: float = 3.5
    pad_h: float = 5.0

    @property
    def width(self) -> float:
        return sum(self.widths)

    @property
    def header_height(self) -> float:
        return self.leading + 2 * self.pad_v + 2

    def rows(self, rows: Iterable[Sequence[str]], headings: frozenset[int] = frozenset()
             ) -> tuple[list[tuple[Cell, ...]], list[float]]:
        """The rows as cells (wrapped where needed) and their heights. The
        rows numbered in ``headings`` are one bold cell across the table."""
        font, size, sw = self.fonts.regular, self.size, _text_width
        limits = [(col, self.widths[col] - 2 * self.pad_h, {}) for col in self.wrap]
        one = self.leading + 2 * self.pad_v
        cells: list[tuple[Cell, ...]] = []
        heights: list[float] = []
        for n, row in enumerate(rows):
            if n in headings:
                text = row[0]
                wrapped = _wrap(text, self.fonts.bold, size, self.width - 2 * self.pad_h,
                                MAX_CELL_LINES)
                cells.append((text if len(wrapped) == 1 else tuple(wrapped),))
                heights.append(len(wrapped) * self.leading + 2 * self.pad_v)
                continue
            out: list[Cell] = list(row)
            lines = 1
            for col, width, seen in limits:
                text = out[col]
                fits = seen.get(text)
                if fits is None:
                    fits = seen[text] = sw(text, font, size) <= width and "\n" not in text
                    if len(seen) > 512:
                        seen.clear()
                if not fits:
                    wrapped = tuple(_wrap(text, font, size, width, MAX_CELL_LINES))
                    out[col] = wrapped
                    lines = max(lines, len(wrapped))
            cells.append(tuple(out))
            heights.append(one if lines == 1 else lines * self.leading + 2 * self.pad_v)
        return cells, heights


class _Rows(Flowable):
    """Any number of rows as one flowable. Every row's height is known in
    advance, so at a page end it keeps exactly the rows that fit and hands
    the rest on as a new _Rows; each piece draws the header row first, so
    the header repeats on every page. Heading rows (``headings``, their
    indices) span the table in bold and stay with the row after them.
    Linear in the number of rows."""

    def __init__(self, grid: _Grid, cells: list[tuple[Cell, ...]], heights: list[float],
                 start: int = 0, end: int | None = None, tops: list[float] | None = None,
                 headings: frozenset[int] = frozenset()) -> None:
        super().__init__()
        self.grid = grid
        self.cells = cells
        self.heights = heights
        self.headings = headings
        self.start = start
        self.end = len(cells) if end is None else end
        if tops is None:  # tops[i]: the height of rows[:i]
            tops = [0.0]
            total = 0.0
            for h in heights:
                total += h
                tops.append(total)
        self.tops = tops
        self.width = grid.width
        self.height = grid.header_height + tops[self.end] - tops[start]

    @classmethod
    def of(cls, grid: _Grid, rows: Iterable[Sequence[str]],
           headings: frozenset[int] = frozenset()) -> _Rows:
        cells, heights = grid.rows(rows, headings)
        return cls(grid, cells, heights, headings=headings)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        room = availHeight - self.grid.header_height
        end = bisect.bisect_right(self.tops, self.tops[self.start] + room + 1e-6, self.start,
                                  self.end + 1) - 1
        if end >= self.end:
            return [self] if end > self.start else []
        while end > self.start and end - 1 in self.headings:
            end -= 1  # a heading goes to the next page with its first row
        if end <= self.start:
            return []  # not even one row fits here: start on the next page
        return [_Rows(self.grid, self.cells, self.heights, self.start, end, self.tops,
                      self.headings),
                _Rows(self.grid, self.cells, self.heights, end, self.end, self.tops,
                      self.headings)]

    def draw(self) -> None:
        c, g = self.canv, self.grid
        width, top, header_h = self.width, self.height, g.header_height
        c.saveState()
        c.setFillColor(HEAD_BG)
        c.rect(0, top - header_h, width, header_h, stroke=0, fill=1)
        stripes = c.beginPath()  # zebra by the row's index: it continues across pages
        y = top - header_h
        heights, headings = self.heights, self.headings
        for i in range(self.start, self.end):
            h = heights[i]
            if i % 2 and i not in headings:
                stripes.rect(0, y - h, width, h)
            y -= h
        c.setFillColor(ZEBRA)
        c.drawPath(stripes, stroke=0, fill=1)
        c.setStrokeColor(ACCENT)
        c.setLineWidth(0.9)
        c.line(0, top - header_h, width, top - header_h)
        c.setStrokeColor(RULE)
        c.setLineWidth(0.6)
        c.line(0, 0, width, 0)

        pen = _Pen(c)
        lefts, rights = [], []
        x = 0.0
        for w in g.widths:
            lefts.append(x + g.pad_h)
            rights.append(x + w - g.pad_h)
            x += w
        columns = [(n, lefts[n], rights[n], n in g.right) for n in range(len(g.widths))]
        pen.use(g.fonts.bold, g.size - 0.5, INK)
        base = _baseline(top - g.pad_v - 1, g.leading, g.size)
        for (n, left, right, align_right), text in zip(columns, g.header):
            (pen.right(right, base, text) if align_right else pen.at(left, base, text))
        pen.use(g.fonts.regular, g.size, INK)
        leading = g.leading
        row_top = top - header_h
        at, right_at = pen.at, pen.right
        for i in range(self.start, self.end):
            base = _baseline(row_top - g.pad_v, leading, g.size)
            if i in headings:  # one bold cell across the table
                pen.use(g.fonts.bold, g.size, INK)
                heading = self.cells[i][0]
                for line in (heading,) if heading.__class__ is str else heading:
                    at(lefts[0], base, line)
                    base -= leading
                pen.use(g.fonts.regular, g.size, INK)
                row_top -= heights[i]
                continue
            for (n, left, right, align_right), cell in zip(columns, self.cells[i]):
                if cell.__class__ is str:
                    (right_at(right, base, cell) if align_right else at(left, base, cell))
                else:
                    y = base
                    for line in cell:
                        (right_at(right, y, line) if align_right else at(left, y, line))
                        y -= leading
            row_top -= heights[i]
        pen.close()
        c.restoreState()


# --- totals and the summary strip

class _Totals(Flowable):
    """Label and amount pairs at the right of the page. Kinds: "" plain,
    "total" (bold, rule above), "due" (bold, shaded), "note" (muted)."""

    HEIGHTS = {"": 17.0, "total": 20.0, "due": 25.0, "note": 15.0}

    def __init__(self, rows: list[tuple[str, str, str]], fonts: _Fonts, width: float = 88 * mm,
                 space_before: float = 0.0) -> None:
        super().__init__()
        self.rows = rows
        self.fonts = fonts
        self.box_w = width
        self.spaceBefore = space_before
        self.height = sum(self.HEIGHTS[kind] for _, _, kind in rows)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        return availWidth, self.height

    def draw(self) -> None:
        c, f = self.canv, self.fonts
        x0, x1 = self.width - self.box_w, self.width
        y = self.height
        pen = _Pen(c)
        for label, value, kind in self.rows:
            h = self.HEIGHTS[kind]
            if kind == "due":
                c.setFillColor(DUE_BG)
                c.rect(x0, y - h, self.box_w, h, stroke=0, fill=1)
                label_style, value_style = (f.bold, 11, ACCENT), (f.bold, 11, ACCENT)
            elif kind == "total":
                c.setStrokeColor(INK)
                c.setLineWidth(0.8)
                c.line(x0, y - 1.5, x1, y - 1.5)
                label_style, value_style = (f.bold, 10, INK), (f.bold, 10, INK)
            elif kind == "note":
                label_style = value_style = (f.regular, 8.5, MUTED)
            else:
                label_style, value_style = (f.regular, 9.5, MUTED), (f.regular, 9.5, INK)
            base = y - h / 2 - label_style[1] * 0.32 - (0.75 if kind == "total" else 0)
            pen.use(*label_style)
            pen.at(x0 + 6, base, label)
            pen.use(*value_style)
            pen.right(x1 - 6, base, value)
            y -= h
        pen.close()


class _Strip(Flowable):
    """Figures side by side in shaded boxes (the statement's summary)."""

    def __init__(self, items: list[tuple[str, str]], fonts: _Fonts) -> None:
        super().__init__()
        self.items = items
        self.fonts = fonts
        self.height = 40.0

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        return availWidth, self.height

    def draw(self) -> None:
        c, f = self.canv, self.fonts
        gap = 2.5 * mm
        n = len(self.items)
        box = (self.width - gap * (n - 1)) / n
        c.setFillColor(ZEBRA)
        for i in range(n):
            c.rect(i * (box + gap), 0, box, self.height, stroke=0, fill=1)
        c.setFillColor(ACCENT)
        c.rect((n - 1) * (box + gap), 0, 2.2, self.height, stroke=0, fill=1)
        pen = _Pen(c)
        for i, (label, value) in enumerate(self.items):
            x = i * (box + gap) + 8
            pen.use(f.regular, 8, MUTED)
            pen.at(x, self.height - 14, label)
            pen.use(f.bold, 11.5, ACCENT if i == n - 1 else INK)
            pen.at(x, 10, value)
        pen.close()


# --- page furniture and rendering

class _NumberedCanvas(rl_canvas.Canvas):
    """Keeps every page until save, then writes "Page N of M" on each:
    page numbers without a second layout pass."""

    def __init__(self, *args: Any, font: str = "Helvetica", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self._number_font = font

    def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(self._number_font, 8)
            self.setFillColor(MUTED)
            self.drawRightString(PAGE_W - MARGIN_X, FOOTER_Y, f"Page {number} of {total}")
            super().showPage()
        super().save()


FOOTER_Y = 10 * mm


def _fit(text: str, font: str, size: float, width: float) -> str:
    if _text_width(text, font, size) <= width:
        return text
    while text and _text_width(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


@dataclass(slots=True)
class _Page:
    """What every page carries: the footer, and on later pages a running head."""

    fonts: _Fonts
    footer: str
    running_head: str

    def first(self, canv: rl_canvas.Canvas, doc: Any) -> None:
        self._footer(canv)

    def later(self, canv: rl_canvas.Canvas, doc: Any) -> None:
        canv.saveState()
        canv.setFont(self.fonts.regular, 8)
        canv.setFillColor(MUTED)
        canv.drawString(MARGIN_X, PAGE_H - 10 * mm,
                        _fit(self.running_head, self.fonts.regular, 8, FRAME_W))
        canv.restoreState()
        self._footer(canv)

    def _footer(self, canv: rl_canvas.Canvas) -> None:
        canv.saveState()
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.5)
        canv.line(MARGIN_X, FOOTER_Y + 4 * mm, PAGE_W - MARGIN_X, FOOTER_Y + 4 * mm)
        canv.setFont(self.fonts.regular, 8)
        canv.setFillColor(MUTED)
        canv.drawString(MARGIN_X, FOOTER_Y, _fit(self.footer, self.fonts.regular, 8,
                                                 FRAME_W - 30 * mm))
        canv.restoreState()


def _render(story: list[Flowable], page: _Page, *, title: str, author: str, subject: str) -> bytes:
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, title=title, author=author, subject=subject,
        creator="billdesk", producer="billdesk (ReportLab)")

    def frame() -> Frame:  # no padding: the frame is exactly FRAME_W wide
        return Frame(MARGIN_X, MARGIN_BOTTOM, FRAME_W, PAGE_H - MARGIN_TOP - MARGIN_BOTTOM,
                     leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)

    doc.addPageTemplates([
        PageTemplate("first", [frame()], onPage=page.first, autoNextPageTemplate="later"),
        PageTemplate("later", [frame()], onPage=page.later),
    ])

    def canvasmaker(*args: Any, **kwargs: Any) -> _NumberedCanvas:
        return _NumberedCanvas(*args, font=page.fonts.regular, **kwargs)

    # Flate-compressed streams stay binary: ASCII85 on top only costs time
    # (ReportLab reads this switch while it writes the file).
    a85 = rl_config.useA85
    rl_config.useA85 = 0
    try:
        doc.build(story, canvasmaker=canvasmaker)
    finally:
        rl_config.useA85 = a85
    return buffer.getvalue()


def _write(data: bytes, target: str | os.PathLike[str] | None) -> bytes:
    """Write atomically (a temporary file renamed over the target)."""
    if target is not None:
        path = Path(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    return data


def _company() -> tuple[settings.Company, _Logo | None]:
    company = settings.company()
    data = settings.company_logo()
    return company, (_logo(data) if data else None)


# --- the invoice

def invoice_pdf(invoice_id: int, target: str | os.PathLike[str] | None = None) -> bytes:
    """The invoice as a PDF (E5); also written to ``target`` when given."""
    inv = invoicing.get_invoice(invoice_id)
    party, locale = _recipient(inv.client_id)
    company, logo = _company()
    company_lines = _company_lines(company, locale)
    money = _amount_formatter(inv.currency, locale)
    number = inv.number or "Draft"
    status_colour = STATUS_COLOURS.get(inv.status, INK)

    meta: list[tuple[str, str, Any]] = [
        ("Invoice number", number, None),
        ("Invoice date", _date(inv.date, locale), None),
        ("Due date", _date(inv.due_date, locale), None),
    ]
    if inv.paid_date and inv.status in ("Paid", "Refunded"):
        meta.append(("Paid date", _date(inv.paid_date, locale), None))
    meta.append(("Status", inv.status, status_colour))
    if inv.payment_method:
        meta.append(("Payment method", inv.payment_method, None))

    subtitle: list[str] = []
    if inv.is_add_funds:
        subtitle.append("Add funds: the amount paid is added to your account credit.")
    if not inv.number:
        subtitle.append("Draft – not yet issued")
    if inv.status in invoicing.OPEN:
        highlight = ("Balance due", money(inv.balance), ACCENT)
    else:
        highlight = ("Status", inv.status, status_colour)

    marked = inv.rates.any  # "*" marks taxed lines when the invoice charges tax
    rows: list[tuple[str, str]] = []
    headings: set[int] = set()  # a service group heads each run of its lines (S7)
    group = ""
    for line in inv.lines:
        if line.group and line.group != group:
            headings.add(len(rows))
            rows.append((line.group, ""))
        group = line.group
        rows.append((f"{line.description} *" if line.taxed and marked else line.description,
                     money(line.amount)))

    totals: list[tuple[str, str, str]] = [("Subtotal", money(inv.subtotal), "")]
    for name, rate, amount in ((inv.rates.name1, inv.rates.rate1, inv.tax1),
                               (inv.rates.name2, inv.rates.rate2, inv.tax2)):
        if rate:
            label = f"{name or 'Tax'} {_rate(rate, locale)} %"
            totals.append((f"incl. {label}" if inv.rates.inclusive else label, money(amount), ""))
    totals.append(("Total", money(inv.total), "total"))
    if inv.credit:
        totals.append(("Credit applied", money(-inv.credit), ""))
    if inv.paid:
        totals.append(("Paid", money(-inv.paid), ""))
    totals.append(("Balance due", money(inv.balance), "due"))
    if inv.refunded:
        totals.append(("Refunded", money(inv.refunded), "note"))

    fonts = _fonts_for([company.name, *company_lines, party.name, *party.lines, inv.notes,
                        number, *(v for _, v, _ in meta), *(d + a for d, a in rows),
                        *(label + value for label, value, _ in totals)])
    header = _HeaderData(company, company_lines, logo, "Invoice", subtitle, "Bill to", party,
                         meta, highlight)
    grid = _Grid([FRAME_W - 40 * mm, 40 * mm], ["Description", "Amount"], right=frozenset({1}),
                 wrap=(0,), fonts=fonts, size=9.5, leading=12, pad_v=5, pad_h=6)
    story: list[Flowable] = [_Header(header, fonts), _Rows.of(grid, rows, frozenset(headings)),
                             _Totals(totals, fonts, space_before=4 * mm)]
    if marked and any(line.taxed for line in inv.lines):
        names = " / ".join(n for n, r in ((inv.rates.name1, inv.rates.rate1),
                                          (inv.rates.name2, inv.rates.rate2)) if r and n) or "tax"
        legend = f"* Taxed item ({names})" + (", prices include tax" if inv.rates.inclusive else "")
        story.append(_TextBlock([_Text(legend, fonts.regular, 8, MUTED)], space_before=3 * mm))
    if inv.notes:
        story.append(_TextBlock([_Text("Notes", fonts.bold, 9.5, INK, space_after=2)]
                                + [_Text(inv.notes, fonts.regular, 9, INK)], space_before=8 * mm))

    label = f"Invoice {number}"
    page = _Page(fonts, f"{company.name}  ·  {label}" if company.name else label,
                 f"{label}  ·  {party.name} (continued)")
    data = _render(story, page, title=label, author=company.name,
                   subject=f"{label} for {party.name}")
    return _write(data, target)


# --- the account statement

def statement_pdf(statement: Statement, target: str | os.PathLike[str] | None = None) -> bytes:
    """The account statement as a PDF (P5); also written to ``target`` when given."""
    st = statement
    party, locale = _recipient(st.client_id)
    company, logo = _company()
    company_lines = _company_lines(company, locale)
    money = _amount_formatter(st.currency, locale)
    period = f"{_date(st.start, locale)} – {_date(st.end, locale)}"
    debits, credits = st.total_debit, st.total_credit

    meta: list[tuple[str, str, Any]] = [
        ("Statement date", _date(dt.date.today(), locale), None),
        ("Period", period, None),
        ("Client number", str(st.client_id), None),
        ("Currency", st.currency, None),
    ]
    header = _HeaderData(company, company_lines, logo, "Account statement", [period],
                         "Statement for", party, meta,
                         ("Closing balance", money(st.closing), ACCENT))
    summary = [("Opening balance", money(st.opening)), ("Total debits", money(debits)),
               ("Total credits", money(credits)), ("Closing balance", money(st.closing))]

    date, blank = _date, ""
    rows: list[tuple[str, ...]] = [(date(st.start, locale), "", "Opening balance", blank, blank,
                                    money(st.opening))]
    rows += [(date(r.date, locale), r.type, r.description,
              money(r.debit) if r.debit else blank, money(r.credit) if r.credit else blank,
              money(r.balance)) for r in st.rows]

    fonts = _fonts_for([company.name, *company_lines, party.name, *party.lines, period,
                        *(value for _, value in summary), *("".join(row) for row in rows)])
    widths = [23 * mm, 25 * mm, 0.0, 22 * mm, 22 * mm, 25 * mm]
    grid = _Grid(widths, ["Date", "Type", "Description", "Debit", "Credit", "Balance"],
                 right=frozenset({3, 4, 5}), wrap=(0, 1, 2), fonts=fonts)
    # a date on one line, however long the client's language writes it ("1 de abr. de 2026")
    longest = max(_text_width(row[0], fonts.regular, grid.size) for row in rows)
    widths[0] = min(max(widths[0], longest + 2 * grid.pad_h + 1), 36 * mm)
    widths[2] = FRAME_W - sum(widths)

    story: list[Flowable] = [_Header(header, fonts), _Strip(summary, fonts), Spacer(0, 7 * mm),
                             _Rows.of(grid, rows)]
    if not st.rows:
        story.append(_TextBlock([_Text("No transactions in this period.", fonts.regular, 8.5,
                                       MUTED)], space_before=2 * mm))
    story += [
        _Totals([("Opening balance", money(st.opening), ""), ("Total debits", money(debits), ""),
                 ("Total credits", money(credits), ""),
                 ("Closing balance", money(st.closing), "due")], fonts, space_before=4 * mm),
        _TextBlock([_Text("Balance = debits - credits. A positive balance is the amount owed; "
                          "a negative balance is in the account holder's favour.",
                          fonts.regular, 8, MUTED)], space_before=4 * mm),
    ]

    label = "Account statement"
    page = _Page(fonts, f"{company.name}  ·  {label}  ·  {period}" if company.name else label,
                 f"{label}  ·  {party.name}  ·  {period}")
    data = _render(story, page, title=f"{label} {period}", author=company.name,
                   subject=f"{label} for {party.name}, {period}")
    return _write(data, target)
