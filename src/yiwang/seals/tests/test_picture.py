"""Seal pictures: drawn with a CJK font when there is one, never crashing without."""

import io

import pytest
from PIL import Image

from yiwang.seals import picture


def _red_pixels(png: bytes) -> int:
    raw = Image.open(io.BytesIO(png)).convert("RGBA").tobytes()
    pixels = (raw[i : i + 4] for i in range(0, len(raw), 4))
    return sum(1 for r, g, _b, a in pixels if a > 128 and r > 150 and g < 100)


def test_drawn_seal_is_a_red_round_png():
    png = picture.draw("示范市市场监督管理局", "业务专用章")
    assert picture.check_png(png) == (480, 480)
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    assert image.getpixel((240, 240))[:3] == picture.RED[:3]  # the star's centre
    assert image.getpixel((0, 0))[3] == 0  # transparent outside the ring


def test_the_name_adds_ink():
    assert _red_pixels(picture.draw("示范市市场监督管理局")) > _red_pixels(picture.draw(""))


def test_without_a_cjk_font_it_still_draws(settings, monkeypatch):
    settings.YIWANG_CJK_FONT = "/nonexistent/font.ttc"
    monkeypatch.setattr(picture, "FONT_CANDIDATES", ())
    assert picture.cjk_font_path() is None
    png = picture.draw("示范市市场监督管理局")
    assert picture.check_png(png)


def test_configured_font_comes_first(settings, tmp_path):
    font = tmp_path / "font.ttc"
    font.write_bytes(b"not really a font")
    settings.YIWANG_CJK_FONT = str(font)
    assert picture.cjk_font_path() == str(font)
    assert picture.check_png(picture.draw("测试"))  # unreadable font: default font instead


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "为空"),
        (b"hello", "不是有效的 PNG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "不是有效的 PNG"),
        (_gif(), "必须是 PNG"),
        (b"\x00" * (picture.MAX_BYTES + 1), "1 MB"),
    ],
)
def test_bad_uploads_are_refused_with_the_reason(data, message):
    with pytest.raises(ValueError, match=message):
        picture.check_png(data)
