"""Seal pictures: draw the usual red round seal, or check an uploaded PNG.

Drawing needs a CJK font for the department name; without one (a bare
container) the ring and the star are still drawn and the name is written with
Pillow's default font, because a seal without a picture is worse than a plain one.
"""

import io
import math
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

RED = (220, 20, 30, 255)
MAX_BYTES = 1024 * 1024
MAX_SIDE_PX = 2000
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


def cjk_font_path() -> str | None:
    """YIWANG_CJK_FONT if it exists, else the first common system CJK font found."""
    configured = getattr(settings, "YIWANG_CJK_FONT", "")
    for candidate in (configured, *FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = cjk_font_path()
    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: fixed-size bitmap font
        return ImageFont.load_default()


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, outer: float) -> None:
    inner = outer * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.radians(-90 + i * 36)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=RED)


def _glyph(char: str, font, size: int) -> Image.Image:
    tile = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((size, size), char, font=font, fill=RED, anchor="mm")
    return tile


def draw(name: str, caption: str = "", size_px: int = 480) -> bytes:
    """A round seal: ring, five-point star, `name` along the upper arc, `caption` below."""
    image = Image.new("RGBA", (size_px, size_px), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    c = size_px / 2
    ring = size_px * 0.03
    pen.ellipse(
        (ring / 2, ring / 2, size_px - ring / 2, size_px - ring / 2),
        outline=RED,
        width=max(2, round(ring)),
    )
    _star(pen, c, c, size_px * 0.16)

    chars = [ch for ch in name.strip() if not ch.isspace()][:24]
    if chars:
        glyph_px = round(size_px * (0.13 if len(chars) <= 12 else 0.10))
        font = _font(glyph_px)
        radius = c - ring * 2 - glyph_px * 0.7
        span = min(250.0, 20.0 * len(chars)) if len(chars) > 1 else 0.0
        for i, ch in enumerate(chars):
            theta = -span / 2 + (span * i / (len(chars) - 1) if len(chars) > 1 else 0.0)
            tile = _glyph(ch, font, glyph_px).rotate(-theta, resample=Image.Resampling.BICUBIC)
            x = c + radius * math.sin(math.radians(theta))
            y = c - radius * math.cos(math.radians(theta))
            image.alpha_composite(tile, (round(x - tile.width / 2), round(y - tile.height / 2)))
    if caption:
        pen.text(
            (c, c + size_px * 0.27),
            caption,
            font=_font(round(size_px * 0.07)),
            fill=RED,
            anchor="mm",
        )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def check_png(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels of a real PNG; ValueError with the reason otherwise."""
    if not data:
        raise ValueError("印模图片为空,请上传 PNG 图片")
    if len(data) > MAX_BYTES:
        raise ValueError("印模图片不能超过 1 MB,请压缩后重新上传")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise ValueError("印模图片必须是 PNG 格式,请转换后重新上传")
            image.verify()
            width, height = image.size
    except ValueError:
        raise
    except Exception:  # whatever Pillow raises on hostile bytes means "not a PNG"
        raise ValueError("印模图片不是有效的 PNG 文件,请重新导出后上传") from None
    if not (0 < width <= MAX_SIDE_PX and 0 < height <= MAX_SIDE_PX):
        raise ValueError(f"印模图片的宽和高须在 1–{MAX_SIDE_PX} 像素之间")
    return width, height
