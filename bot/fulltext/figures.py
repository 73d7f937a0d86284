"""Make a figure fit a platform's photo limits, with Pillow.

Why Pillow: the standard imaging library for Python (wheels for every platform, no system
dependency), reads every format arXiv's HTML uses for figures (PNG, JPEG, GIF, WebP) and
resizes with good filters. Decoding is guarded: an image of more pixels than `MAX_PIXELS` is
refused (`FigureUnusable`) rather than unpacked into memory.

`fit_image` returns the bytes unchanged when they already fit (a PNG or JPEG within the byte and
side limits), otherwise a downscaled PNG, or a JPEG when a PNG of that size is still too heavy
(photos, noise), stepping the size down until it fits.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

__all__ = [
    "DISCORD_IMAGE",
    "MAX_PIXELS",
    "TELEGRAM_PHOTO",
    "FigureUnusable",
    "PhotoLimits",
    "fit_image",
]

MAX_PIXELS = 60_000_000  # ~7700 × 7700: more is a decompression bomb or a poster, not a figure


@dataclass(frozen=True, slots=True)
class PhotoLimits:
    """What a platform accepts as an inline photo."""

    max_bytes: int
    max_side: int  # longest side, pixels
    max_side_sum: int | None = None  # width + height (Telegram)
    max_ratio: float | None = None  # long side / short side (Telegram)


# Telegram sendPhoto: at most 10 MB, width + height at most 10000, ratio at most 20. Sides are
# kept to 2560 px: Telegram shows photos at most that large anyway.
TELEGRAM_PHOTO = PhotoLimits(max_bytes=10_000_000, max_side=2560, max_side_sum=10_000, max_ratio=20)
# Discord: 10 MiB per attachment for bots without boosts; embeds show images up to ~4096 px.
DISCORD_IMAGE = PhotoLimits(max_bytes=10 * 1024 * 1024, max_side=4096)


class FigureUnusable(Exception):
    """Not an image Pillow can read, too many pixels, or a shape the platform refuses."""


def _fits(image: Image.Image, size: int, limits: PhotoLimits) -> bool:
    w, h = image.size
    return (
        size <= limits.max_bytes
        and max(w, h) <= limits.max_side
        and (limits.max_side_sum is None or w + h <= limits.max_side_sum)
    )


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
    else:
        image.save(out, format="PNG")
    return out.getvalue()


def fit_image(data: bytes, limits: PhotoLimits) -> bytes:
    """`data` as an image within `limits` (see the module docstring)."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            w, h = probe.size
            fmt = probe.format
            if w * h > MAX_PIXELS:
                raise FigureUnusable(f"{w}×{h} pixels is too many to decode")
            if limits.max_ratio is not None and max(w, h) > limits.max_ratio * min(w, h):
                raise FigureUnusable(f"{w}×{h} is too narrow to show as a photo")
            if fmt in {"PNG", "JPEG"} and _fits(probe, len(data), limits):
                return data
            probe.load()
            image = probe.copy()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise FigureUnusable(f"not a readable image ({exc})") from None
    if image.mode not in {"RGB", "RGBA", "L", "LA", "P"}:
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    side = min(max(image.size), limits.max_side)
    if limits.max_side_sum is not None:
        side = min(side, int(limits.max_side_sum * max(image.size) / sum(image.size)))
    while side >= 64:
        scaled = image.copy()
        scaled.thumbnail((side, side), Image.Resampling.LANCZOS)
        for fmt in ("PNG", "JPEG"):
            encoded = _encode(scaled, fmt)
            if _fits(scaled, len(encoded), limits):
                return encoded
        side = int(side * 0.75)
    raise FigureUnusable("could not be made small enough")
