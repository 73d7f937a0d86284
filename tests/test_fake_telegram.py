"""The fake Telegram Bot API, driven by the real python-telegram-bot (no patching of PTB).

These tests pin down what the end-to-end tests rely on: that PTB de-serialises every answer, that
each error comes back as the PTB exception a real Telegram error would raise, and that long
polling, callback queries and the test helpers behave like Telegram.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    ChatMemberAdministrator,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.fakes.telegram_server import (
    ANONYMOUS_ADMIN_ID,
    FakeTelegram,
    Fault,
    FloodLimits,
    ManualClock,
    format_text,
)

POLL_TIMEOUT = 20  # seconds a getUpdates long poll may wait; updates must come much sooner


@pytest.fixture(autouse=True)
def _ptb_timedeltas(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without it PTB 22.8 warns (PTBDeprecationWarning, an error here) while *building*
    # RetryAfter, so the test would see the warning instead of the exception.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def tg(clock: ManualClock) -> Iterator[FakeTelegram]:
    with FakeTelegram(clock=clock) as server:
        yield server
        assert server.server_errors == []


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as client:
        yield client


# -- basics ------------------------------------------------------------------------------------


async def test_get_me(bot: Bot, tg: FakeTelegram) -> None:
    me = await bot.get_me()
    assert me.id == tg.bot_id and me.is_bot and me.username == "paperboy_test_bot"
    assert bot.username == "paperboy_test_bot"  # Bot.initialize() called getMe already
    assert tg.calls("getMe")[0].http_method == "POST"


async def test_unknown_token_and_method(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(InvalidToken):  # Bot.initialize() calls getMe
        async with Bot("1234567:" + "x" * 35, base_url=tg.base_url):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy")
    async with httpx.AsyncClient(base_url=tg.root_url) as client:
        answer = await client.post("/bot1234567:" + "x" * 35 + "/getMe")
        assert answer.status_code == 401
        assert answer.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        answer = await client.post(f"/bot{tg.token}/sendTelepathy")
        assert answer.status_code == 404
        assert answer.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_json_and_multipart_bodies(tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada")
    keyboard = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    async with httpx.AsyncClient(base_url=f"{tg.base_url}{tg.token}") as client:
        answer = await client.post(
            "/sendMessage", json={"chat_id": ada.id, "text": "typed", "reply_markup": keyboard}
        )
        assert answer.status_code == 200 and answer.json()["ok"] is True
        assert answer.json()["result"]["reply_markup"] == keyboard
        answer = await client.post(
            "/SENDMESSAGE",  # method names are case-insensitive
            data={"chat_id": str(ada.id), "text": "multi"},
            files={"document": ("a.txt", b"hello", "text/plain")},
        )
        assert answer.status_code == 200, answer.text
    assert [m.text for m in tg.sent_messages(ada)] == ["typed", "multi"]


# -- sendMessage and its validation ---------------------------------------------------------


async def test_send_message_round_trip(bot: Bot, tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada", username="ada")
    text = (
        '<b>Talking heads</b> &amp; <a href="https://arxiv.org/abs/2409.03605">lip sync</a>\n'
        '<pre><code class="language-python">print(1)</code></pre>  \n'
    )
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("More", callback_data="more:2409.03605")],
            [InlineKeyboardButton("PDF", url="https://arxiv.org/pdf/2409.03605")],
        ]
    )
    sent = await bot.send_message(
        ada.id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard, disable_notification=True
    )
    assert sent.text == "Talking heads & lip sync\nprint(1)"  # tags gone, entity decoded, trimmed
    assert sent.from_user is not None and sent.from_user.id == tg.bot_id
    assert sent.chat.id == ada.id and sent.reply_markup == keyboard
    kinds = [(e.type, e.offset, e.length) for e in sent.entities]
    assert kinds == [("bold", 0, 13), ("text_link", 16, 8), ("pre", 25, 8)]
    assert sent.entities[1].url == "https://arxiv.org/abs/2409.03605"
    assert sent.entities[2].language == "python"

    [logged] = tg.sent_messages(ada)
    assert logged.raw_text == text and logged.parse_mode == "HTML"
    assert logged.message_id == sent.message_id and logged.callback_data == ["more:2409.03605"]
    assert logged.params["disable_notification"] == "true"  # PTB sends form fields
    assert logged.entity_text(logged.entities_of("text_link")[0]) == "lip sync"
    assert tg.counters.sent == 1
    # the blocking wait, from a thread; and the async one's diagnosis when nothing comes
    assert await asyncio.to_thread(tg.wait_for_messages, ada, 1, 1.0) == [logged]
    with pytest.raises(TimeoutError, match=r"expected 2 message\(s\) in chat .* got 1"):
        await tg.wait_for_messages_async(ada, 2, timeout=0.05)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<foo>bar</foo>", 'unsupported start tag "foo" at byte offset 0'),
        ("<b>unclosed", 'can\'t find end tag corresponding to start tag "b"'),
        ("stray</b>", "unexpected end tag at byte offset 5"),
        ("<b><i>x</b></i>", 'unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("1 < 2", 'unsupported start tag "" at byte offset 2'),
        ("Tom & Jerry", 'character "&" at byte offset 4 must be escaped'),
        ('<span class="x">y</span>', 'tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_html_that_telegram_rejects(
    bot: Bot, tg: FakeTelegram, text: str, reason: str
) -> None:
    ada = tg.add_user("Ada")
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(ada.id, text, parse_mode=ParseMode.HTML)
    # PTB capitalises Telegram's "Bad Request: can't parse entities: Unsupported start tag..."
    assert caught.value.message.lower().startswith(f"can't parse entities: {reason}".lower())
    description = tg.calls("sendMessage")[-1].description
    assert description is not None and description.startswith("Bad Request: can't parse entities")
    assert tg.sent_messages() == [] and tg.counters.rejected == {400: 1}


async def test_html_that_telegram_accepts(bot: Bot, tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada")
    sent = await bot.send_message(
        ada.id,
        "<tg-spoiler>a</tg-spoiler> <span class='tg-spoiler'>b</span> "
        "<blockquote expandable>c</blockquote> &#x1F600;&#33; <STRONG>d</STRONG> &lt;e&gt;",
        parse_mode=ParseMode.HTML,
    )
    assert sent.text == "a b c \U0001f600! d <e>"
    assert [e.type for e in sent.entities] == [
        "spoiler",
        "spoiler",
        "expandable_blockquote",
        "bold",
    ]
    assert sent.entities[3].offset == 10  # the emoji counts as two UTF-16 code units


async def test_length_limit_counts_visible_utf16_units(bot: Bot, tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada")
    ok = ["x" * 4096, "\U0001f4c4" * 2048, "&lt;" * 4096, f"<b>{'y' * 4096}</b>"]
    for text in ok:  # 4096 visible units each, however long the markup
        tg.reset_flood_limits()
        await bot.send_message(ada.id, text, parse_mode=ParseMode.HTML)
    for text in ["x" * 4097, "\U0001f4c4" * 2049, "&amp;" * 4097]:
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(ada.id, text, parse_mode=ParseMode.HTML)
    for text in ["<b> </b>", "  \n "]:
        with pytest.raises(BadRequest, match=r"(?i)text must be non-empty"):
            await bot.send_message(ada.id, text, parse_mode=ParseMode.HTML)
    assert len(tg.sent_messages(ada)) == len(ok)


async def test_inline_keyboard_validation(bot: Bot, tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada")

    def button(**kwargs: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("b", **kwargs)]])  # type: ignore[arg-type]

    # 32 × "é" is 64 bytes: the limit is in UTF-8 bytes, not characters
    await bot.send_message(ada.id, "ok", reply_markup=button(callback_data="é" * 32))
    with pytest.raises(BadRequest, match=r"(?i)^button_data_invalid$"):
        await bot.send_message(ada.id, "x", reply_markup=button(callback_data="é" * 33))
    with pytest.raises(BadRequest, match=r"(?i)^button_url_invalid$"):
        await bot.send_message(ada.id, "x", reply_markup=button(url="http://127.0.0.1:8080/x"))
    with pytest.raises(BadRequest, match=r"(?i)unsupported url protocol"):
        await bot.send_message(ada.id, "x", reply_markup=button(url="ftp://arxiv.org/x"))
    with pytest.raises(BadRequest, match=r"(?i)text buttons are unallowed"):
        await bot.send_message(
            ada.id, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("plain")]])
        )
    many = InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)]
    )
    with pytest.raises(BadRequest, match=r"(?i)reply markup is too long"):
        await bot.send_message(ada.id, "x", reply_markup=many)


async def test_chat_not_found_and_forbidden(bot: Bot, tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada")
    shy = tg.add_user("Shy", started=False)
    group = tg.add_group("Reading group", members=[ada])
    channel = tg.add_channel("Feed", bot_status="member")
    with pytest.raises(BadRequest, match=r"(?i)^chat not found$"):
        await bot.send_message(-123, "x")
    with pytest.raises(BadRequest, match=r"(?i)^chat not found$"):
        await bot.send_message("@nobody_here", "x")
    tg.block(ada)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ada.id, "x")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(shy.id, "x")
    tg.kick_bot(group)
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(group.id, "x")
    with pytest.raises(BadRequest, match=r"(?i)need administrator rights in the channel chat"):
        await bot.send_message(channel.id, "x")
    tg.send_text(ada, ada, "/start")  # writing again un-blocks, as "Restart bot" does
    await bot.send_message(ada.id, "welcome back")
    # the my_chat_member updates Telegram sends for these changes, then the message
    kinds = [next(k for k in u if k != "update_id") for u in tg.pending_updates]
    assert kinds == ["my_chat_member"] * 3 + ["message"]


async def test_chat_migrated(bot: Bot, tg: FakeTelegram) -> None:
    group = tg.add_group("Reading group")
    supergroup = tg.migrate(group)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(group.id, "x")
    assert caught.value.new_chat_id == supergroup.id
    sent = await bot.send_message(caught.value.new_chat_id, "moved")
    assert sent.chat.type == "supergroup"


async def test_retry_after_when_flooding_one_chat(
    bot: Bot, tg: FakeTelegram, clock: ManualClock
) -> None:
    ada, bob = tg.add_user("Ada"), tg.add_user("Bob")
    for i in range(3):  # the per-chat burst
        await bot.send_message(ada.id, f"message {i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ada.id, "one too many")
    assert caught.value.retry_after == timedelta(seconds=1)
    await bot.send_message(bob.id, "other chats are fine")
    clock.advance(1.0)
    await bot.send_message(ada.id, "after waiting")
    assert tg.counters.flood_429 == 1 and tg.counters.rejected == {429: 1}


async def test_group_limit_per_minute(bot: Bot, tg: FakeTelegram, clock: ManualClock) -> None:
    tg.flood = FloodLimits(chat_burst=100, chat_rate=100, group_limit=3, group_window=60)
    group = tg.add_supergroup("Busy")
    for i in range(3):
        await bot.send_message(group.id, f"m{i}")
        clock.advance(5)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group.id, "too many this minute")
    assert caught.value.retry_after == timedelta(seconds=45)  # the first one leaves the window
    tg.flood = FloodLimits.off()
    await bot.send_message(group.id, "limits off")


# -- faults -----------------------------------------------------------------------------------


async def test_injected_faults(bot: Bot, tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada")
    tg.inject("sendMessage", Fault.http(502), Fault.reset(), Fault.slow(5.0))
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(ada.id, "first try")
    with pytest.raises(NetworkError):
        await bot.send_message(ada.id, "second try")
    with pytest.raises(TimedOut):
        await bot.send_message(ada.id, "third try", read_timeout=0.3)
    # The slow answer was executed before it was delayed: delivered, though the bot timed out.
    assert [m.text for m in tg.sent_messages(ada)] == ["third try"]
    await bot.send_message(ada.id, "fourth try")
    assert tg.pending_faults() == [] and tg.counters.faults == 3


async def test_edits_deletes_and_chat_actions(bot: Bot, tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="page:2")]])
    sent = await bot.send_message(ada.id, "Page 1", reply_markup=keyboard)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Page 1", ada.id, sent.message_id, reply_markup=keyboard)
    await bot.edit_message_reply_markup(ada.id, sent.message_id, reply_markup=None)
    edited = await bot.edit_message_text(
        "<b>Page 2</b>", ada.id, sent.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, type(sent)) and edited.edit_date is not None
    assert [(e.method, e.text, e.reply_markup) for e in tg.edits(ada)] == [
        ("editMessageReplyMarkup", "Page 1", None),
        ("editMessageText", "Page 2", None),
    ]
    user_message = tg.send_text(ada, ada, "thanks")
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", ada.id, user_message["message_id"])
    assert await bot.delete_message(ada.id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(ada.id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", ada.id, sent.message_id)
    assert tg.deleted(ada) == [(ada.id, sent.message_id)] and tg.sent_messages(ada)[0].deleted
    assert await bot.send_chat_action(ada.id, "typing")
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(ada.id, "dancing")
    assert [a.action for a in tg.chat_actions(ada)] == ["typing"]


async def test_updates_conflicts_and_filters(bot: Bot, tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada")
    channel = tg.add_channel("Feed")
    # A second getUpdates terminates a waiting one, as on Telegram (two bot instances).
    first = asyncio.create_task(bot.get_updates(timeout=POLL_TIMEOUT))
    await tg.wait_for_poll_async()
    async with Bot(tg.token, base_url=tg.base_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first
    tg.post_to_channel(channel, "Hello, readers")
    tg.block(ada)  # a my_chat_member update
    [post] = await bot.get_updates(allowed_updates=["channel_post"])
    assert post.channel_post is not None and post.channel_post.chat.id == channel.id
    assert post.channel_post.from_user is None
    # allowed_updates=[] is Telegram's default set again; nothing was confirmed so far
    both = await bot.get_updates(allowed_updates=[])
    assert [u.channel_post is not None for u in both] == [True, False]
    assert both[1].my_chat_member is not None
    assert both[1].my_chat_member.new_chat_member.status == "kicked"  # what blocking looks like
    [last] = await bot.get_updates(offset=-1)  # forget all but the last one
    assert last.update_id == both[1].update_id and len(tg.pending_updates) == 1
    await bot.set_webhook("https://paperboy.example.org/hook")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()
    assert tg.counters.rejected == {409: 2}


# -- getUpdates ---------------------------------------------------------------------------------


async def test_get_updates_offsets_and_long_poll(bot: Bot, tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada")
    for i in range(3):
        tg.send_text(ada, ada, f"hello {i}")
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["hello 0", "hello 1"]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)  # confirms the first two
    assert [u.message.text for u in rest if u.message] == ["hello 2"]
    assert len(tg.pending_updates) == 1

    async def write_soon() -> None:
        await tg.wait_for_poll_async()
        tg.send_text(ada, ada, "/start")

    started = time.monotonic()
    writer = asyncio.create_task(write_soon())
    updates = await bot.get_updates(offset=rest[-1].update_id + 1, timeout=POLL_TIMEOUT)
    await writer
    assert time.monotonic() - started < POLL_TIMEOUT / 2  # woken by the update, not the timeout
    [update] = updates
    assert update.message is not None and update.message.text == "/start"
    assert [(e.type, e.offset, e.length) for e in update.message.entities] == [
        ("bot_command", 0, 6)
    ]
    # entities come sorted by offset, whatever was detected: commands first
    tg.send_text(ada, ada, "/subscribe @dailyheads #talkinghead https://arxiv.org/a")
    [update] = await bot.get_updates(offset=update.update_id + 1)
    assert update.message is not None
    assert [e.type for e in update.message.entities] == ["bot_command", "mention", "hashtag", "url"]


# -- a real Application ---------------------------------------------------------------------


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    anonymous = message.sender_chat is not None and message.sender_chat.id == message.chat.id
    who = "anonymous admin" if anonymous else (message.from_user or message.chat).first_name
    await message.reply_text(
        f"Welcome, <b>{html.escape(who or '')}</b>!",
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more")]]),
    )


async def on_more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Loading…")
    await query.edit_message_text("More <i>papers</i>", parse_mode=ParseMode.HTML)


@asynccontextmanager
async def running_app(tg: FakeTelegram) -> AsyncIterator[Application]:
    app = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CallbackQueryHandler(on_more, pattern="^more$"))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=POLL_TIMEOUT, poll_interval=0)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def test_application_polling_commands_and_buttons(tg: FakeTelegram) -> None:
    ada = tg.add_user("Ada", username="ada")
    group = tg.add_supergroup("Reading group", members=[ada])
    async with running_app(tg):
        await tg.wait_for_poll_async()
        started = time.monotonic()
        tg.send_text(ada, ada, "/start")
        [welcome] = await tg.wait_for_messages_async(ada, 1, timeout=POLL_TIMEOUT / 2)
        assert time.monotonic() - started < POLL_TIMEOUT / 2
        assert welcome.text == "Welcome, Ada!" and welcome.parse_mode == "HTML"
        assert welcome.entities_of("bold") == [{"type": "bold", "offset": 9, "length": 3}]

        # an anonymous group admin, addressing the bot by name
        sent = tg.send_anonymous(group, "/start@paperboy_test_bot")
        assert sent["from"]["id"] == ANONYMOUS_ADMIN_ID and sent["sender_chat"]["id"] == group.id
        [reply] = await tg.wait_for_messages_async(group, 1)
        assert reply.text == "Welcome, anonymous admin!"
        assert reply.api["reply_to_message"]["message_id"] == sent["message_id"]  # PTB quotes

        # a button press: answered, and the message edited (which drops the keyboard)
        query_id = tg.press_button(welcome, ada, "more")
        await tg.wait_until_async(lambda: len(tg.edits(ada)) == 1)
        [answer] = tg.callback_answers
        assert answer.callback_query_id == query_id and answer.text == "Loading…"
        [edited] = tg.sent_messages(ada)
        assert edited.text == "More papers" and edited.reply_markup is None
        assert edited.edit_count == 1
    long_polls = [r for r in tg.calls("getUpdates") if r.params.get("timeout") == str(POLL_TIMEOUT)]
    assert long_polls and tg.calls("deleteWebhook")
    assert tg.pending_updates == []  # PTB confirmed everything when it stopped
    assert tg.counters.rejected == {}


async def test_answer_callback_query_once(bot: Bot, tg: FakeTelegram) -> None:
    channel = tg.add_channel("Feed")
    reader = tg.add_user("Reader")
    post = await bot.send_message(
        channel.id,
        "Today's papers",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data="like")]]),
    )
    assert post.sender_chat is not None and post.sender_chat.id == channel.id
    query_id = tg.press_button(tg.sent_messages(channel)[0], reader, "like")
    [update] = await bot.get_updates()
    assert update.callback_query is not None and update.callback_query.data == "like"
    assert update.callback_query.message is not None
    assert update.callback_query.message.chat.id == channel.id
    assert await bot.answer_callback_query(query_id, text="Noted")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(ValueError, match="no button"):
        tg.press_button(tg.sent_messages(channel)[0], reader, "dislike")


# -- commands and members -----------------------------------------------------------------------


async def test_set_my_commands_per_language_and_scope(bot: Bot, tg: FakeTelegram) -> None:
    group = tg.add_group("Reading group")
    english = [BotCommand("subscribe", "Follow a topic"), BotCommand("help", "How it works")]
    chinese = [BotCommand("subscribe", "订阅主题")]
    assert await bot.set_my_commands(english)
    assert await bot.set_my_commands(chinese, language_code="zh")
    assert await bot.set_my_commands(english[:1], scope=BotCommandScopeAllGroupChats())
    assert await bot.set_my_commands(english[1:], scope=BotCommandScopeChat(group.id))
    assert [c.command for c in await bot.get_my_commands()] == ["subscribe", "help"]
    assert (await bot.get_my_commands(language_code="zh"))[0].description == "订阅主题"
    assert await bot.get_my_commands(language_code="de") == ()
    assert tg.commands({"type": "chat", "chat_id": group.id}) == [
        {"command": "help", "description": "How it works"}
    ]
    assert [(c.language_code, c.scope["type"]) for c in tg.command_calls] == [
        ("", "default"),
        ("zh", "default"),
        ("", "all_group_chats"),
        ("", "chat"),
    ]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Subscribe", "capital letters are not allowed")])


async def test_chat_members_and_admin_rights(bot: Bot, tg: FakeTelegram) -> None:
    owner, admin, reader = tg.add_user("Owner"), tg.add_user("Admin"), tg.add_user("Reader")
    channel = tg.add_channel("Feed", creator=owner, admins=[admin], subscribers=[reader])
    tg.set_member(channel, admin, "administrator", can_post_messages=False)
    admins = await bot.get_chat_administrators(channel.id)
    by_id = {m.user.id: m for m in admins}
    assert isinstance(by_id[owner.id], ChatMemberOwner)
    bot_member = by_id[tg.bot_id]
    assert isinstance(bot_member, ChatMemberAdministrator) and bot_member.can_post_messages
    member = await bot.get_chat_member(channel.id, admin.id)
    assert isinstance(member, ChatMemberAdministrator) and member.can_post_messages is False
    assert (await bot.get_chat_member(channel.id, reader.id)).status == "member"
    chat = await bot.get_chat(channel.id)
    assert chat.type == "channel" and chat.title == "Feed"
    tg.set_member(channel, tg.bot, "administrator", can_post_messages=False)
    with pytest.raises(BadRequest, match=r"(?i)need administrator rights"):
        await bot.send_message(channel.id, "x")
    tg.set_member(channel, tg.bot, "member")  # a subscriber sees no members, not even itself
    with pytest.raises(BadRequest, match=r"(?i)member list is inaccessible"):
        await bot.get_chat_member(channel.id, tg.bot_id)


def test_format_text_matches_telegram() -> None:
    text, entities = format_text("  <i>Hi</i> @ada see https://arxiv.org  ", "HTML")
    assert text == "Hi @ada see https://arxiv.org"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("italic", 0, 2),
        ("mention", 3, 4),
        ("url", 12, 17),
    ]
    text, entities = format_text("*bold* and \\_plain\\_", "MarkdownV2")
    assert text == "bold and _plain_" and entities == [{"type": "bold", "offset": 0, "length": 4}]
    with pytest.raises(Exception, match=r"Character '\.' is reserved"):
        format_text("Version 2.0", "MarkdownV2")
    text, entities = format_text("<b>x</b> " * 120, "HTML")  # formatting past 100 is dropped
    assert len(entities) == 100 and entities[-1]["offset"] == 198
