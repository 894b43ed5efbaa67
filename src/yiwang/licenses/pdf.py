"""Printable PDF rendering of a licence: an A4 certificate page a citizen can print or forward.

The PDF is a convenience copy; what proves the licence is the SD-JWT in the QR code (checked
at `verify_url`). Output is byte-for-byte deterministic (reportlab's invariant mode), so a
re-render of an unchanged licence gives the same file and hash.

CJK text uses reportlab's built-in CID font STSong-Light (no font file; the viewer supplies
the glyphs). Setting or environment variable YIWANG_CJK_TTF = "path/font.ttf" (or
"path/fonts.ttc#index") embeds a TrueType font instead, for viewers without Chinese fonts.
"""

import functools
import hashlib
import io
import os
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from yiwang.licenses import qr

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 60
TABLE_WIDTH = PAGE_WIDTH - 2 * MARGIN
LABEL_WIDTH = 112
TABLE_TOP = PAGE_HEIGHT - 168
# The last page keeps room at the bottom for the QR code, issuer, date and seal.
LAST_PAGE_BOTTOM = 252
OTHER_PAGE_BOTTOM = 80
FONT_SIZES = (12, 11, 10, 9)
QR_SIZE = 120
SEAL_SIZE = 119  # 42 mm, the diameter of an official round seal
INK = colors.HexColor("#1f1f1f")
FRAME = colors.HexColor("#8c6b2a")
LABEL_BACKGROUND = colors.HexColor("#f5f1e6")


@dataclass
class LicenceDocument:
    title: str
    identifier: str
    number: str
    holder_name: str
    holder_code_masked: str
    fields: list[tuple[str, str]]
    issuer_name: str
    issued_on: date
    valid_from: date
    valid_until: date | None
    seal_png: bytes
    qr_text: str
    verify_url: str
    footer: str = ""


def _cjk_ttf() -> str:
    from django.conf import settings

    configured = getattr(settings, "YIWANG_CJK_TTF", "") if settings.configured else ""
    return configured or os.environ.get("YIWANG_CJK_TTF", "")


@functools.cache
def _register(ttf: str) -> str:
    if not ttf:
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        return "STSong-Light"
    path, _, index = ttf.partition("#")
    name = "YiwangCJK-" + hashlib.sha256(ttf.encode()).hexdigest()[:8]
    pdfmetrics.registerFont(TTFont(name, path, subfontIndex=int(index or 0)))
    return name


def _font() -> str:
    """The registered CJK font to draw with (registered on first use)."""
    return _register(_cjk_ttf())


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _period(doc: LicenceDocument) -> str:
    end = "长期" if doc.valid_until is None else _chinese_date(doc.valid_until)
    return f"{_chinese_date(doc.valid_from)} 至 {end}"


def _table(rows: list[tuple[str, str]], font: str, size: float) -> Table:
    style = ParagraphStyle(
        "cell", fontName=font, fontSize=size, leading=size * 1.4, wordWrap="CJK", textColor=INK
    )
    cells = [
        [Paragraph(escape(label), style), Paragraph(escape(value).replace("\n", "<br/>"), style)]
        for label, value in rows
    ]
    table = Table(cells, colWidths=[LABEL_WIDTH, TABLE_WIDTH - LABEL_WIDTH])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, FRAME),
                ("INNERGRID", (0, 0), (-1, -1), 0.5, FRAME),
                ("BACKGROUND", (0, 0), (0, -1), LABEL_BACKGROUND),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), size * 0.45),
                ("BOTTOMPADDING", (0, 0), (-1, -1), size * 0.55),
                ("LEFTPADDING", (0, 0), (-1, -1), 7),
                ("RIGHTPADDING", (0, 0), (-1, -1), 7),
            ]
        )
    )
    return table


def _pages(rows: list[tuple[str, str]], font: str) -> list[Table]:
    """One page at the largest font size that fits; otherwise the smallest size, split."""
    last_room = TABLE_TOP - LAST_PAGE_BOTTOM
    other_room = TABLE_TOP - OTHER_PAGE_BOTTOM
    for size in FONT_SIZES:
        table = _table(rows, font, size)
        if table.wrap(TABLE_WIDTH, PAGE_HEIGHT)[1] <= last_room:
            return [table]
    pages = []
    remaining = table
    while remaining.wrap(TABLE_WIDTH, PAGE_HEIGHT)[1] > last_room:
        height = remaining.wrap(TABLE_WIDTH, PAGE_HEIGHT)[1]
        parts = remaining.split(TABLE_WIDTH, other_room if height > other_room else last_room)
        if len(parts) < 2:
            raise ValueError("证照某一字段的内容过长,一页放不下,请精简该字段")
        pages.append(parts[0])
        remaining = parts[1]
    pages.append(remaining)
    return pages


def _frame(c: canvas.Canvas) -> None:
    c.setStrokeColor(FRAME)
    c.setLineWidth(2.5)
    c.rect(28, 28, PAGE_WIDTH - 56, PAGE_HEIGHT - 56)
    c.setLineWidth(0.8)
    c.rect(35, 35, PAGE_WIDTH - 70, PAGE_HEIGHT - 70)


def _header(c: canvas.Canvas, doc: LicenceDocument, font: str, continued: bool) -> None:
    c.setFillColor(INK)
    title = doc.title + ("(续)" if continued else "")
    size = 28
    spacing = size / 4 if len(title) <= 12 else 0
    while size > 14 and c.stringWidth(title, font, size) + spacing * (len(title) - 1) > TABLE_WIDTH:
        size -= 1
    c.setFont(font, size)
    c.drawCentredString(PAGE_WIDTH / 2, PAGE_HEIGHT - 104, title, charSpace=spacing)
    c.setFont(font, 10.5)
    c.drawString(MARGIN, PAGE_HEIGHT - 136, f"证照编号:{doc.number}")
    c.setFont(font, 8.5)
    c.drawString(MARGIN, PAGE_HEIGHT - 152, f"证照标识:{doc.identifier}")


def _wrapped(c: canvas.Canvas, text: str, font: str, size: float, width: float) -> list[str]:
    lines, line = [], ""
    for char in text:
        if line and c.stringWidth(line + char, font, size) > width:
            lines.append(line)
            line = ""
        line += char
    return [*lines, line] if line else lines


def _bottom(c: canvas.Canvas, doc: LicenceDocument, font: str) -> None:
    qr_x, qr_y = MARGIN, 112
    image = ImageReader(io.BytesIO(qr.png(doc.qr_text, scale=4)))
    c.drawImage(image, qr_x, qr_y, QR_SIZE, QR_SIZE)
    c.setFont(font, 7.5)
    c.setFillColor(INK)
    y = qr_y - 11
    for line in _wrapped(c, f"扫码或访问 {doc.verify_url} 核验", font, 7.5, 210)[:4]:
        c.drawString(qr_x, y, line)
        y -= 10

    right = PAGE_WIDTH - MARGIN - 10
    c.setFont(font, 12)
    c.drawRightString(right, 196, doc.issuer_name)
    c.drawRightString(right, 176, _chinese_date(doc.issued_on))
    centre_x = right - max(c.stringWidth(doc.issuer_name, font, 12), 90) / 2
    c.drawImage(
        ImageReader(io.BytesIO(doc.seal_png)),
        centre_x - SEAL_SIZE / 2,
        186 - SEAL_SIZE / 2,
        SEAL_SIZE,
        SEAL_SIZE,
        mask="auto",
        preserveAspectRatio=True,
    )
    if doc.footer:
        c.setFont(font, 8)
        c.drawCentredString(PAGE_WIDTH / 2, 50, doc.footer)


def render(doc: LicenceDocument) -> bytes:
    """The licence as PDF bytes; the same document always gives the same bytes."""
    font = _font()
    rows = [
        ("持证主体", doc.holder_name),
        ("持证主体代码", doc.holder_code_masked),
        *doc.fields,
        ("有效期限", _period(doc)),
    ]
    pages = _pages(rows, font)
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle(doc.title)
    c.setAuthor(doc.issuer_name)
    c.setSubject(doc.identifier)
    c.setKeywords(", ".join(["电子证照", doc.title, doc.number, doc.issuer_name]))
    c.setCreator("Yiwang 一网通办")
    for number, table in enumerate(pages, 1):
        _frame(c)
        _header(c, doc, font, continued=number > 1)
        height = table.wrap(TABLE_WIDTH, PAGE_HEIGHT)[1]
        table.drawOn(c, MARGIN, TABLE_TOP - height)
        if len(pages) > 1:
            c.setFont(font, 8)
            c.setFillColor(INK)
            c.drawRightString(
                PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 60, f"第 {number} 页 共 {len(pages)} 页"
            )
        if number == len(pages):
            _bottom(c, doc, font)
        c.showPage()
    c.save()
    return out.getvalue()
