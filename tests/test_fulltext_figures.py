"""Figures made to fit each platform's photo limits."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.fulltext import DISCORD_IMAGE, TELEGRAM_PHOTO, FigureUnusable, PhotoLimits, fit_image
from tests.fakes.fulltext_data import png_bytes


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_a_figure_that_fits_is_unchanged() -> None:
    data = png_bytes(640, 480)
    assert fit_image(data, TELEGRAM_PHOTO) is data
    assert fit_image(data, DISCORD_IMAGE) is data


def test_a_large_figure_is_downscaled_keeping_its_shape() -> None:
    data = png_bytes(3000, 1500)
    assert size_of(fit_image(data, TELEGRAM_PHOTO)) == (2560, 1280)
    assert size_of(fit_image(data, PhotoLimits(max_bytes=10**7, max_side=1000))) == (1000, 500)


def test_a_heavy_figure_is_made_light_enough() -> None:
    data = png_bytes(800, 800, noise=True)
    limits = PhotoLimits(max_bytes=150_000, max_side=4000)
    out = fit_image(data, limits)
    assert len(data) > 150_000 >= len(out)


@pytest.mark.parametrize(
    "data", [b"not an image", png_bytes(4000, 100)], ids=["garbage", "too-narrow"]
)
def test_unusable_figures_are_refused(data: bytes) -> None:
    with pytest.raises(FigureUnusable):
        fit_image(data, TELEGRAM_PHOTO)
