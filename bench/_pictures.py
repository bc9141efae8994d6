"""Pictures as citizens forward them, generated: chat screenshots, memes, photos, and the
copies they become on the way (re-encoded, shrunk, cropped, brightened, screenshotted on a
phone, reposted with a caption bar). Used by bench/media.py and tests/test_media_*.py.

Everything is drawn with Pillow from a seed, so a run is reproducible and nothing real (no
person's photo, no real chat) is in it.
"""

from __future__ import annotations

import io
import random
import textwrap
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

from bench._picture_texts import CAPTIONS, FORWARDED

__all__ = ["VARIANTS", "chat_screenshot", "font", "jpeg", "meme", "photo"]

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_NOTO_CJK = Path("/usr/share/fonts/opentype/noto")


@cache
def font(size: int, *, cjk: bool = False, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans for Latin text, Noto Sans CJK TC for Chinese (Debian: fonts-dejavu-core,
    fonts-noto-cjk); Pillow's built-in font when they are missing (OCR figures then mean little)."""
    if cjk:
        path = _NOTO_CJK / ("NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc")
        if path.exists():
            return ImageFont.truetype(str(path), size, index=3)  # 3: the TC face
    path = _DEJAVU / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


# --- originals ---------------------------------------------------------------------------------


def photo(seed: int, size: tuple[int, int] = (800, 600)) -> Image.Image:
    """A photo-like picture: a smooth random colour field, some shapes, sensor-like noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    grid = rng.integers(0, 256, (rng.integers(3, 7), rng.integers(3, 7), 3), dtype=np.uint8)
    base = Image.fromarray(grid, "RGB").resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(base)
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(w // 10, w // 2)), y0 + int(rng.integers(h // 10, h // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    noise = rng.normal(0, 6, (h, w, 3))
    pixels = np.clip(np.asarray(base, dtype=np.float64) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def _outlined(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, f: ImageFont.FreeTypeFont) -> None:
    draw.text(xy, text, font=f, fill="white", stroke_width=max(2, f.size // 12), stroke_fill="black")


def _fitting(
    draw: ImageDraw.ImageDraw, text: str, f: ImageFont.FreeTypeFont, width: int
) -> ImageFont.FreeTypeFont:
    """`f`, or a smaller size of it, so that `text` fits in `width` with a margin."""
    size = f.size
    while size > 14 and draw.textlength(text, font=f.font_variant(size=size)) > width - 24:
        size -= 2
    return f.font_variant(size=size)


def _centred(
    draw: ImageDraw.ImageDraw, text: str, f: ImageFont.FreeTypeFont, width: int, y: int
) -> tuple[int, int]:
    f = _fitting(draw, text, f, width)
    return max(8, int((width - draw.textlength(text, font=f)) / 2)), y


def meme(seed: int, caption: str, lang: str) -> Image.Image:
    """A photo with a meme caption at the top (and sometimes a second line at the bottom)."""
    rng = random.Random(seed)
    image = photo(seed, (rng.choice([640, 720, 800]), rng.choice([600, 640, 720])))
    draw = ImageDraw.Draw(image)
    f = font(rng.choice([40, 48]), cjk=lang == "zh-TW", bold=True)
    _outlined(
        draw, _centred(draw, caption, f, image.width, 16), caption, _fitting(draw, caption, f, image.width)
    )
    if rng.random() < 0.5:
        line = rng.choice(CAPTIONS[lang])
        g = _fitting(draw, line, f, image.width)
        _outlined(draw, _centred(draw, line, g, image.width, image.height - g.size - 30), line, g)
    return image


_HEADERS = [((0, 128, 105), (236, 229, 221)), ((84, 130, 180), (214, 228, 238)), ((32, 44, 51), (11, 20, 26))]


def chat_screenshot(text: str, lang: str, seed: int, *, width: int = 720) -> Image.Image:
    """A chat app's screen with one forwarded message: header, wallpaper, bubble, time, ticks."""
    rng = random.Random(seed)
    header, wallpaper = rng.choice(_HEADERS)
    dark = wallpaper[0] < 60
    cjk = lang == "zh-TW"
    body = font(30, cjk=cjk)
    small = font(22, cjk=cjk)
    wrap = 19 if cjk else 36
    lines = [piece for para in text.split("\n") for piece in textwrap.wrap(para, wrap)] or [""]
    line_h = 44
    bubble_h = 60 + line_h * len(lines) + 40
    height = 110 + 40 + bubble_h + 60 + 90
    image = Image.new("RGB", (width, height), wallpaper)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 110), fill=header)
    draw.ellipse((70, 25, 130, 85), fill=tuple(rng.randrange(80, 220) for _ in range(3)))
    names = ["Family", "Neighbours", "Mamá", "Darbas", "家族群組", "Class of 2009"]
    draw.text((150, 38), rng.choice(names), font=font(32, cjk=True), fill="white")
    draw.text((24, 34), "←", font=font(36), fill="white")
    top = 150
    bubble = (40, 40, 40) if dark else (255, 255, 255)
    ink = (233, 237, 239) if dark else (17, 27, 33)
    grey = (140, 150, 155)
    draw.rounded_rectangle((24, top, width - 60, top + bubble_h), radius=16, fill=bubble)
    label = FORWARDED[lang][rng.random() < 0.6]
    draw.text((48, top + 14), "↪", font=font(22), fill=grey)
    draw.text((76, top + 14), label, font=small, fill=grey)
    for i, line in enumerate(lines):
        draw.text((48, top + 56 + i * line_h), line, font=body, fill=ink)
    stamp = f"{rng.randrange(0, 24):02d}:{rng.randrange(0, 60):02d}"
    draw.text((width - 190, top + bubble_h - 36), stamp + " ✓✓", font=small, fill=grey)
    draw.rectangle((0, height - 90, width, height), fill=(30, 30, 30) if dark else (246, 246, 246))
    draw.rounded_rectangle((20, height - 75, width - 110, height - 15), radius=30, fill=bubble)
    draw.text((50, height - 62), "Message", font=small, fill=grey)
    return image


# --- the journey: what copies of a picture look like -------------------------------------------


def reencode(image: Image.Image, rng: random.Random) -> Image.Image:
    return _open(jpeg(image, rng.randint(30, 90)))


def shrink(image: Image.Image, rng: random.Random) -> Image.Image:
    factor = rng.uniform(0.3, 0.7)
    size = (max(32, int(image.width * factor)), max(32, int(image.height * factor)))
    return _open(jpeg(image.resize(size, Image.Resampling.BILINEAR), 80))


def crop(image: Image.Image, rng: random.Random) -> Image.Image:
    w, h = image.size
    box = (
        int(w * rng.uniform(0, 0.05)),
        int(h * rng.uniform(0, 0.05)),
        w - int(w * rng.uniform(0, 0.05)),
        h - int(h * rng.uniform(0, 0.05)),
    )
    return _open(jpeg(image.crop(box), 85))


def brightness(image: Image.Image, rng: random.Random) -> Image.Image:
    factor = rng.choice([rng.uniform(0.7, 0.85), rng.uniform(1.15, 1.35)])
    brighter = ImageEnhance.Brightness(image).enhance(factor)
    return _open(jpeg(ImageEnhance.Contrast(brighter).enhance(rng.uniform(0.9, 1.1)), 85))


def _status_bar(draw: ImageDraw.ImageDraw, width: int, fill: str, rng: random.Random) -> None:
    f = font(26, bold=True)
    draw.text((36, 12), f"{rng.randrange(7, 23)}:{rng.randrange(0, 60):02d}", font=f, fill=fill)
    draw.text((width - 230, 12), f"5G ▂▄▆ {rng.randrange(5, 100)}%", font=f, fill=fill)


def phone_viewer(image: Image.Image, rng: random.Random) -> Image.Image:
    """The picture opened full screen on a phone and screenshotted: black around it, status bar,
    the viewer's header (back arrow, sender, date), navigation bar; saved as JPEG."""
    sw, sh = 720, rng.choice([1480, 1560, 1600])
    screen = Image.new("RGB", (sw, sh), (0, 0, 0))
    fitted = image.resize((sw, max(1, round(image.height * sw / image.width))), Image.Resampling.BILINEAR)
    if fitted.height > sh - 300:
        fitted = image.resize((round(image.width * (sh - 300) / image.height), sh - 300))
    screen.paste(fitted, ((sw - fitted.width) // 2, (sh - fitted.height) // 2))
    draw = ImageDraw.Draw(screen)
    _status_bar(draw, sw, "white", rng)
    draw.text((24, 70), "←", font=font(36), fill="white")
    draw.text((90, 66), rng.choice(["Mamá", "Tomas", "阿姨", "Jen"]), font=font(28, cjk=True), fill="white")
    draw.text((90, 102), "Yesterday, 21:14", font=font(20), fill=(200, 200, 200))
    draw.rounded_rectangle((sw // 2 - 70, sh - 30, sw // 2 + 70, sh - 22), radius=4, fill="white")
    return _open(jpeg(screen, rng.randint(70, 92)))


def phone_chat(image: Image.Image, rng: random.Random) -> Image.Image:
    """The picture as it sits in a chat on a phone, screenshotted: status bar, app header,
    wallpaper, the picture in a bubble with a time stamp, the input bar."""
    header, wallpaper = rng.choice(_HEADERS)
    sw, sh = 720, rng.choice([1480, 1560])
    screen = Image.new("RGB", (sw, sh), wallpaper)
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, sw, 170), fill=header)
    _status_bar(draw, sw, "white", rng)
    draw.text((90, 92), rng.choice(["Family", "Darbas", "家族群組"]), font=font(30, cjk=True), fill="white")
    pw = int(sw * rng.uniform(0.7, 0.8))
    fitted = image.resize((pw, max(1, round(image.height * pw / image.width))), Image.Resampling.BILINEAR)
    top = 230
    bubble = (255, 255, 255) if wallpaper[0] > 60 else (40, 40, 40)
    draw.rounded_rectangle((24, top - 8, 24 + pw + 16, top + fitted.height + 48), radius=14, fill=bubble)
    screen.paste(fitted, (32, top))
    draw.text((pw - 60, top + fitted.height + 14), "21:14 ✓✓", font=font(20), fill=(140, 150, 155))
    draw.rectangle((0, sh - 110, sw, sh), fill=(246, 246, 246) if wallpaper[0] > 60 else (30, 30, 30))
    return _open(jpeg(screen, rng.randint(70, 92)))


def caption_bar(image: Image.Image, rng: random.Random) -> Image.Image:
    """Reposted with a white bar of text added above the picture."""
    lang = rng.choice(list(CAPTIONS))
    f = font(max(18, image.width // 22), cjk=lang == "zh-TW", bold=True)
    bar = int(image.height * rng.uniform(0.1, 0.18))
    canvas = Image.new("RGB", (image.width, image.height + bar), "white")
    canvas.paste(image, (0, bar))
    ImageDraw.Draw(canvas).text((16, (bar - f.size) // 2), rng.choice(CAPTIONS[lang]), font=f, fill="black")
    return _open(jpeg(canvas, 85))


def travelled(image: Image.Image, rng: random.Random) -> Image.Image:
    """Several steps at once, as a picture that went through a few phones."""
    return reencode(crop(shrink(image, rng), rng), rng)


VARIANTS: dict[str, Callable[[Image.Image, random.Random], Image.Image]] = {
    "re-encode": reencode,
    "shrink": shrink,
    "crop": crop,
    "brightness": brightness,
    "phone viewer": phone_viewer,
    "phone chat": phone_chat,
    "caption bar": caption_bar,
    "several steps": travelled,
}
