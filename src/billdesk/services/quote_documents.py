"""The quote as a PDF (B4, E5), built from the invoice PDF's blocks in
``documents.py``: the same letterhead, addressee, line table, totals and
footer, titled "Quote", with its stage, valid-until date and the proposal
text. Lines show quantity, unit price and discount when any line has them.

No Qt here (services never import it)."""

from __future__ import annotations

import os

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from billdesk.services import quotes
from billdesk.services import documents as doc

__all__ = ["quote_pdf"]

STAGE_COLOURS = {
    "Accepted": doc.STATUS_COLOURS["Paid"], "Lost": doc.MUTED, "Dead": doc.MUTED,
    "Draft": doc.MUTED, "Delivered": doc.ACCENT, "On hold": doc.ACCENT,
}


def _number(value: object) -> str:
    return quotes._plain(value)  # type: ignore[arg-type]


def quote_pdf(quote_id: int, target: str | os.PathLike[str] | None = None) -> bytes:
    """The quote as a PDF; also written to ``target`` when given."""
    q = quotes.get_quote(quote_id)
    party, locale = doc._recipient(q.client_id)
    company, logo = doc._company()
    company_lines = doc._company_lines(company, locale)
    money = doc._amount_formatter(q.currency, locale)
    number = str(q.id)
    stage_colour = STAGE_COLOURS.get(q.stage, doc.INK)

    meta = [
        ("Quote number", number, None),
        ("Quote date", doc._date(q.date, locale), None),
        ("Valid until", doc._date(q.valid_until, locale), None),
        ("Stage", q.stage, stage_colour),
    ]
    subtitle = [q.subject] if q.subject else []
    if q.converted:
        subtitle.append("Accepted and invoiced")
    highlight = ("Total", money(q.total), doc.ACCENT)

    marked = q.rates.any
    detailed = any(ln.quantity != 1 or ln.discount for ln in q.lines)
    rows: list[tuple[str, ...]] = []
    for ln in q.lines:
        description = f"{ln.description} *" if ln.taxed and marked else ln.description
        if detailed:
            rows.append((description, _number(ln.quantity), money(ln.unit_price),
                         f"{_number(ln.discount)} %" if ln.discount else "", money(ln.amount)))
        else:
            rows.append((description, money(ln.amount)))

    totals: list[tuple[str, str, str]] = [("Subtotal", money(q.subtotal), "")]
    for name, rate, amount in ((q.rates.name1, q.rates.rate1, q.tax1),
                               (q.rates.name2, q.rates.rate2, q.tax2)):
        if rate:
            label = f"{name or 'Tax'} {doc._rate(rate, locale)} %"
            totals.append((f"incl. {label}" if q.rates.inclusive else label, money(amount), ""))
    totals.append(("Total", money(q.total), "due"))

    fonts = doc._fonts_for([company.name, *company_lines, party.name, *party.lines, q.subject,
                            q.proposal, q.customer_notes, *(v for _, v, _ in meta),
                            *("".join(row) for row in rows),
                            *(label + value for label, value, _ in totals)])
    header = doc._HeaderData(company, company_lines, logo, "Quote", subtitle, "Prepared for",
                             party, meta, highlight)
    if detailed:
        widths = [0.0, 18 * mm, 30 * mm, 20 * mm, 32 * mm]
        widths[0] = doc.FRAME_W - sum(widths)
        grid = doc._Grid(widths, ["Description", "Qty", "Unit price", "Discount", "Amount"],
                         right=frozenset({1, 2, 3, 4}), wrap=(0,), fonts=fonts, size=9.5,
                         leading=12, pad_v=5, pad_h=6)
    else:
        grid = doc._Grid([doc.FRAME_W - 40 * mm, 40 * mm], ["Description", "Amount"],
                         right=frozenset({1}), wrap=(0,), fonts=fonts, size=9.5, leading=12,
                         pad_v=5, pad_h=6)
    story: list[Flowable] = [doc._Header(header, fonts)]
    if q.proposal:
        story.append(doc._TextBlock([doc._Text(q.proposal, fonts.regular, 9.5, doc.INK)],
                                    space_before=0))
        story.append(Spacer(0, 6 * mm))
    story += [doc._Rows.of(grid, rows), doc._Totals(totals, fonts, space_before=4 * mm)]
    if not q.lines:
        story.insert(-1, doc._TextBlock([doc._Text("No lines yet.", fonts.regular, 8.5,
                                                   doc.MUTED)], space_before=2 * mm))
    if marked and any(ln.taxed for ln in q.lines):
        names = " / ".join(n for n, r in ((q.rates.name1, q.rates.rate1),
                                          (q.rates.name2, q.rates.rate2)) if r and n) or "tax"
        legend = f"* Taxed item ({names})" + (", prices include tax" if q.rates.inclusive else "")
        story.append(doc._TextBlock([doc._Text(legend, fonts.regular, 8, doc.MUTED)],
                                    space_before=3 * mm))
    if q.customer_notes:
        story.append(doc._TextBlock([doc._Text("Notes", fonts.bold, 9.5, doc.INK, space_after=2)]
                                    + [doc._Text(q.customer_notes, fonts.regular, 9, doc.INK)],
                                    space_before=8 * mm))
    story.append(doc._TextBlock([doc._Text(
        f"This quote is valid until {doc._date(q.valid_until, locale)}.", fonts.regular, 8,
        doc.MUTED)], space_before=6 * mm))

    label = f"Quote {number}"
    page = doc._Page(fonts, f"{company.name}  ·  {label}" if company.name else label,
                     f"{label}  ·  {party.name} (continued)")
    data = doc._render(story, page, title=label, author=company.name,
                       subject=f"{label} for {party.name}" + (f": {q.subject}" if q.subject else ""))
    return doc._write(data, target)
