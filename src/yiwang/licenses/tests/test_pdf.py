"""Rules of the printable licence PDF: readable by pypdf, the QR decodes, deterministic bytes."""

import dataclasses
import hashlib
import io
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pypdf
import pytest
import reportlab
import zxingcpp
from PIL import Image, ImageDraw

from yiwang.licenses import pdf

IDENTIFIER = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"
QR_TEXT = (
    "https://example.gov.cn/v/?p=" + "eyJhbGciOiJTTTItU00zIiwidHlwIjoiZGMrc2Qtand0In0" * 24 + "~"
)
VERA = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"

QR = zxingcpp.BarcodeFormat.QRCode  # only QR: other formats give false finds


def seal_png() -> bytes:
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, 292, 292), outline=(200, 0, 0, 230), width=10)
    draw.regular_polygon((150, 150, 45), 5, fill=(200, 0, 0, 230))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def make_doc(**changes) -> pdf.LicenceDocument:
    doc = pdf.LicenceDocument(
        title="营业执照",
        identifier=IDENTIFIER,
        number="91110101MA01ABCD2X",
        holder_name="北京某某餐饮管理有限公司",
        holder_code_masked="9111**********CD2X",
        fields=[
            ("类型", "有限责任公司(自然人投资或控股)"),
            ("法定代表人", "张三"),
            ("住所", "北京市东城区东华门街道南池子大街 1 号"),
        ],
        issuer_name="北京市东城区市场监督管理局",
        issued_on=date(2023, 4, 3),
        valid_from=date(2023, 4, 3),
        valid_until=None,
        seal_png=seal_png(),
        qr_text=QR_TEXT,
        verify_url="https://example.gov.cn/v/",
        footer="本电子证照可扫码核验真伪",
    )
    return dataclasses.replace(doc, **changes)


def read(data: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(data))


def text_of(reader: pypdf.PdfReader) -> str:
    return "".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return pdf.render(make_doc())


def test_one_a4_page_with_metadata(rendered):
    reader = read(rendered)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    meta = reader.metadata
    assert meta.title == "营业执照"
    assert meta.subject == IDENTIFIER
    assert meta.author == "北京市东城区市场监督管理局"
    assert "电子证照" in meta["/Keywords"] and "91110101MA01ABCD2X" in meta["/Keywords"]


def test_text_carries_the_licence(rendered):
    text = text_of(read(rendered))
    for expected in [
        IDENTIFIER,
        "营业执照",
        "证照编号:91110101MA01ABCD2X",
        "北京某某餐饮管理有限公司",
        "9111**********CD2X",
        "法定代表人",
        "张三",
        "2023年4月3日 至 长期",
        "北京市东城区市场监督管理局",
        "https://example.gov.cn/v/",
        "本电子证照可扫码核验真伪",
    ]:
        assert expected in text, expected
    assert "110101" not in text.replace("91110101", "")  # only the masked code


def test_valid_until_is_printed_when_limited():
    text = text_of(read(pdf.render(make_doc(valid_until=date(2028, 4, 2)))))
    assert "2023年4月3日 至 2028年4月2日" in text and "长期" not in text


def test_qr_image_decodes_to_the_qr_text(rendered):
    images = [image.image for image in read(rendered).pages[0].images]
    decoded = [r.text for image in images for r in zxingcpp.read_barcodes(image, formats=QR)]
    assert decoded == [QR_TEXT]
    assert any(image.mode == "RGBA" for image in images)  # the seal keeps its transparency


def test_same_input_same_bytes_even_in_a_fresh_process(rendered):
    assert pdf.render(make_doc()) == rendered
    script = (
        "import hashlib, sys; sys.path.insert(0, sys.argv[1]);"
        "from yiwang.licenses.tests.test_pdf import make_doc;"
        "from yiwang.licenses import pdf;"
        "print(hashlib.sha256(pdf.render(make_doc())).hexdigest())"
    )
    src = str(Path(__file__).resolve().parents[3])
    env = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "YIWANG_CJK_TTF")
    }
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "-c", script, src], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == hashlib.sha256(rendered).hexdigest()


@pytest.mark.parametrize(
    "change",
    [
        {"fields": [("类型", "有限责任公司"), ("法定代表人", "李四")]},
        {"holder_name": "北京某某餐饮管理有限责任公司"},
        {"issued_on": date(2023, 4, 4)},
        {"qr_text": QR_TEXT + "x"},
        {"identifier": IDENTIFIER.replace(".001.U", ".002.M")},
    ],
)
def test_any_change_changes_the_bytes(rendered, change):
    assert pdf.render(make_doc(**change)) != rendered


def test_long_values_wrap_and_markup_is_text():
    value = "餐饮服务;食品销售(仅销售预包装食品);" * 12 + "<b>A&B</b>"
    reader = read(pdf.render(make_doc(fields=[("经营范围", value)])))
    assert len(reader.pages) == 1
    assert value in text_of(reader).replace("\n", "")


def test_thirty_fields_all_render_with_the_qr_on_the_last_page():
    fields = [(f"事项{i:02d}", f"内容 {i} " * (i % 6 + 1)) for i in range(30)]
    reader = read(pdf.render(make_doc(fields=fields)))
    assert 1 <= len(reader.pages) <= 2
    text = text_of(reader)
    for label, _ in fields:
        assert label in text
    last = reader.pages[-1]
    assert [r.text for i in last.images for r in zxingcpp.read_barcodes(i.image, formats=QR)] == [
        QR_TEXT
    ]
    assert "长期" in last.extract_text()
    if len(reader.pages) == 2:
        assert "第 1 页 共 2 页" in reader.pages[0].extract_text()
        assert "营业执照(续)" in last.extract_text()


def test_a_field_longer_than_a_page_is_refused():
    with pytest.raises(ValueError, match="过长"):
        pdf.render(make_doc(fields=[("备注", "很长的说明" * 3000)]))


@pytest.mark.parametrize("setting", [str(VERA), f"{VERA}#0"])
def test_truetype_font_is_embedded_when_configured(monkeypatch, setting):
    monkeypatch.setenv("YIWANG_CJK_TTF", setting)
    data = pdf.render(make_doc())
    assert b"BitstreamVeraSans" in data and b"FontFile2" in data
    assert IDENTIFIER in text_of(read(data))
    assert pdf.render(make_doc()) == data


def test_built_in_font_embeds_nothing(rendered):
    assert b"STSong-Light" in rendered and b"FontFile" not in rendered
