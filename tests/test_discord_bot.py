"""The Discord bot end to end: the real discord.py client, driven by `DiscordFrontend`, talking
to a fake Discord (REST + gateway) that validates like Discord, with the real core, fake arXiv
and a SQLite file. Interactions are created by the fake as Discord would send them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.frontend import PlatformUnreachable, TokenRejected
from tests.discord_harness import (
    DEFERRED,
    Answer,
    DiscordHarness,
    Running,
    answer_of,
    ask,
    choices,
    restore_discord_addresses,
)
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.discord_server import (
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeMessage,
    FakeUser,
    Perm,
)
from tests.fakes.fulltext_data import latexml_page
from tests.fakes.llm_server import FakeLLMServer, slow
from tests.pipeline_data import FakeClock, distractor_papers
from tests.telegram_harness import LISTING, announce_talking_heads, listing_clock

TOPIC = '"talking head" OR "talking face" OR "lip sync"'
MANAGE_CHANNELS = 1 << 4


@pytest.fixture
def arxiv() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    with FakeDiscord() as server, restore_discord_addresses():
        yield server
        assert server.server_errors == [] and server.unknown_routes == []


@pytest.fixture
def clock() -> FakeClock:
    return listing_clock()


@pytest.fixture
async def bot(
    arxiv: FakeArxiv, fake: FakeDiscord, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Running]:
    announce_talking_heads(arxiv)
    async with DiscordHarness(arxiv, fake, tmp_path / "bot.db", clock) as running:
        yield running


class Server:
    """A guild with a #papers channel, its owner, and a member without special rights."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.owner = fake.add_user("Olga")
        self.guild: FakeGuild = fake.add_guild("Physics", owner=self.owner)
        self.channel: FakeChannel = fake.add_text_channel(self.guild, "papers")
        self.member: FakeUser = fake.add_user("Sam")
        fake.add_member(self.guild, self.member)
        self.key = f"discord:{self.channel.id}"


async def until(predicate: Any, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def digest_messages(fake: FakeDiscord, channel: FakeChannel) -> list[FakeMessage]:
    """The bot's posts in `channel` that are not interaction answers."""
    return [m for m in fake.messages(channel) if m.interaction_id is None and not m.deleted]


def assert_within_discord_limits(message: FakeMessage) -> None:
    assert len(message.content) <= 2000
    assert len(message.embeds) <= 10
    total = 0
    for embed in message.embeds:
        assert len(embed.get("title", "")) <= 256
        assert len(embed.get("description", "")) <= 4096
        total += sum(len(embed.get(k, "")) for k in ("title", "description"))
        total += len(embed.get("footer", {}).get("text", ""))
    assert total <= 6000
    assert len(message.components) <= 5
    for row in message.components:
        assert len(row["components"]) <= 5


def text_of(messages: list[FakeMessage]) -> str:
    return "\n".join(
        f"{e.get('title', '')}\n{e.get('description', '')}" for m in messages for e in m.embeds
    )


def assert_answered(answer: Answer) -> None:
    assert answer.text.strip()
    assert "Sorry, something went wrong" not in answer.text


# --- Start-up ---------------------------------------------------------------------------------


async def test_commands_are_registered_once_with_chinese_descriptions(
    bot: Running, fake: FakeDiscord
) -> None:
    commands = {c["name"]: c for c in fake.commands()}
    assert set(commands) == {"subscribe", "unsubscribe", "list", "paper", "digest", "settings",
                             "pause", "resume", "help"}  # fmt: skip
    assert commands["subscribe"]["description_localizations"]["zh-CN"] == "订阅一个主题"
    query = commands["subscribe"]["options"][0]
    assert query["description_localizations"]["zh-CN"].startswith("主题查询")
    for name in ("subscribe", "unsubscribe", "digest", "pause", "resume"):
        assert int(commands[name]["default_member_permissions"]) == MANAGE_CHANNELS
    for name in ("list", "paper", "help", "settings"):
        assert commands[name].get("default_member_permissions") is None
    assert commands["unsubscribe"]["options"][0]["autocomplete"] is True
    assert len(fake.command_syncs()) == 1
    # A restart with the same commands does not send them again.
    await bot.frontend.stop()
    await bot.frontend.start()
    assert len(fake.command_syncs()) == 1
    assert [i["intents"] for i in fake.identifies()] == [1, 1]  # guilds only: nothing privileged


async def test_a_rejected_token_and_an_unreachable_api(
    arxiv: FakeArxiv, fake: FakeDiscord, tmp_path: Path, clock: FakeClock
) -> None:
    wrong = fake.token[:-4] + "AAAA"
    with pytest.raises(TokenRejected, match="DISCORD_BOT_TOKEN"):
        async with DiscordHarness(arxiv, fake, tmp_path / "a.db", clock, token=wrong):
            pass
    with FakeDiscord() as gone:
        api = gone.api_url  # nobody listens there any more
    with pytest.raises(PlatformUnreachable) as caught:
        async with DiscordHarness(arxiv, fake, tmp_path / "b.db", clock, api_url=api):
            pass
    assert "\n" not in str(caught.value)


# --- Topics in a server channel -----------------------------------------------------------------


async def test_subscribe_warns_of_a_lower_case_and_and_keeps_the_query(
    bot: Running, fake: FakeDiscord
) -> None:
    s = Server(fake)
    query = "talking and head"
    answer = await ask(fake, "subscribe", {"query": query}, user=s.owner, channel=s.channel)
    assert "Subscribed" in answer.text
    assert '⚠️ "and" is searched as a word; did you mean AND?' in answer.text.splitlines()
    listed = await ask(fake, "list", user=s.owner, channel=s.channel)
    assert query in listed.text  # followed as typed
    plain = await ask(fake, "subscribe", {"query": TOPIC}, user=s.owner, channel=s.channel)
    assert "did you mean" not in plain.text


async def test_subscribe_list_and_the_digest_in_a_channel(bot: Running, fake: FakeDiscord) -> None:
    s = Server(fake)
    answer = await ask(fake, "subscribe", {"query": TOPIC}, user=s.owner, channel=s.channel)
    assert not answer.ephemeral  # the channel sees what changed
    assert "Subscribed" in answer.text and "Understood as" in answer.text
    assert "matched **3** papers" in answer.text and "comes shortly" in answer.text
    listed = await ask(fake, "list", user=s.member, channel=s.channel)  # anyone may look
    assert listed.ephemeral and "1. " in listed.text and "talking head" in listed.text

    await bot.core.cycle.tick()  # the new topic's digest is queued and delivered
    posts = digest_messages(fake, s.channel)
    assert posts, fake.messages(s.channel)
    for post in posts:
        assert_within_discord_limits(post)
        assert post.nonce is not None
    body = text_of(posts)
    assert "EmoTalk3D" in body and "LipFlow" in body
    for paper in distractor_papers(LISTING):
        assert paper.title not in body
    header = posts[0].embeds[0]
    assert "talking head" in header["title"] and "3 new papers" in header["description"]
    paper_embeds = [e for p in posts for e in p.embeds[1:]]
    assert all(e["url"].startswith("https://arxiv.org/abs/") for e in paper_embeds)
    details = [c for p in posts for c in p.custom_ids() if c.startswith("pb:details:")]
    assert len(details) == 3
    pdfs = [
        b
        for p in posts
        for b in p.buttons()
        if b.get("url", "").startswith("https://arxiv.org/pdf/")
    ]
    assert len(pdfs) == 3
    # Nothing is posted twice, however often the scheduler ticks.
    count = len(fake.messages(s.channel))
    await bot.core.cycle.tick()
    await bot.core.cycle.tick()
    assert len(fake.messages(s.channel)) == count


async def test_a_member_without_manage_channels_changes_nothing(
    bot: Running, fake: FakeDiscord
) -> None:
    s = Server(fake)
    with pytest.raises(PermissionError):  # Discord hides the command from them by default
        fake.invoke("subscribe", {"query": "diffusion"}, user=s.member, channel=s.channel)
    # A server admin opened the commands to everyone: the bot still checks.
    with fake._lock:
        for stored in fake._commands[None]:
            stored["default_member_permissions"] = None
    attempts: list[tuple[str, dict[str, str]]] = [
        ("subscribe", {"query": "diffusion"}),
        ("unsubscribe", {"topic": "1"}),
        ("pause", {}),
        ("resume", {"topic": "1"}),
        ("digest", {}),
        ("settings", {"setting": "tz", "value": "Asia/Tokyo"}),
    ]
    for command, options in attempts:
        refused = await ask(fake, command, options, user=s.member, channel=s.channel)
        assert refused.ephemeral and "Manage Channels" in refused.text, command
    seen = await ask(fake, "settings", user=s.member, channel=s.channel)  # looking is fine
    assert seen.ephemeral and "Settings of this channel" in seen.text
    assert await bot.core.chats.subscriptions(s.key) == []
    chat = await bot.core.chats.get(s.key)
    assert chat is not None and chat.timezone == "UTC" and not chat.paused


async def test_subscribing_where_the_bot_cannot_post_names_what_is_missing(
    bot: Running, fake: FakeDiscord
) -> None:
    s = Server(fake)
    fake.set_bot_permissions(s.channel, deny=int(Perm.EMBED_LINKS))
    refused = await ask(fake, "subscribe", {"query": TOPIC}, user=s.owner, channel=s.channel)
    assert refused.ephemeral and "Embed Links" in refused.text
    assert await bot.core.chats.subscriptions(s.key) == []


async def test_digest_now_posts_to_the_channel(bot: Running, fake: FakeDiscord) -> None:
    s = Server(fake)
    await ask(fake, "subscribe", {"query": TOPIC}, user=s.owner, channel=s.channel)
    await ask(fake, "subscribe", {"query": "diffusion"}, user=s.owner, channel=s.channel)
    answer = await ask(fake, "digest", user=s.owner, channel=s.channel)
    assert answer.type == DEFERRED and answer.ephemeral
    assert "Posted the latest digest of 2 topics" in answer.text
    posts = digest_messages(fake, s.channel)
    assert "EmoTalk3D" in text_of(posts)
    for post in posts:
        assert_within_discord_limits(post)


# --- DMs ----------------------------------------------------------------------------------------


async def test_subscriptions_in_a_dm_belong_to_the_user(bot: Running, fake: FakeDiscord) -> None:
    ada = fake.add_user("Ada")
    answer = await ask(fake, "subscribe", {"query": TOPIC}, user=ada)
    assert "Subscribed" in answer.text
    [sub] = await bot.core.chats.subscriptions(f"discord:@{ada.id}")
    assert "talking head" in sub.query
    await bot.core.cycle.tick()
    posts = digest_messages(fake, fake.dm_channel(ada))
    assert "EmoTalk3D" in text_of(posts)


async def test_dms_closed_suspend_and_a_command_resumes(bot: Running, fake: FakeDiscord) -> None:
    ada = fake.add_user("Ada")
    await ask(fake, "subscribe", {"query": TOPIC}, user=ada)
    fake.close_dms(ada)
    await bot.core.cycle.tick()
    key = f"discord:@{ada.id}"
    assert await bot.core.chats.suspended("discord") == [key]
    fake.open_dms(ada)
    listed = await ask(fake, "list", user=ada)  # writing to the bot shows it can reach them
    assert "on again" in listed.text
    await bot.core.cycle.tick()
    assert "EmoTalk3D" in text_of(digest_messages(fake, fake.dm_channel(ada)))


# --- Autocomplete, settings, pause --------------------------------------------------------------


async def test_unsubscribe_autocompletes_this_channels_topics(
    bot: Running, fake: FakeDiscord
) -> None:
    s = Server(fake)
    for query in ("diffusion", "lip sync", "graph neural network"):
        await ask(fake, "subscribe", {"query": query}, user=s.owner, channel=s.channel)
    other = fake.add_text_channel(s.guild, "other")
    await ask(fake, "subscribe", {"query": "robotics"}, user=s.owner, channel=other)
    offered = await choices(fake, "unsubscribe", user=s.owner, channel=s.channel)
    assert [c["name"] for c in offered] == [
        "1. diffusion",
        "2. lip sync",
        "3. graph neural network",
    ]
    assert [c["value"] for c in offered] == ["1", "2", "3"]
    typed = await choices(fake, "unsubscribe", {"topic": "LIP"}, user=s.owner, channel=s.channel)
    assert [c["value"] for c in typed] == ["2"]
    by_number = await choices(fake, "unsubscribe", {"topic": "3"}, user=s.owner, channel=s.channel)
    assert [c["value"] for c in by_number] == ["3"]
    removed = await ask(fake, "unsubscribe", {"topic": "２"}, user=s.owner, channel=s.channel)
    assert "Removed #2" in removed.text and not removed.ephemeral
    left = [sub.query for sub in await bot.core.chats.subscriptions(s.key)]
    assert left == ["diffusion", "graph neural network"]


async def test_many_topics_offer_at_most_25_choices(bot: Running, fake: FakeDiscord) -> None:
    ada = fake.add_user("Ada")
    for i in range(25):
        await ask(fake, "subscribe", {"query": f"topic{i} " + "x" * 200}, user=ada)
    offered = await choices(fake, "pause", user=ada)
    assert len(offered) == 25 and all(len(c["name"]) <= 100 for c in offered)


async def test_settings_by_slash_options(bot: Running, fake: FakeDiscord) -> None:
    s = Server(fake)
    shown = await ask(fake, "settings", user=s.owner, channel=s.channel)
    assert shown.ephemeral and "Settings of this channel" in shown.text
    offered = await choices(
        fake, "settings", {"setting": "detail"}, "value", user=s.owner, channel=s.channel
    )
    assert [c["value"] for c in offered] == ["titles", "tldr", "full"]
    zones = await choices(
        fake, "settings", {"setting": "tz", "value": "berl"}, "value", user=s.owner,
        channel=s.channel,
    )  # fmt: skip
    assert [c["value"] for c in zones] == ["Europe/Berlin"]
    changed = await ask(
        fake, "settings", {"setting": "tz", "value": "Europe/Berlin"}, user=s.owner,
        channel=s.channel,
    )  # fmt: skip
    assert not changed.ephemeral and "Europe/Berlin" in changed.text
    await ask(
        fake, "settings", {"setting": "papers", "value": "５"}, user=s.owner, channel=s.channel
    )
    zh = await ask(fake, "settings", {"setting": "lang", "value": "中文"}, user=s.owner,
                   channel=s.channel)  # fmt: skip
    assert "的设置" in zh.text
    bad = await ask(fake, "settings", {"setting": "time", "value": "25:00"}, user=s.owner,
                    channel=s.channel)  # fmt: skip
    assert bad.ephemeral and "25:00" in bad.text
    chat = await bot.core.chats.get(s.key)
    assert chat is not None
    assert (chat.timezone, chat.max_papers, chat.language) == ("Europe/Berlin", 5, "zh")


async def test_pause_and_resume(bot: Running, fake: FakeDiscord) -> None:
    s = Server(fake)
    await ask(fake, "subscribe", {"query": "diffusion"}, user=s.owner, channel=s.channel)
    paused = await ask(fake, "pause", user=s.owner, channel=s.channel)
    assert "Paused digests for this channel" in paused.text
    chat = await bot.core.chats.get(s.key)
    assert chat is not None and chat.paused
    one = await ask(fake, "resume", {"topic": "1"}, user=s.owner, channel=s.channel)
    assert "topic #1" in one.text
    await ask(fake, "resume", user=s.owner, channel=s.channel)
    chat = await bot.core.chats.get(s.key)
    assert chat is not None and not chat.paused


# --- Papers and buttons --------------------------------------------------------------------------


async def test_paper_with_a_slow_llm_is_deferred_then_answered(
    arxiv: FakeArxiv, tmp_path: Path, clock: FakeClock
) -> None:
    heads = announce_talking_heads(arxiv)
    # Discord's 3 seconds scaled down: the fake expects an answer within 0.3 s and the model
    # takes 1 s, so only a deferral keeps the interaction alive.
    with (
        FakeLLMServer(default=slow(1.0)) as llm,
        FakeDiscord(interaction_timeout=0.3) as fake,
        restore_discord_addresses(),
    ):
        async with DiscordHarness(arxiv, fake, tmp_path / "llm.db", clock, llm_url=llm.base_url):
            ada = fake.add_user("Ada")
            answer = await ask(fake, "paper", {"id": f"arXiv:{heads[0].id}"}, user=ada)
            assert answer.type == DEFERRED and not answer.ephemeral
            [card] = answer.embeds
            assert "EmoTalk3D" in card["title"] and "TL;DR" in card["description"]
            assert llm.calls >= 1
        assert fake.server_errors == []
        assert not [r for r in fake.requests() if r.status == 404 and "callback" in r.path]


async def test_paper_lookups_and_mistakes(
    bot: Running, fake: FakeDiscord, arxiv: FakeArxiv
) -> None:
    heads = announce_talking_heads(arxiv)
    ada = fake.add_user("Ada")
    card = await ask(fake, "paper", {"id": f"https://arxiv.org/abs/{heads[0].id}v1"}, user=ada)
    assert "EmoTalk3D" in card.text
    assert any(c["custom_id"] == f"pb:details:{heads[0].id}" for row in card.components
               for c in row["components"] if "custom_id" in c)  # fmt: skip
    unknown = await ask(fake, "paper", {"id": "2411.99999"}, user=ada)
    assert "no paper" in unknown.text and unknown.ephemeral is False  # after a public deferral
    malformed = await ask(fake, "paper", {"id": "<script>**x**"}, user=ada)
    assert "not an arXiv identifier" in malformed.text


async def test_full_review_by_option_and_by_button(
    bot: Running, fake: FakeDiscord, arxiv: FakeArxiv
) -> None:
    paper = announce_talking_heads(arxiv)[0]
    arxiv.add_html(f"{paper.id}v1", latexml_page(f"{paper.id}v1"))
    ada = fake.add_user("Ada")
    card = await ask(fake, "paper", {"id": paper.id, "full": True}, user=ada)
    assert "EmoTalk3D" in card.text

    def reviewed(interaction: Any) -> bool:
        return any("Source" in m.content for m in interaction.followups)

    await fake.wait_until_async(lambda: reviewed(card.interaction), timeout=10)
    review = "\n".join(m.content for m in card.interaction.followups)
    assert "Affiliations" in review and "HTML" in review
    assert all(len(m.content) <= 2000 for m in card.interaction.followups)
    # Details, then "Full review": only the person who clicked sees it.
    s = Server(fake)
    shown = await ask(fake, "paper", {"id": paper.id}, user=s.member, channel=s.channel)
    details_id = next(
        c["custom_id"] for row in shown.components for c in row["components"]
        if c.get("custom_id", "").startswith("pb:details:")
    )  # fmt: skip
    assert shown.interaction.original is not None
    details = await answer_of(
        fake, fake.click(shown.interaction.original, details_id, user=s.owner)
    )
    assert details.ephemeral
    review_id = next(
        c["custom_id"] for row in details.components for c in row["components"]
        if c.get("custom_id", "").startswith("pb:review:")
    )  # fmt: skip
    assert details.interaction.original is not None
    clicked = fake.click(details.interaction.original, review_id, user=s.owner)
    first = await answer_of(fake, clicked)
    assert first.ephemeral and ("Source" in first.text or "Title" in first.text)


async def test_details_button_works_after_a_restart(
    arxiv: FakeArxiv, fake: FakeDiscord, tmp_path: Path, clock: FakeClock
) -> None:
    announce_talking_heads(arxiv)
    db = tmp_path / "restart.db"
    async with DiscordHarness(arxiv, fake, db, clock) as first:
        s = Server(fake)
        await ask(fake, "subscribe", {"query": TOPIC}, user=s.owner, channel=s.channel)
        await first.core.cycle.tick()
    posts = digest_messages(fake, s.channel)
    assert posts
    async with DiscordHarness(arxiv, fake, db, clock):
        custom_id = next(c for c in posts[0].custom_ids() if c.startswith("pb:details:"))
        interaction = fake.click(posts[0], custom_id, user=s.member)
        details = await answer_of(fake, interaction)
        assert details.ephemeral  # only the person who clicked sees them
        [embed] = details.embeds
        assert "**Abstract:**" in embed["description"]
        assert embed["url"] == "https://arxiv.org/abs/" + custom_id.removeprefix("pb:details:")


# --- Losing and regaining access ------------------------------------------------------------------


async def test_a_deleted_channel_pauses_its_deliveries_and_keeps_them(
    bot: Running, fake: FakeDiscord
) -> None:
    s = Server(fake)
    await ask(fake, "subscribe", {"query": TOPIC}, user=s.owner, channel=s.channel)
    fake.delete_channel(s.channel)
    await bot.core.cycle.tick()
    assert await bot.core.chats.suspended("discord") == [s.key]
    assert digest_messages(fake, s.channel) == []
    counts = await bot.core.storage.outbox.delivery_counts()
    assert counts.pending == 1 and counts.failed == 0  # kept for if it ever comes back


async def test_a_revoked_permission_suspends_and_restoring_it_resumes(
    bot: Running, fake: FakeDiscord
) -> None:
    s = Server(fake)
    await ask(fake, "subscribe", {"query": TOPIC}, user=s.owner, channel=s.channel)
    fake.set_bot_permissions(s.channel, deny=int(Perm.SEND_MESSAGES))
    await bot.core.cycle.tick()
    assert await bot.core.chats.suspended("discord") == [s.key]
    assert digest_messages(fake, s.channel) == []

    async def resumed() -> bool:
        return await bot.core.chats.suspended("discord") == []

    fake.set_bot_permissions(s.channel, allow=int(Perm.SEND_MESSAGES))  # CHANNEL_UPDATE
    await until(resumed)
    await bot.core.cycle.tick()
    assert "EmoTalk3D" in text_of(digest_messages(fake, s.channel))


async def test_a_role_given_back_resumes(bot: Running, fake: FakeDiscord) -> None:
    s = Server(fake)
    await ask(fake, "subscribe", {"query": TOPIC}, user=s.owner, channel=s.channel)
    fake.set_bot_permissions(s.guild, deny=int(Perm.EMBED_LINKS))  # GUILD_ROLE_UPDATE
    await bot.core.cycle.tick()
    assert await bot.core.chats.suspended("discord") == [s.key]

    async def resumed() -> bool:
        return await bot.core.chats.suspended("discord") == []

    fake.set_bot_permissions(s.guild, allow=int(Perm.EMBED_LINKS))
    await until(resumed)


# --- Odd input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("subscribe", {"query": "   "}),
        ("subscribe", {"query": "x" * 6000}),
        ("subscribe", {"query": "((((" + "é" * 30}),
        ("subscribe", {"query": "**bold** @everyone <@1> `tick` ||spoiler||"}),
        ("unsubscribe", {"topic": "٣"}),
        ("unsubscribe", {"topic": "²"}),
        ("unsubscribe", {"topic": "9" * 4000}),
        ("pause", {"topic": "①"}),
        ("resume", {"topic": "-1"}),
        ("settings", {"value": "on"}),
        ("settings", {"setting": "papers", "value": "²²²"}),
        ("settings", {"setting": "tz", "value": "<b>&amp;" * 500}),
        ("paper", {"id": " "}),
        ("paper", {"id": "9999.99999v99"}),
    ],
)
async def test_odd_input_is_answered_never_apologised_for(
    bot: Running, fake: FakeDiscord, command: str, options: dict[str, str]
) -> None:
    ada = fake.add_user("Ada")
    await ask(fake, "subscribe", {"query": "diffusion"}, user=ada)
    answer = await ask(fake, command, options, user=ada)
    assert_answered(answer)
    # Outside code blocks (where nothing renders as a mention) no mention survives.
    assert "@everyone" not in re.sub(r"```.*?```", "", answer.markdown, flags=re.S)
    subs = await bot.core.chats.subscriptions(f"discord:@{ada.id}")
    assert subs[0].query == "diffusion"  # nothing lost


async def test_announcement_channels_take_digests_too(bot: Running, fake: FakeDiscord) -> None:
    s = Server(fake)
    news = fake.add_text_channel(s.guild, "news", "announcement")
    answer = await ask(fake, "subscribe", {"query": TOPIC}, user=s.owner, channel=news)
    assert "Subscribed" in answer.text
    await bot.core.cycle.tick()
    assert "EmoTalk3D" in text_of(digest_messages(fake, news))
