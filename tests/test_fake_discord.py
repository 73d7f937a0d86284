"""The fake Discord server, driven by the real discord.py client (no patching beyond the URLs)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # discord.player imports audioop
    import discord
    from discord import app_commands

from tests.fakes.discord_server import (
    FakeChannel,
    FakeDiscord,
    FakeUser,
    Fault,
    FaultKind,
    Intent,
    ManualClock,
    Perm,
    RateLimits,
    point_discord_py_at,
)

READY_TIMEOUT = 5.0


@contextlib.contextmanager
def serve(**kwargs: Any) -> Iterator[FakeDiscord]:
    with FakeDiscord(**kwargs) as server, point_discord_py_at(server):
        yield server
        assert server.server_errors == []
        assert server.unknown_routes == []


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    with serve() as server:
        yield server


def make_client(**kwargs: Any) -> discord.Client:
    kwargs.setdefault("intents", discord.Intents.default())
    kwargs.setdefault("guild_ready_timeout", 0.05)  # a Client option; the default waits 2 s
    return discord.Client(**kwargs)


@contextlib.asynccontextmanager
async def running(client: discord.Client, fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    """Log in, connect in a task (as `Client.start` would) and wait for on_ready."""
    await client.login(fake.token)
    connect = asyncio.create_task(client.connect())
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait(
            {connect, ready}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if connect in done:
            connect.result()  # raises what connect() raised
        assert ready in done, "the client never became ready"
        yield client
    finally:
        ready.cancel()
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(connect, 5)


@contextlib.asynccontextmanager
async def raw_session(fake: FakeDiscord) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession(base_url=fake.root_url, headers=headers) as session:
        yield session


def world(fake: FakeDiscord) -> tuple[FakeChannel, FakeUser]:
    guild = fake.add_guild("Physics")
    general = fake.add_text_channel(guild, "general")
    return general, fake.add_user("ada")


def text_channel(client: discord.Client, channel: FakeChannel) -> discord.TextChannel:
    found = client.get_channel(channel.id)
    assert isinstance(found, discord.TextChannel)
    return found


# -- connection -------------------------------------------------------------------------------


async def test_connect_ready_and_guild_create_populate_the_cache(fake: FakeDiscord) -> None:
    guild = fake.add_guild("Physics")
    general = fake.add_text_channel(guild, "general", topic="all things")
    news = fake.add_text_channel(guild, "announcements", kind="announcement")
    client = make_client()
    readies: list[float] = []

    @client.event
    async def on_ready() -> None:
        readies.append(time.monotonic())

    async with running(client, fake):
        assert client.user is not None and client.user.id == fake.bot.id
        assert client.application_id == fake.application_id
        [g] = client.guilds
        assert g.name == "Physics" and g.member_count == 2
        assert isinstance(g.get_channel(general.id), discord.TextChannel)
        assert text_channel(client, general).topic == "all things"
        news_channel = g.get_channel(news.id)
        assert isinstance(news_channel, discord.TextChannel) and news_channel.is_news()
        me = g.me
        assert fake.bot_role(guild).id in [r.id for r in me.roles]
        assert text_channel(client, general).permissions_for(me).embed_links
        await fake.wait_until_async(lambda: fake.counters.heartbeat_acks >= 1)
        assert math.isfinite(client.latency)
        assert readies
    [identify] = fake.identifies()
    assert identify["token"] is True and identify["intents"] == discord.Intents.default().value
    assert fake.gateway_queries[0] == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
    assert [e.name for e in fake.dispatched()][:2] == ["READY", "GUILD_CREATE"]


async def test_short_heartbeat_interval_is_kept_up() -> None:
    with serve(heartbeat_interval=50) as fake:
        world(fake)
        async with running(make_client(), fake):
            await fake.wait_until_async(lambda: fake.counters.heartbeat_acks >= 4, timeout=2)


async def test_unacknowledged_heartbeats_make_discord_py_resume() -> None:
    with serve(heartbeat_interval=50) as fake:
        world(fake)
        async with running(make_client(heartbeat_timeout=0.3), fake):
            fake.ack_heartbeats = False  # a zombied connection: nothing comes back
            await fake.wait_until_async(lambda: fake.counters.resumes == 1, timeout=3)
            fake.ack_heartbeats = True
            await fake.wait_connected_async()
        assert fake.counters.identifies == 1


async def test_get_gateway_bot_answers_the_fake_gateway(fake: FakeDiscord) -> None:
    client = make_client()
    await client.login(fake.token)
    try:
        shards, url, limit = await client.http.get_bot_gateway()
    finally:
        await client.close()
    assert (shards, url) == (1, fake.gateway_url) and limit["max_concurrency"] == 1


async def test_wrong_token_is_a_login_failure(fake: FakeDiscord) -> None:
    client = make_client()
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
    assert [r.status for r in fake.requests()] == [401]


async def test_gateway_closes_4004_on_a_bad_token(fake: FakeDiscord) -> None:
    world(fake)
    client = make_client()
    await client.login(fake.token)
    client.http.token = "stolen"  # IDENTIFY carries the HTTP client's token
    with pytest.raises(discord.ConnectionClosed) as caught:
        await asyncio.wait_for(client.connect(), READY_TIMEOUT)
    await client.close()
    assert caught.value.code == 4004


async def test_privileged_intents_must_be_enabled_for_the_app() -> None:
    intents = discord.Intents.default()
    intents.message_content = True
    with serve() as fake:
        client = make_client(intents=intents)
        await client.login(fake.token)
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(client.connect(), READY_TIMEOUT)
        await client.close()
    with serve(privileged_intents=Intent.MESSAGE_CONTENT) as fake:
        async with running(make_client(intents=intents), fake):
            assert fake.connected == 1


async def test_resume_replays_missed_events(fake: FakeDiscord) -> None:
    guild = fake.add_guild("Physics")
    client = make_client()
    resumed = asyncio.Event()

    @client.event
    async def on_resumed() -> None:
        resumed.set()

    async with running(client, fake):
        fake.disconnect_all(4000)
        late = fake.add_text_channel(guild, "late")  # dispatched while the client reconnects
        await asyncio.wait_for(resumed.wait(), READY_TIMEOUT)
        await fake.wait_until_async(lambda: client.get_channel(late.id) is not None)
        assert fake.counters.resumes == 1 and fake.counters.identifies == 1


class EagerClient(discord.Client):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s here before every IDENTIFY but the first; tests need not."""


async def test_invalidated_session_identifies_again(fake: FakeDiscord) -> None:
    fake.add_guild("Physics")
    client = EagerClient(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    async with running(client, fake):
        fake.disconnect_all(4000, resumable=False)
        await fake.wait_for_identify_async(2)
        await fake.wait_connected_async()
        await fake.wait_until_async(lambda: len(fake.dispatched("READY")) == 2)


async def test_state_outlives_the_bot(fake: FakeDiscord) -> None:
    general, _ = world(fake)
    first = make_client()
    tree = app_commands.CommandTree(first)

    @tree.command(description="Today's digest")
    async def digest(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("...")

    async with running(first, fake):
        synced = await tree.sync()
        await text_channel(first, general).send("before the restart")
    second = make_client()
    async with running(second, fake):
        assert [g.name for g in second.guilds] == ["Physics"]
        fetched = await app_commands.CommandTree(second).fetch_commands()
        assert [(c.id, c.name) for c in fetched] == [(c.id, c.name) for c in synced]
    assert fake.counters.command_syncs == 1
    assert [m.content for m in fake.messages(general)] == ["before the restart"]
    assert fake.counters.identifies == 2


# -- application commands and interactions ----------------------------------------------------


async def test_sync_then_invoke_a_slash_command_with_typed_options(fake: FakeDiscord) -> None:
    general, ada = world(fake)
    client = make_client()
    tree = app_commands.CommandTree(client)
    received: list[tuple[str, int, bool]] = []

    @tree.command(description="Subscribe to a topic")
    async def subscribe(
        interaction: discord.Interaction, topic: str, days: int = 1, quiet: bool = False
    ) -> None:
        received.append((topic, days, quiet))
        assert interaction.guild_id == general.guild_id and interaction.locale.value == "de"
        assert interaction.app_permissions.send_messages
        await interaction.response.send_message(f"Subscribed to {topic}")

    async with running(client, fake):
        await tree.sync()
        [stored] = fake.commands()
        assert stored["name"] == "subscribe"
        assert [(o["name"], o["type"]) for o in stored["options"]] == [
            ("topic", 3),
            ("days", 4),
            ("quiet", 5),
        ]
        inter = fake.invoke(
            "subscribe",
            {"topic": "quant-ph", "days": 3, "quiet": True},
            user=ada,
            channel=general,
            locale="de",
        )
        callback = await fake.wait_for_response_async(inter)
        assert received == [("quant-ph", 3, True)]
        assert callback.type == 4 and callback.data is not None
        assert callback.data["content"] == "Subscribed to quant-ph"
        assert callback.with_response  # discord.py 2.7 always asks ?with_response=1
        [message] = fake.messages(general)
        assert message.content == "Subscribed to quant-ph" and message.interaction_id == inter.id
        assert fake.interaction_responses(inter) == [callback]
        with pytest.raises(LookupError):
            fake.invoke("unsubscribe", user=ada, channel=general)
        with pytest.raises(ValueError, match="integer"):
            fake.invoke("subscribe", {"topic": "x", "days": "3"}, user=ada, channel=general)
        with pytest.raises(ValueError, match="required"):
            fake.invoke("subscribe", {"days": 3}, user=ada, channel=general)
        await tree.sync()
    assert fake.counters.command_syncs == 2
    assert [s.names for s in fake.command_syncs()] == [["subscribe"], ["subscribe"]]


async def test_admin_only_command_is_hidden_from_members(fake: FakeDiscord) -> None:
    general, ada = world(fake)
    guild = fake.add_guild("Other")
    boss = fake.add_user("boss")
    fake.add_member(guild, boss, permissions=Perm.MANAGE_CHANNELS)
    elsewhere = fake.add_text_channel(guild, "ops")
    client = make_client()
    tree = app_commands.CommandTree(client)

    @tree.command(description="Configure")
    @app_commands.default_permissions(manage_channels=True)
    async def setup(interaction: discord.Interaction) -> None:
        assert isinstance(interaction.user, discord.Member)
        allowed = interaction.user.guild_permissions.manage_channels
        await interaction.response.send_message("ok" if allowed else "no", ephemeral=True)

    async with running(client, fake):
        await tree.sync()
        with pytest.raises(PermissionError):
            fake.invoke("setup", user=ada, channel=general)
        fake.edit_command("setup", default_member_permissions=None)
        anyone = fake.invoke("setup", user=ada, channel=general)  # now offered to everyone
        assert (await fake.wait_for_response_async(anyone)).data == {
            "tts": False,
            "content": "no",
            "flags": 64,
        }
        fake.edit_command("setup", default_member_permissions=str(int(Perm.MANAGE_CHANNELS)))
        inter = fake.invoke("setup", user=boss, channel=elsewhere)
        await fake.wait_for_response_async(inter)
        assert inter.ephemeral
        original = inter.original
        assert original is not None and original.ephemeral
        # Ephemeral messages never reach the gateway.
        assert not fake.dispatched("MESSAGE_CREATE")


async def test_defer_then_followups_and_edit(fake: FakeDiscord) -> None:
    general, ada = world(fake)
    client = make_client()
    tree = app_commands.CommandTree(client)

    @tree.command(description="Slow digest")
    async def digest(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        first = await interaction.followup.send("part 1", wait=True)
        await interaction.followup.send(embed=discord.Embed(title="part 2"))
        await interaction.edit_original_response(content="part 1 (edited)")
        assert first.id == (await interaction.original_response()).id

    async with running(client, fake):
        await tree.sync()
        inter = fake.invoke("digest", user=ada, channel=general)
        callback = await fake.wait_for_response_async(inter)
        assert callback.type == 5
        await fake.wait_until_async(lambda: inter.original_edits == 2 and len(inter.followups) == 1)
        original = inter.original
        assert original is not None and original.content == "part 1 (edited)"
        assert not original.loading
        [followup] = inter.followups
        assert followup.embeds[0]["title"] == "part 2"
        assert [m.id for m in fake.messages(general)] == [original.id, followup.id]


async def test_autocomplete_answers_choices(fake: FakeDiscord) -> None:
    general, ada = world(fake)
    client = make_client()
    tree = app_commands.CommandTree(client)
    topics = ["quant-ph", "quant-gas", "hep-th"]

    async def complete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t, value=t) for t in topics if t.startswith(current)]

    @tree.command(description="Subscribe")
    @app_commands.autocomplete(topic=complete)
    async def subscribe(interaction: discord.Interaction, topic: str) -> None:
        await interaction.response.send_message(topic)

    async with running(client, fake):
        await tree.sync()
        inter = fake.autocomplete(
            "subscribe", {"topic": "quant"}, "topic", user=ada, channel=general
        )
        callback = await fake.wait_for_response_async(inter)
        assert callback.type == 8
        assert [c["value"] for c in inter.choices or []] == ["quant-ph", "quant-gas"]
        assert inter.payload["data"]["options"] == [
            {"name": "topic", "type": 3, "value": "quant", "focused": True}
        ]


class SubscribeView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Subscribe", custom_id="digest:subscribe")
    async def subscribe(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.send_message("Subscribed", ephemeral=True)

    @discord.ui.button(label="Hide", custom_id="digest:hide", style=discord.ButtonStyle.secondary)
    async def hide(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(content="hidden", view=None)


async def test_buttons_of_a_persistent_view(fake: FakeDiscord) -> None:
    general, ada = world(fake)
    client = make_client()

    async def setup_hook() -> None:
        client.add_view(SubscribeView())

    client.setup_hook = setup_hook  # type: ignore[method-assign]
    async with running(client, fake):
        await text_channel(client, general).send(
            "Today's digest", view=SubscribeView(), nonce="digest-1"
        )
        [message] = fake.messages(general)
        assert message.custom_ids() == ["digest:subscribe", "digest:hide"]
        pressed = fake.click(message, "digest:subscribe", user=ada)
        callback = await fake.wait_for_response_async(pressed)
        assert callback.type == 4 and pressed.ephemeral
        hidden = fake.click(message, "digest:hide", user=ada)
        callback = await fake.wait_for_response_async(hidden)
        assert callback.type == 7
        edited = fake.message(message.id)
        assert edited.content == "hidden" and edited.components == [] and edited.edits == 1
        with pytest.raises(LookupError):
            fake.click(message, "digest:subscribe", user=ada)  # the buttons are gone


async def test_dm_invocation_and_user_send(fake: FakeDiscord) -> None:
    _, ada = world(fake)
    client = make_client()
    tree = app_commands.CommandTree(client)

    @tree.command(description="Help")
    async def help(interaction: discord.Interaction) -> None:
        assert interaction.guild is None and isinstance(interaction.channel, discord.DMChannel)
        await interaction.response.send_message("Here to help")

    async with running(client, fake):
        await tree.sync()
        inter = fake.invoke("help", user=ada)  # no channel: the user's DM with the bot
        await fake.wait_for_response_async(inter)
        user = await client.fetch_user(ada.id)
        await user.send("Your digest")
        dm = fake.dm_channel(ada)
        assert [m.content for m in fake.messages(dm)] == ["Here to help", "Your digest"]
        fake.close_dms(ada)
        with pytest.raises(discord.Forbidden) as caught:
            await user.send("again")
        assert caught.value.code == 50007


async def test_interaction_deadline_and_double_acknowledgement() -> None:
    clock = ManualClock()
    with serve(clock=clock) as fake:
        general, ada = world(fake)
        client = make_client()
        tree = app_commands.CommandTree(client)
        gate = asyncio.Event()
        outcomes: list[int] = []

        @tree.command(description="Slow")
        async def slow(interaction: discord.Interaction) -> None:
            await gate.wait()
            try:
                await interaction.response.send_message("late")
            except discord.NotFound as exc:
                outcomes.append(exc.code)

        @tree.command(description="Fast")
        async def fast(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("on time")

        async with running(client, fake):
            await tree.sync()
            late = fake.invoke("slow", user=ada, channel=general)
            clock.advance(3.5)
            gate.set()
            await fake.wait_until_async(lambda: outcomes == [10062])
            assert not late.responded
            quick = fake.invoke("fast", user=ada, channel=general)
            await fake.wait_for_response_async(quick)
            async with raw_session(fake) as session:
                url = f"/api/v10/interactions/{quick.id}/{quick.token}/callback"
                async with session.post(url, json={"type": 4, "data": {"content": "x"}}) as resp:
                    assert resp.status == 400
                    assert (await resp.json())["code"] == 40060


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[Any] = discord.ui.TextInput(label="What should change?")


async def test_modal_and_raw_callback_rules(fake: FakeDiscord) -> None:
    general, ada = world(fake)
    client = make_client()
    tree = app_commands.CommandTree(client)

    @tree.command(description="Feedback")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @tree.command(description="Does not answer")
    async def silent(interaction: discord.Interaction, topic: str) -> None:
        pass

    async with running(client, fake):
        await tree.sync()
        modal = fake.invoke("feedback", user=ada, channel=general)
        callback = await fake.wait_for_response_async(modal)
        assert callback.type == 9 and callback.data is not None
        assert callback.data["title"] == "Feedback" and modal.original is None

        async def post(inter: Any, body: dict[str, Any], query: str = "") -> tuple[int, Any]:
            url = f"/api/v10/interactions/{inter.id}/{inter.token}/callback{query}"
            async with raw_session(fake) as session, session.post(url, json=body) as resp:
                return resp.status, (await resp.json() if resp.status != 204 else None)

        command = fake.invoke("silent", {"topic": "x"}, user=ada, channel=general)
        status, answer = await post(command, {"type": 8, "data": {"choices": []}})
        assert (status, answer["code"]) == (400, 50035)  # autocomplete result for a command
        status, answer = await post(command, {"type": 4, "data": {}})
        assert (status, answer["code"]) == (400, 50006)
        assert await post(command, {"type": 4, "data": {"content": "ok"}}) == (204, None)

        typing = fake.autocomplete("silent", {"topic": "q"}, "topic", user=ada, channel=general)
        choices = [{"name": f"t{i}", "value": f"t{i}"} for i in range(26)]
        status, answer = await post(typing, {"type": 8, "data": {"choices": choices}})
        assert (status, answer["code"]) == (400, 50035)
        assert "choices" in answer["errors"]["data"]
        status, answer = await post(
            typing, {"type": 8, "data": {"choices": choices[:25]}}, "?with_response=true"
        )
        assert status == 200 and answer["interaction"]["id"] == str(typing.id)
        assert answer["resource"] == {"type": 8}
        assert len(typing.choices or []) == 25


# -- messages -----------------------------------------------------------------------------------


async def test_nonce_deduplicates_a_resend(fake: FakeDiscord) -> None:
    general, _ = world(fake)
    other = fake.add_text_channel(general.guild_id or 0, "other")
    client = make_client()
    async with running(client, fake):
        channel = text_channel(client, general)
        embed = discord.Embed(title="Quantum digest", description="3 new papers")
        first = await channel.send(embeds=[embed], nonce="digest-2024-06-01")
        again = await channel.send(embeds=[embed], nonce="digest-2024-06-01")
        assert again.id == first.id
        elsewhere = await text_channel(client, other).send(embed=embed, nonce="digest-2024-06-01")
        assert elsewhere.id != first.id
    [sent] = fake.messages(general)
    assert sent.nonce == "digest-2024-06-01" and sent.embeds[0]["title"] == "Quantum digest"
    [request] = fake.calls("POST /channels/{channel_id}/messages")[:1]
    assert request.body["enforce_nonce"] is True  # discord.py sends it with every nonce
    assert fake.counters.nonce_dedups == 1 and fake.counters.messages_created == 2


async def test_nonce_window_expires_on_the_fake_clock() -> None:
    clock = ManualClock()
    with serve(clock=clock, nonce_window=60) as fake:
        general, _ = world(fake)
        client = make_client()
        async with running(client, fake):
            channel = text_channel(client, general)
            first = await channel.send("a", nonce=42)
            clock.advance(61)
            second = await channel.send("a", nonce=42)
        assert first.id != second.id and fake.counters.nonce_dedups == 0


async def test_file_upload_is_multipart(fake: FakeDiscord) -> None:
    general, _ = world(fake)
    client = make_client()
    async with running(client, fake):
        sent = await text_channel(client, general).send(
            "attached", file=discord.File(io.BytesIO(b"%PDF-1.7"), "paper.pdf")
        )
        assert sent.attachments[0].filename == "paper.pdf" and sent.attachments[0].size == 8
    [message] = fake.messages(general)
    assert message.attachments[0].data == b"%PDF-1.7"


async def test_channel_errors_raise_the_right_exceptions(fake: FakeDiscord) -> None:
    general, _ = world(fake)
    guild_id = general.guild_id or 0
    hidden = fake.add_text_channel(guild_id, "hidden")
    muted = fake.add_text_channel(guild_id, "muted")
    plain = fake.add_text_channel(guild_id, "plain")
    doomed = fake.add_text_channel(guild_id, "doomed")
    client = make_client()
    async with running(client, fake):
        channels = {c.id: text_channel(client, c) for c in (hidden, muted, plain, doomed)}
        fake.set_bot_permissions(hidden, deny=Perm.VIEW_CHANNEL)
        fake.set_bot_permissions(muted, deny=Perm.SEND_MESSAGES)
        fake.set_bot_permissions(plain, deny=Perm.EMBED_LINKS)
        fake.delete_channel(doomed)
        await fake.wait_until_async(lambda: client.get_channel(doomed.id) is None)

        with pytest.raises(discord.Forbidden) as access:
            await channels[hidden.id].send("x")
        with pytest.raises(discord.Forbidden) as send:
            await channels[muted.id].send("x")
        with pytest.raises(discord.Forbidden) as embed:
            await channels[plain.id].send(embed=discord.Embed(title="t"))
        await channels[plain.id].send("text is fine")
        with pytest.raises(discord.NotFound) as gone:
            await channels[doomed.id].send("x")
    assert (access.value.code, send.value.code, embed.value.code) == (50001, 50013, 50013)
    assert gone.value.code == 10003 and gone.value.text == "Unknown Channel"


async def test_invalid_form_body(fake: FakeDiscord) -> None:
    general, _ = world(fake)
    client = make_client()
    async with running(client, fake):
        channel = text_channel(client, general)
        with pytest.raises(discord.HTTPException) as long_content:
            await channel.send("x" * 2001)
        with pytest.raises(discord.HTTPException) as long_title:
            await channel.send(embed=discord.Embed(title="t" * 257))
        fields = discord.Embed(title="many")
        for i in range(26):
            fields.add_field(name=f"f{i}", value="v")
        with pytest.raises(discord.HTTPException) as too_many_fields:
            await channel.send(embed=fields)
        with pytest.raises(discord.HTTPException) as empty:
            await channel.send()
    assert long_content.value.status == 400 and long_content.value.code == 50035
    assert "content" in long_content.value.text
    assert long_title.value.code == 50035 and too_many_fields.value.code == 50035
    assert empty.value.code == 50006
    assert fake.messages(general) == []


async def test_component_and_embed_total_limits_over_raw_http(fake: FakeDiscord) -> None:
    general, _ = world(fake)
    path = f"/api/v10/channels/{general.id}/messages"

    def row(*buttons: dict[str, Any]) -> dict[str, Any]:
        return {"type": 1, "components": list(buttons)}

    def button(label: str, custom_id: str) -> dict[str, Any]:
        return {"type": 2, "style": 1, "label": label, "custom_id": custom_id}

    link = {"type": 2, "style": 5, "label": "arXiv", "url": "https://arxiv.org", "custom_id": "x"}
    bodies: dict[str, dict[str, Any]] = {
        "label": {"components": [row(button("l" * 81, "a"))]},
        "custom_id": {"components": [row(button("ok", "c" * 101))]},
        "link": {"components": [row(link)]},
        "rows": {"components": [row(button("b", str(i))) for i in range(6)]},
        "buttons": {"components": [row(*(button("b", str(i)) for i in range(6)))]},
        "total": {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]},
        "nonce": {"content": "x", "nonce": "n" * 26},
    }
    async with raw_session(fake) as session:
        for name, body in bodies.items():
            async with session.post(path, json=body) as resp:
                assert resp.headers["Content-Type"] == "application/json"
                answer = await resp.json()
                assert (resp.status, answer["code"]) == (400, 50035), name
        async with session.get("/api/v10/nowhere") as resp:
            assert resp.status == 404 and (await resp.json()) == {
                "code": 0,
                "message": "404: Not Found",
            }
    assert fake.unknown_routes == ["GET /api/v10/nowhere"]
    fake.unknown_routes.clear()


# -- rate limits, latency and faults ----------------------------------------------------------


async def test_global_429_is_retried_by_discord_py(fake: FakeDiscord) -> None:
    guild = fake.add_guild("Physics")
    channels = [fake.add_text_channel(guild, f"c{i}") for i in range(6)]
    fake.rate_limits = RateLimits.discord(global_limit=3, global_window=0.2)
    client = make_client()
    async with running(client, fake):
        await asyncio.gather(*(text_channel(client, c).send("hi") for c in channels))
    assert all(len(fake.messages(c)) == 1 for c in channels)
    assert fake.counters.rate_limited_global >= 1
    limited = [r for r in fake.requests() if r.status == 429]
    assert limited and all(r.route == "/channels/{channel_id}/messages" for r in limited)


async def test_per_channel_limit_headers_throttle_discord_py(fake: FakeDiscord) -> None:
    general, _ = world(fake)
    fake.rate_limits = RateLimits.discord(message_limit=2, message_window=0.3)
    client = make_client()
    async with running(client, fake):
        channel = text_channel(client, general)
        started = time.monotonic()
        for i in range(3):
            await channel.send(f"m{i}")
        elapsed = time.monotonic() - started
    assert len(fake.messages(general)) == 3
    assert elapsed >= 0.2  # discord.py waited for the bucket to reset
    assert fake.counters.rate_limited == 0  # ...without ever hitting a 429


async def test_injected_429_needs_via_to_be_retried(fake: FakeDiscord) -> None:
    general, _ = world(fake)
    route = "POST /channels/{channel_id}/messages"
    client = make_client()
    async with running(client, fake):
        channel = text_channel(client, general)
        fake.inject(route, Fault.rate_limited(0.05))
        await channel.send("retried")
        fake.inject(route, Fault.rate_limited(0.05, via=False))
        with pytest.raises(discord.HTTPException) as banned:
            await channel.send("cloudflare")
        fake.inject(route, Fault.error(503, 0, "upstream connect error"))
        with pytest.raises(discord.DiscordServerError):
            await channel.send("down")
    assert banned.value.status == 429
    assert [r.status for r in fake.calls(route)] == [429, 200, 429, 503]
    assert [m.content for m in fake.messages(general)] == ["retried"]


async def test_latency_slow_answers_and_connection_reset(fake: FakeDiscord) -> None:
    general, ada = world(fake)
    route = "POST /channels/{channel_id}/messages"
    path = f"/api/v10/channels/{general.id}/messages"
    async with raw_session(fake) as session:
        fake.latency = 0.15
        started = time.monotonic()
        async with session.get(f"/api/v10/users/{ada.id}") as resp:
            assert (await resp.json())["username"] == "ada"
        assert time.monotonic() - started >= 0.15
        fake.latency = 0
        fake.inject(route, Fault.slow(0.5))
        with pytest.raises(TimeoutError):
            async with session.post(
                path, json={"content": "slow"}, timeout=aiohttp.ClientTimeout(total=0.1)
            ):
                pass
        fake.inject(route, Fault.reset(process=True))
        with pytest.raises(aiohttp.ClientError):  # POST is not retried by aiohttp
            async with session.post(path, json={"content": "reset"}) as resp:
                await resp.read()
        await fake.wait_until_async(lambda: len(fake.calls(route)) == 2)  # the slow one answers
    # Both took effect although the client saw no answer, like a request lost on the way back.
    assert [m.content for m in fake.messages(general)] == ["slow", "reset"]
    assert sorted(r.fault.value for r in fake.calls(route) if r.fault) == ["reset", "slow"]
    assert {r.fault: r.status for r in fake.calls(route)}[FaultKind.RESET] is None


# -- gateway events -----------------------------------------------------------------------------


async def test_state_changes_reach_the_client_cache(fake: FakeDiscord) -> None:
    general, _ = world(fake)
    guild_id = general.guild_id or 0
    client = make_client()
    async with running(client, fake):
        guild = client.get_guild(guild_id)
        assert guild is not None
        fake.set_bot_permissions(fake.channels(guild_id)[0], deny=Perm.SEND_MESSAGES)
        channel = text_channel(client, general)
        await fake.wait_until_async(lambda: not channel.permissions_for(guild.me).send_messages)

        fake.set_bot_permissions(general, allow=Perm.SEND_MESSAGES)
        await fake.wait_until_async(lambda: channel.permissions_for(guild.me).send_messages)

        fake.set_everyone_permissions(guild_id, 0)
        fake.set_bot_permissions(guild_id, deny=Perm.EMBED_LINKS)
        await fake.wait_until_async(lambda: not guild.me.guild_permissions.embed_links)

        editors = fake.add_role(guild_id, "editors", Perm.MANAGE_CHANNELS)
        fake.set_bot_roles(guild_id, [editors])
        await fake.wait_until_async(lambda: guild.me.guild_permissions.manage_channels)

        renamed = fake.update_channel(general, name="digests")
        await fake.wait_until_async(lambda: channel.name == renamed.name)
        new = fake.add_text_channel(guild_id, "new")
        await fake.wait_until_async(lambda: client.get_channel(new.id) is not None)
        fake.remove_bot(guild_id)
        await fake.wait_until_async(lambda: client.get_guild(guild_id) is None)
    names = {e.name for e in fake.dispatched()}
    assert {"CHANNEL_UPDATE", "GUILD_ROLE_UPDATE", "GUILD_MEMBER_UPDATE", "GUILD_DELETE"} <= names
