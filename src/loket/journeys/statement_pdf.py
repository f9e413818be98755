"""The monthly e-statement as a PDF: the institution's branding, the account, opening and closing
balance, every transaction with its running balance, and the totals; encrypted with AES-256
(PDF 2.0 security handler, revision 6) under a password the customer can derive.

Pure: bytes in memory, no file is written. fpdf2 lays it out with the core fonts (Latin-1), so text
outside Latin-1 is transliterated; pikepdf encrypts it, with a random owner password nobody keeps.
"""

from __future__ import annotations

import io
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pikepdf
from fpdf import FPDF

from loket.core.port import Transaction
from loket.i18n.catalog import t
from loket.i18n.formatting import rupiah

# The brand colour of each demo institution (a real deployment would keep it in the tenant row).
BRAND_COLOURS: dict[str, tuple[int, int, int]] = {
    "bank-nusantara": (0, 82, 147),
    "asuransi-sejahtera": (0, 122, 94),
}
DEFAULT_COLOUR = (40, 40, 40)
_WIDTHS = (24, 86, 35, 35)  # date, description, amount, balance (mm); 180 mm of 210


@dataclass(frozen=True, slots=True)
class Statement:
    tenant_id: str
    institution: str
    legal_name: str
    customer_name: str
    product: str
    account_masked: str
    period_label: str
    period_start: date
    period_end: date  # inclusive, the last day shown
    opening: int
    closing: int
    transactions: Sequence[Transaction]
    language: str
    zone: str
    generated_at: datetime

    @property
    def money_in(self) -> int:
        return sum(item.amount for item in self.transactions if item.amount > 0)

    @property
    def money_out(self) -> int:
        return -sum(item.amount for item in self.transactions if item.amount < 0)


def latin1(text: str) -> str:
    """What the core fonts can draw: accents kept where Latin-1 has them, the rest transliterated."""
    text = text.replace("•", "*").replace("–", "-").replace("—", "-").replace("’", "'")
    if all(ord(char) < 256 for char in text):
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if ord(char) < 256 and not unicodedata.combining(char)) or "?"


class _Layout(FPDF):
    def __init__(self, statement: Statement) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.statement = statement
        self.colour = BRAND_COLOURS.get(statement.tenant_id, DEFAULT_COLOUR)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(15, 15, 15)

    def _t(self, key: str, **params: object) -> str:
        return latin1(t(self.statement.language, key, **params))

    def header(self) -> None:
        self.set_fill_color(*self.colour)
        self.rect(0, 0, 210, 24, style="F")
        self.set_text_color(255, 255, 255)
        self.set_xy(15, 6)
        self.set_font("Helvetica", "B", 16)
        self.cell(110, 8, latin1(self.statement.institution))
        self.set_font("Helvetica", "", 9)
        self.set_xy(120, 6)
        self.cell(75, 5, self._t("statement.pdf.title"), align="R")
        self.set_xy(120, 11)
        self.cell(75, 5, latin1(self.statement.period_label), align="R")
        self.set_text_color(0, 0, 0)
        self.set_y(30)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", "", 7)
        self.set_text_color(110, 110, 110)
        self.cell(0, 4, self._t("statement.pdf.footer", legal_name=self.statement.legal_name), align="L")
        self.cell(0, 4, self._t("statement.pdf.page", page=self.page_no()), align="R")
        self.set_text_color(0, 0, 0)

    def table_head(self) -> None:
        self.set_font("Helvetica", "B", 8)
        self.set_fill_color(235, 235, 235)
        for width, key in zip(_WIDTHS, ("date", "description", "amount", "balance"), strict=True):
            self.cell(
                width,
                6,
                self._t(f"statement.pdf.col_{key}"),
                border="B",
                fill=True,
                align="R" if key in ("amount", "balance") else "L",
            )
        self.ln(6)
        self.set_font("Helvetica", "", 8)


def _summary(pdf: _Layout, statement: Statement) -> None:
    rows = (
        ("statement.pdf.holder", latin1(statement.customer_name)),
        ("statement.pdf.account", latin1(f"{statement.product} {statement.account_masked}")),
        ("statement.pdf.period", latin1(statement.period_label)),
        ("statement.pdf.opening", rupiah(statement.opening)),
        ("statement.pdf.money_in", rupiah(statement.money_in)),
        ("statement.pdf.money_out", rupiah(statement.money_out)),
        ("statement.pdf.closing", rupiah(statement.closing)),
        ("statement.pdf.count", str(len(statement.transactions))),
    )
    for key, value in rows:
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(45, 5.5, pdf._t(key))
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def render(statement: Statement) -> bytes:
    """The statement as an unencrypted PDF."""
    pdf = _Layout(statement)
    pdf.set_title(latin1(f"{statement.institution} - {statement.period_label}"))
    pdf.set_author(latin1(statement.legal_name))
    pdf.set_creator("Loket")
    pdf.add_page()
    _summary(pdf, statement)
    pdf.table_head()
    zone = ZoneInfo(statement.zone)
    for item in statement.transactions:
        if pdf.will_page_break(5):
            pdf.add_page()
            pdf.table_head()
        posted = item.posted_at.astimezone(zone)
        pdf.cell(_WIDTHS[0], 5, posted.strftime("%d/%m %H:%M"))
        pdf.cell(_WIDTHS[1], 5, latin1(item.description)[:58])
        pdf.cell(_WIDTHS[2], 5, rupiah(item.amount), align="R")
        pdf.cell(_WIDTHS[3], 5, rupiah(item.balance_after), align="R", new_x="LMARGIN", new_y="NEXT")
    if not statement.transactions:
        pdf.cell(0, 6, pdf._t("statement.pdf.no_transactions"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(_WIDTHS[0] + _WIDTHS[1], 6, pdf._t("statement.pdf.total_in"), border="T")
    pdf.cell(
        _WIDTHS[2] + _WIDTHS[3], 6, rupiah(statement.money_in), border="T", align="R", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.cell(_WIDTHS[0] + _WIDTHS[1], 6, pdf._t("statement.pdf.total_out"))
    pdf.cell(_WIDTHS[2] + _WIDTHS[3], 6, rupiah(-statement.money_out), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(_WIDTHS[0] + _WIDTHS[1], 6, pdf._t("statement.pdf.closing"))
    pdf.cell(_WIDTHS[2] + _WIDTHS[3], 6, rupiah(statement.closing), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 7)
    generated = statement.generated_at.astimezone(zone).strftime("%d/%m/%Y %H:%M")
    pdf.multi_cell(0, 3.5, pdf._t("statement.pdf.notice", generated=generated, institution=statement.institution))
    return bytes(pdf.output())


def encrypt(pdf_bytes: bytes, password: str) -> bytes:
    """AES-256 (R6); opening needs `password`; the owner password is random and discarded."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as document:
        out = io.BytesIO()
        document.save(
            out,
            encryption=pikepdf.Encryption(
                user=password,
                owner=secrets.token_urlsafe(24),
                R=6,
                allow=pikepdf.Permissions(
                    modify_annotation=False, modify_assembly=False, modify_form=False, modify_other=False
                ),
            ),
        )
        return out.getvalue()


def password_for(date_of_birth: date) -> str:
    """Date of birth as DDMMYYYY: something the customer knows and the message can describe."""
    return date_of_birth.strftime("%d%m%Y")
