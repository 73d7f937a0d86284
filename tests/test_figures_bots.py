"""Figures in the chat frontends: a Telegram photo before the card, a Discord embed image."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.discord_harness import DiscordHarness, answer_of, ask, restore_discord_addresses
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.fulltext_data import latexml_page, png_bytes
from tests.fakes.telegram_server import FakeTelegram, Fault
from tests.pipeline_data import FakeClock
from tests.telegram_harness import BotHarness, announce_talking_heads, listing_clock, say


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


@pytest.fixture
def arxiv() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return listing_clock()


def with_figure(arxiv: FakeArxiv) -> Any:
    paper = announce_talking_heads(arxiv)[0]
    vid = paper.versioned_id
    arxiv.add_html(vid, latexml_page(vid))
    arxiv.add_figure(vid, "x1.png", png_bytes(3000, 1500))
    return paper


async def test_telegram_paper_sends_the_figure_then_the_card(
    arxiv: FakeArxiv, tmp_path: Path, clock: FakeClock
) -> None:
    paper = with_figure(arxiv)
    with FakeTelegram() as tg:
        async with BotHarness(arxiv, tg, tmp_path / "bot.db", clock):
            ada = tg.add_user("Ada")
            [card] = await say(tg, ada, ada, f"/paper {paper.id}")
            [photo] = tg.sent_photos(ada)
            assert photo.message_id < card.message_id
            assert photo.caption.startswith("Figure 1") and len(photo.caption) <= 1024
            assert (photo.width, photo.height) == (2560, 1280)
            assert "EmoTalk3D" in card.text
            # Details: the figure again, then the details, in the private chat.
            details = next(b["callback_data"] for b in card.buttons if "callback_data" in b)
            tg.press_button(card, ada, details)
            await tg.wait_for_messages_async(ada, 2)
            assert len(tg.sent_photos(ada)) == 2
            assert len(arxiv.requests_to(f"/html/{paper.versioned_id}/x1.png")) == 1  # cached
        assert tg.server_errors == []


async def test_telegram_card_goes_out_when_the_photo_is_refused_or_missing(
    arxiv: FakeArxiv, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    paper = with_figure(arxiv)
    other = announce_talking_heads(arxiv)[1]  # no HTML, no PDF: no figure
    with FakeTelegram() as tg:
        async with BotHarness(arxiv, tg, tmp_path / "bot.db", clock):
            ada = tg.add_user("Ada")
            tg.inject("sendPhoto", Fault.error(400, "Bad Request: PHOTO_INVALID_DIMENSIONS"))
            [card] = await say(tg, ada, ada, f"/paper {paper.id}")
            assert "EmoTalk3D" in card.text and tg.sent_photos(ada) == []
            [plain] = await say(tg, ada, ada, f"/paper {other.id}")
            assert other.title.split()[0] in plain.text and tg.sent_photos(ada) == []
    assert "refused the figure" in caplog.text
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_the_fake_refuses_photos_telegram_would(tmp_path: Path) -> None:
    import httpx

    with FakeTelegram() as tg:
        ada = tg.add_user("Ada")
        url = f"{tg.base_url}{tg.token}/sendPhoto"

        def send(data: bytes, caption: str = "x") -> httpx.Response:
            files = {"photo": ("f.png", data, "image/png")}
            return httpx.post(url, data={"chat_id": str(ada.id), "caption": caption}, files=files)

        assert (
            send(png_bytes(9000, 1200)).json()["description"].endswith("PHOTO_INVALID_DIMENSIONS")
        )
        assert send(png_bytes(2100, 100)).json()["description"].endswith("PHOTO_INVALID_DIMENSIONS")
        assert "caption is too long" in send(png_bytes(), "x" * 1025).json()["description"]
        assert send(png_bytes(), "<b>" + "x" * 1024 + "</b>").status_code == 400  # plain text
        ok = httpx.post(
            url,
            data={"chat_id": str(ada.id), "caption": "<b>" + "x" * 1000 + "</b>",
                  "parse_mode": "HTML"},
            files={"photo": ("f.png", png_bytes(), "image/png")},
        )  # fmt: skip
        assert ok.status_code == 200 and tg.sent_photos(ada)[0].caption == "x" * 1000
        assert tg.server_errors == []


async def test_discord_paper_card_shows_the_attached_figure(
    arxiv: FakeArxiv, tmp_path: Path, clock: FakeClock
) -> None:
    paper = with_figure(arxiv)
    with FakeDiscord() as fake, restore_discord_addresses():
        async with DiscordHarness(arxiv, fake, tmp_path / "bot.db", clock):
            ada = fake.add_user("Ada")
            card = await ask(fake, "paper", {"id": paper.id}, user=ada)
            [embed] = card.embeds
            assert embed["image"]["url"] == "attachment://figure1.png"
            original = card.interaction.original
            assert original is not None
            [attachment] = original.attachments
            assert attachment.filename == "figure1.png"
            assert size_of(attachment.data) == (3000, 1500)
            custom_id = f"pb:details:{paper.id}"
            details = await answer_of(fake, fake.click(original, custom_id, user=ada))
            assert details.ephemeral
            assert details.embeds[0]["image"]["url"] == "attachment://figure1.png"
        assert fake.server_errors == []
