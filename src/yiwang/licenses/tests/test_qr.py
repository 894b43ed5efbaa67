"""QR codes decode back to their text (zxing-cpp as the independent reader)."""

import base64
import io
import re
import secrets

import pytest
import zxingcpp
from PIL import Image

from yiwang.licenses import qr

LONG_URL = "https://example.gov.cn/v/?p=" + (
    base64.urlsafe_b64encode(secrets.token_bytes(880)).decode().rstrip("=") + "~"
)


def decode(png: bytes) -> list[str]:
    """QR codes only: with every format on, zxing now and then also finds a GS1 DataBar in
    the modules of a random payload (seen once in CI: "(01)65550322536567")."""
    image = Image.open(io.BytesIO(png))
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.mark.parametrize(
    "text",
    [
        "https://example.gov.cn/v/?p=abc",
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
        "营业执照 张三 110101199003071234",
        LONG_URL,
    ],
)
@pytest.mark.parametrize("mask", [None, 0])
def test_png_decodes_to_the_same_text(text, mask):
    assert decode(qr.png(text, mask=mask)) == [text]


def test_long_sd_jwt_link_is_about_1200_characters_and_decodes_at_scale_2():
    assert 1150 <= len(LONG_URL) <= 1250
    assert decode(qr.png(LONG_URL, scale=2)) == [LONG_URL]


def test_png_scale_and_quiet_zone():
    small = Image.open(io.BytesIO(qr.png("abc", scale=1)))
    assert small.size == (21 + 8, 21 + 8)  # version 1 plus 4 modules each side
    assert Image.open(io.BytesIO(qr.png("abc", scale=5))).size == (145, 145)


def test_png_is_deterministic():
    assert qr.png(LONG_URL) == qr.png(LONG_URL)


def test_svg_is_inline_scalable_and_accessible():
    markup = qr.svg("https://example.gov.cn/v/?p=abc", title='证照 "核验" 码')
    assert markup.startswith('<svg role="img" aria-label="证照 &quot;核验&quot; 码" ')
    assert "<?xml" not in markup and "style=" not in markup
    assert re.search(r'viewBox="0 0 (\d+) \1"', markup)
    assert "width=" not in markup and "height=" not in markup
    assert "<title>" in markup and 'class="qr-code"' in markup


def test_svg_without_title_has_no_label():
    markup = qr.svg("abc", css_class="x")
    assert markup.startswith('<svg role="img" viewBox=')
    assert "aria-label" not in markup and "<title>" not in markup and 'class="x"' in markup


def test_svg_renders_the_same_symbol_as_png():
    """Rasterize the SVG path by hand: same modules as the PNG at scale 1."""
    markup = qr.svg(LONG_URL, mask=0)
    size = int(re.search(r'viewBox="0 0 (\d+)', markup).group(1))
    dark = set()
    path = re.search(r'stroke="#000" d="([^"]+)"', markup).group(1)
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?\d+(?:\.\d+)?)(?: (-?\d+(?:\.\d+)?))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            dark.update((int(x) + i, int(y)) for i in range(int(a)))
            x += float(a)
    image = Image.open(io.BytesIO(qr.png(LONG_URL, scale=1, mask=0))).convert("L")
    assert image.size == (size, size)
    png_dark = {(i, j) for i in range(size) for j in range(size) if image.getpixel((i, j)) < 128}
    assert dark == png_dark
