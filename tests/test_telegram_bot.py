"""The Telegram bot end to end: a real python-telegram-bot Application long-polling a fake Bot
API server that validates like Telegram, the real core, fake arXiv, a SQLite file."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.chats import ChatRef
from bot.models import Chat
from bot.reviews.quota import REVIEWS_PER_HOUR
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.fulltext_data import latexml_page
from tests.fakes.telegram_server import FakeTelegram, Fault, FloodLimits
from tests.pipeline_data import FakeClock, distractor_papers
from tests.telegram_harness import (
    LISTING,
    BotHarness,
    Running,
    announce_talking_heads,
    listing_clock,
    say,
    texts,
)

TOPIC = '"talking head" OR "talking face" OR "lip sync"'


@pytest.fixture
def arxiv() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    # Flood limits off here to keep the tests quick; the fan-out test turns them on.
    with FakeTelegram(flood=FloodLimits.off()) as server:
        yield server
        assert server.server_errors == []


@pytest.fixture
def clock() -> FakeClock:
    return listing_clock()


@pytest.fixture
async def bot(
    arxiv: FakeArxiv, tg: FakeTelegram, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Running]:
    announce_talking_heads(arxiv)
    async with BotHarness(arxiv, tg, tmp_path / "bot.db", clock) as running:
        yield running


async def test_command_menu_is_set_in_english_and_chinese(bot: Running, tg: FakeTelegram) -> None:
    en = tg.commands()
    zh = tg.commands(language_code="zh")
    assert {c["command"] for c in en} >= {"subscribe", "list", "paper", "settings", "digest"}
    assert [c["command"] for c in zh] == [c["command"] for c in en]
    assert any("订阅" in c["description"] for c in zh)


async def test_start_and_help(bot: Running, tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada")
    [welcome] = await say(tg, ada, ada, "/start")
    assert "/subscribe" in welcome.text and "talking head" in welcome.text
    [help_text] = await say(tg, ada, ada, "/help")
    for word in ("OR", "cat:cs.CV", "au:", "talk*", "/settings"):
        assert word in help_text.text


async def test_subscribe_confirms_understanding_and_recent_count(
    bot: Running, tg: FakeTelegram
) -> None:
    ada = tg.add_user("Ada")
    [reply] = await say(tg, ada, ada, f"/subscribe {TOPIC}")
    assert "Subscribed" in reply.text and "talking head" in reply.text
    assert "Understood as" in reply.text
    assert "matched 3 papers" in reply.text  # the three talking-head papers of the listing
    [listing] = await say(tg, ada, ada, "/list")
    assert "1. " + TOPIC in listing.text


async def test_subscribe_warns_of_a_lower_case_or_and_keeps_the_query(
    bot: Running, tg: FakeTelegram
) -> None:
    ada = tg.add_user("Ada")
    [reply] = await say(tg, ada, ada, '/subscribe "talking head" or "lip sync"')
    assert "Subscribed" in reply.text
    assert reply.text.endswith('\n⚠️ "or" is searched as a word; did you mean OR?')
    [listing] = await say(tg, ada, ada, "/list")
    assert '1. "talking head" or "lip sync"' in listing.text  # followed as typed
    [plain] = await say(tg, ada, ada, f"/subscribe {TOPIC}")
    assert "did you mean" not in plain.text


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('/subscribe "talking head', "unterminated"),
        ("/subscribe (a OR b", "parenthes"),
        ("/subscribe NOT survey", "only excludes"),
        ("/subscribe " + "word " * 300, "long"),
        ("/subscribe <b>&amp;</b> 🙂", ""),
    ],
)
async def test_bad_queries_get_a_clear_answer_and_store_nothing(
    bot: Running, tg: FakeTelegram, text: str, needle: str
) -> None:
    ada = tg.add_user("Ada")
    [reply] = await say(tg, ada, ada, text)
    assert needle.lower() in reply.text.lower()
    assert "something went wrong" not in reply.text.lower()
    if "Subscribed" not in reply.text:
        assert await bot.chats.subscriptions(f"telegram:{ada.id}") == []


async def test_subscribe_without_query_explains(bot: Running, tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada")
    [reply] = await say(tg, ada, ada, "/subscribe")
    assert "/subscribe" in reply.text and "for example" in reply.text


async def test_scheduled_digest_arrives_with_details_one_tap_away(
    bot: Running, tg: FakeTelegram
) -> None:
    ada = tg.add_user("Ada")
    await say(tg, ada, ada, f"/subscribe {TOPIC}")
    await bot.cycle.tick()
    digest = [m for m in tg.sent_messages(ada) if "📰" in m.text]
    assert digest, texts(tg.sent_messages(ada))
    body = texts(digest)
    assert "EmoTalk3D" in body and "LipFlow" in body
    for p in distractor_papers(LISTING):
        assert p.title not in body
    assert all(m.parse_mode == "HTML" for m in digest)
    links = [e["url"] for m in digest for e in m.entities_of("text_link")]
    assert any(url.startswith("https://arxiv.org/abs/") for url in links)
    details = [d for m in digest for d in m.callback_data if d.startswith("d|")]
    assert len(details) == 3
    before = len(tg.sent_messages(ada))
    tg.press_button(digest[0], ada, details[0])
    [card] = (await tg.wait_for_messages_async(ada, before + 1))[before:]
    assert "Abstract" in card.text or "abstract" in card.text.lower()
    assert tg.callback_answers  # the tap was acknowledged
    # Nothing is sent twice, however often the scheduler ticks.
    count = len(tg.sent_messages(ada))
    await bot.cycle.tick()
    await bot.cycle.tick()
    assert len(tg.sent_messages(ada)) == count


async def test_paper_lookup(bot: Running, tg: FakeTelegram, arxiv: FakeArxiv) -> None:
    heads = announce_talking_heads(arxiv)
    ada = tg.add_user("Ada")
    [card] = await say(tg, ada, ada, f"/paper https://arxiv.org/abs/{heads[0].id}v1")
    assert "EmoTalk3D" in card.text
    urls = [b.get("url", "") for b in card.buttons]
    assert any(u.startswith("https://arxiv.org/pdf/") for u in urls)
    assert any(d.startswith("d|") for d in card.callback_data)
    assert tg.chat_actions(ada)  # "typing…" while it worked
    [unknown] = await say(tg, ada, ada, "/paper 2411.99999")
    assert "no paper" in unknown.text
    [malformed] = await say(tg, ada, ada, "/paper <script>")
    assert "not an arXiv identifier" in malformed.text
    [empty] = await say(tg, ada, ada, "/paper")
    assert "2409.03605" in empty.text


async def test_full_reviews_by_command_and_by_button(
    bot: Running, tg: FakeTelegram, arxiv: FakeArxiv
) -> None:
    heads = announce_talking_heads(arxiv)
    paper = heads[0]
    arxiv.add_html(f"{paper.id}v1", latexml_page(f"{paper.id}v1"))
    ada = tg.add_user("Ada")
    replies = await say(tg, ada, ada, f"/paper {paper.id} full", replies=2)
    card, review = replies[0], texts(replies[1:])
    assert "EmoTalk3D" in card.text
    assert "Source" in review and "HTML" in review and "Affiliations" in review
    assert all(len(m.text) <= 4096 for m in replies)
    # From a group: Details, then "Full review", both sent privately to whoever tapped.
    group = tg.add_group("Lab", members=[ada])
    [card] = await say(tg, group, ada, f"/paper {paper.id}")
    before = len(tg.sent_messages(ada))
    tg.press_button(card, ada, next(d for d in card.callback_data if d.startswith("d|")))
    [details] = (await tg.wait_for_messages_async(ada, before + 1, timeout=10))[before:]
    assert any(d.startswith("r|") for d in details.callback_data)
    tg.press_button(details, ada, next(d for d in details.callback_data if d.startswith("r|")))
    sent = await tg.wait_for_messages_async(ada, before + 2, timeout=10)
    assert "Source" in texts(sent[before + 1 :])
    assert tg.sent_messages(group) == [card]  # nothing of it in the group


async def test_full_reviews_are_limited_per_chat_and_hour(
    bot: Running, tg: FakeTelegram, arxiv: FakeArxiv, clock: FakeClock
) -> None:
    paper = announce_talking_heads(arxiv)[0]
    ada = tg.add_user("Ada")
    for _ in range(REVIEWS_PER_HOUR):
        bot.core.review_quota.take(f"telegram:{ada.id}")
    [refused] = await say(tg, ada, ada, f"/paper {paper.id} full")
    assert "limited to" in refused.text and "an hour" in refused.text
    clock.advance(hours=1, minutes=1)
    answers = await say(tg, ada, ada, f"/paper {paper.id} full", replies=2)
    assert "limited to" not in texts(answers)


async def test_settings_by_button_and_by_text(bot: Running, tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada")
    [panel] = await say(tg, ada, ada, "/settings")
    assert "Settings" in panel.text
    five = next(d for d in panel.callback_data if d.endswith("|papers|5"))
    tg.press_button(panel, ada, five)
    await tg.wait_until_async(lambda: "<b>5</b>" in (tg.sent_messages(ada)[-1].raw_text or ""))
    [tz] = await say(tg, ada, ada, "/settings tz Asia/Shanghai")
    assert "Asia/Shanghai" in tz.text
    [bad] = await say(tg, ada, ada, "/settings tz Mars/Base")
    assert "time zone" in bad.text
    chat = await bot.chats.get(f"telegram:{ada.id}")
    assert chat is not None and chat.max_papers == 5 and chat.timezone == "Asia/Shanghai"


async def test_group_admin_rules(bot: Running, tg: FakeTelegram) -> None:
    admin, member = tg.add_user("Alice"), tg.add_user("Bob")
    group = tg.add_supergroup("Lab", admins=[admin], members=[member])
    [refused] = await say(tg, group, member, "/subscribe diffusion")
    assert "administrators" in refused.text
    [ok] = await say(tg, group, admin, "/subscribe@paperboy_test_bot diffusion")
    assert "Subscribed" in ok.text
    [listed] = await say(tg, group, member, "/list")  # anyone may look
    assert "diffusion" in listed.text
    [helped] = await say(tg, group, member, "/help")
    assert "Query language" in helped.text
    before = len(tg.sent_messages(group))
    tg.send_anonymous(group, "/subscribe lipsync")
    [anon] = (await tg.wait_for_messages_async(group, before + 1))[before:]
    assert "Subscribed" in anon.text
    [bad_button] = await say(tg, group, member, "/unsubscribe")
    assert "administrators" in bad_button.text
    assert len(await bot.chats.subscriptions(f"telegram:{group.id}")) == 2


async def test_channel_configured_from_a_private_chat(bot: Running, tg: FakeTelegram) -> None:
    owner, stranger = tg.add_user("Olga"), tg.add_user("Sam")
    channel = tg.add_channel("Daily heads", username="dailyheads", creator=owner)
    [ok] = await say(tg, owner, owner, f"/subscribe @dailyheads {TOPIC}")
    assert "Subscribed for @dailyheads" in ok.text
    [refused] = await say(tg, stranger, stranger, "/subscribe @dailyheads diffusion")
    assert "Only administrators of @dailyheads" in refused.text
    tg.add_channel("Mute", username="mutechan", creator=owner, bot_status="member")
    [missing] = await say(tg, owner, owner, "/subscribe @mutechan diffusion")
    assert "not allowed to post" in missing.text
    [unknown] = await say(tg, owner, owner, "/subscribe @nosuchchannel diffusion")
    assert "can't find @nosuchchannel" in unknown.text
    await bot.cycle.tick()
    posted = tg.sent_messages(channel)
    assert posted and "EmoTalk3D" in texts(posted)


async def test_blocked_chat_is_paused_and_resumes_on_start(bot: Running, tg: FakeTelegram) -> None:
    ada, bob = tg.add_user("Ada"), tg.add_user("Bob")
    await say(tg, ada, ada, f"/subscribe {TOPIC}")
    await say(tg, bob, bob, f"/subscribe {TOPIC}")
    tg.block(ada)
    await bot.cycle.tick()
    chat = await bot.chats.get(f"telegram:{ada.id}")
    assert chat is not None and chat.paused
    assert any("📰" in m.text for m in tg.sent_messages(bob))
    await bot.cycle.tick()  # not retried while blocked
    [welcome] = await say(tg, ada, ada, "/start")  # writing again un-blocks
    assert "on again" in welcome.text
    await bot.cycle.tick()
    assert any("📰" in m.text for m in tg.sent_messages(ada))


async def test_migrated_group_keeps_its_topics(bot: Running, tg: FakeTelegram) -> None:
    admin = tg.add_user("Alice")
    group = tg.add_group("Old lab", admins=[admin])
    await say(tg, group, admin, f"/subscribe {TOPIC}")
    supergroup = tg.migrate(group)
    await bot.cycle.tick()
    assert any("📰" in m.text for m in tg.sent_messages(supergroup))
    subs = await bot.chats.subscriptions(f"telegram:{supergroup.id}")
    assert [s.query for s in subs] == [TOPIC]


async def test_retry_after_and_network_errors_lose_and_repeat_nothing(
    bot: Running, tg: FakeTelegram, clock: FakeClock
) -> None:
    from tests.fakes.telegram_server import Fault

    users = [tg.add_user(f"U{i}") for i in range(3)]
    for u in users:
        await say(tg, u, u, f"/subscribe {TOPIC}")
    tg.inject("sendMessage", Fault.flood(retry_after=1), Fault.reset(), Fault.http(502))
    await bot.cycle.tick()
    clock.advance(minutes=10)  # past the backoff of the failed delivery
    await bot.cycle.tick()
    for u in users:
        digests = [m.text for m in tg.sent_messages(u) if "📰" in m.text]
        assert len(digests) == 1, digests


async def test_digest_command_sends_now_and_not_again_later(bot: Running, tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada")
    [none] = await say(tg, ada, ada, "/digest")
    assert "No active topics" in none.text
    await say(tg, ada, ada, f"/subscribe {TOPIC}")
    await say(tg, ada, ada, "/digest")
    count = len(tg.sent_messages(ada))
    assert "EmoTalk3D" in texts(tg.sent_messages(ada))
    await bot.cycle.tick()
    assert len(tg.sent_messages(ada)) == count


async def test_digest_command_survives_a_telegram_error_through_the_outbox(
    bot: Running, tg: FakeTelegram, clock: FakeClock
) -> None:
    ada = tg.add_user("Ada")
    await say(tg, ada, ada, f"/subscribe {TOPIC}")
    tg.inject("sendMessage", Fault.http(502))  # the digest's message meets a Telegram outage
    [answer] = await say(tg, ada, ada, "/digest")
    assert "queued" in answer.text
    assert "EmoTalk3D" not in texts(tg.sent_messages(ada))
    clock.advance(minutes=1)
    await bot.cycle.tick()  # the retry: the digest was kept, not lost
    digests = [m for m in tg.sent_messages(ada) if "📰" in m.text]
    assert len(digests) == 1 and "EmoTalk3D" in digests[0].text
    await bot.cycle.tick()
    assert len([m for m in tg.sent_messages(ada) if "📰" in m.text]) == 1


async def test_digest_command_again_repeats_the_latest_digest_on_request(
    bot: Running, tg: FakeTelegram
) -> None:
    ada = tg.add_user("Ada")
    await say(tg, ada, ada, f"/subscribe {TOPIC}")
    await bot.cycle.tick()
    await say(tg, ada, ada, "/digest")  # asked for explicitly: shown again
    assert len([m for m in tg.sent_messages(ada) if "📰" in m.text]) == 2
    await bot.cycle.tick()
    assert len([m for m in tg.sent_messages(ada) if "📰" in m.text]) == 2


async def test_a_long_topic_list_is_split_within_telegrams_limits(
    bot: Running, tg: FakeTelegram
) -> None:
    ada = tg.add_user("Ada")
    chat = (await bot.chats.enter(ChatRef(f"telegram:{ada.id}", _private()))).chat
    for i in range(25):
        words = " ".join(f"longword{i}segment{j}" for j in range(30))[:470]
        await bot.chats.subscribe(chat, f"{words} <&> topic{i}", by=None)
    answers = await say(tg, ada, ada, "/list", replies=2)
    body = texts(answers)
    assert "Sorry" not in body and "topic0" in body
    assert all(len(m.text) <= 4096 for m in answers)


@pytest.mark.parametrize(
    "command",
    ["/unsubscribe ²", "/pause ①", "/resume " + "9" * 4400, "/unsubscribe ٣", "/pause -1",
     "/settings papers ²²²", "/settings tz <b>&amp;", "/settings", "/settings nonsense",
     "/subscribe ((((", "/subscribe " + "x" * 5000, "/paper ", "/paper 9999.99999v99",
     "/paper <script>", "/settings time ２５：００"],
)  # fmt: skip
async def test_odd_input_is_answered_never_apologised_for(
    bot: Running, tg: FakeTelegram, command: str
) -> None:
    ada = tg.add_user("Ada")
    await say(tg, ada, ada, "/subscribe diffusion")
    [answer] = await say(tg, ada, ada, command)
    assert "Sorry" not in answer.text and answer.text.strip()
    assert len(await bot.chats.subscriptions(f"telegram:{ada.id}")) == 1  # nothing lost


async def test_a_telegram_outage_is_one_warning_per_failed_poll_not_a_traceback(
    bot: Running, tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    tg.inject("getUpdates", Fault.http(502))
    ada = tg.add_user("Ada")
    with caplog.at_level(logging.DEBUG):
        await say(tg, ada, ada, "/help")  # answered once polling recovers
    failures = [r for r in caplog.records if "polling failed" in r.getMessage()]
    assert len(failures) == 1 and failures[0].levelno == logging.WARNING
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert all(r.exc_info is None for r in failures)


async def test_fan_out_within_flood_limits_while_commands_stay_responsive(
    arxiv: FakeArxiv, tmp_path: Path, clock: FakeClock
) -> None:
    announce_talking_heads(arxiv)
    with FakeTelegram(flood=FloodLimits()) as tg:
        async with BotHarness(arxiv, tg, tmp_path / "fan.db", clock) as bot:
            users = [tg.add_user(f"U{i}") for i in range(40)]
            for u in users:
                chat = (await bot.chats.enter(ChatRef(f"telegram:{u.id}", _private()))).chat
                await bot.chats.subscribe(chat, TOPIC, by=None)
            fan_out = asyncio.create_task(bot.cycle.tick())
            await tg.wait_until_async(lambda: tg.counters.sent >= 5, timeout=20)
            asker = users[-1]
            before = len(tg.sent_messages(asker))
            tg.send_text(asker, asker, "/help")
            replies = await tg.wait_for_messages_async(asker, before + 1, timeout=10)
            answered_while_busy = not fan_out.done()
            await asyncio.wait_for(fan_out, timeout=60)
            assert answered_while_busy and any("Query language" in m.text for m in replies)
            assert tg.counters.flood_429 == 0
            for u in users:
                assert len([m for m in tg.sent_messages(u) if "📰" in m.text]) == 1


def _private() -> Any:
    from bot.models import ChatKind

    return ChatKind.PRIVATE


class Crash(BaseException):
    """Stands in for the process being killed between two messages."""


class _CrashAfter:
    """Wraps the Telegram sender; the "process dies" after `limit` messages."""

    sent = 0

    def __init__(self, inner: Any, limit: int) -> None:
        self._inner, self._limit = inner, limit

    async def send(self, chat: Chat, message: Any, *, key: str) -> None:
        if _CrashAfter.sent >= self._limit:
            raise Crash()
        await self._inner.send(chat, message, key=key)
        _CrashAfter.sent += 1


async def test_crash_mid_fan_out_then_restart_delivers_the_rest_once(
    arxiv: FakeArxiv, tg: FakeTelegram, tmp_path: Path, clock: FakeClock
) -> None:
    announce_talking_heads(arxiv)
    users = [tg.add_user(f"U{i}") for i in range(6)]
    db = tmp_path / "crash.db"
    _CrashAfter.sent = 0
    harness = BotHarness(arxiv, tg, db, clock, wrap_sender=lambda s: _CrashAfter(s, 3))
    async with harness as first:
        for u in users:
            chat = (await first.chats.enter(ChatRef(f"telegram:{u.id}", _private()))).chat
            await first.chats.subscribe(chat, TOPIC, by=None)
        with pytest.raises(Crash):
            await first.cycle.tick()
    # The other workers finished the message they had in flight, and no more.
    assert 3 <= tg.counters.sent < len(users)
    async with BotHarness(arxiv, tg, db, clock) as restarted:
        await restarted.cycle.tick()
    for u in users:
        assert len([m for m in tg.sent_messages(u) if "📰" in m.text]) == 1
