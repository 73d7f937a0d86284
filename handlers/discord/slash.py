"""The slash commands as Discord sees them: names, options, descriptions and permissions.

Every command is declared here, in one place, and delegates to `commands.Commands`.
Descriptions are English `locale_str`s carrying their Simplified Chinese text as ``zh``;
`ChineseTranslator` hands that to discord.py, which sends it as the zh-CN localization.
Commands that change a server channel's topics or settings default to members with Manage
Channels (server admins may open them to others; `access.require_manager` checks again).
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _

from bot.chat_settings import SettingName
from bot.replies import COMMAND_DESCRIPTIONS
from handlers.discord.commands import Commands

# Only guild installs, used in servers and in the bot's DMs (not in other people's DMs).
CONTEXTS = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=False)
INSTALLS = app_commands.AppInstallationType(guild=True, user=False)
MANAGE = discord.Permissions(manage_channels=True)

_SETTING_LABELS = {
    SettingName.LANGUAGE: ("Language", "语言"),
    SettingName.TIMEZONE: ("Time zone", "时区"),
    SettingName.TIME: ("Delivery time", "推送时间"),
    SettingName.DETAIL: ("Detail", "详细程度"),
    SettingName.PAPERS: ("Papers per digest", "每期论文数"),
    SettingName.EMPTY: ("Empty days", "无新论文的日子"),
}
SETTING_CHOICES = [
    app_commands.Choice(name=_(en, zh=zh), value=name.value)
    for name, (en, zh) in _SETTING_LABELS.items()
]


def _describe(name: str) -> app_commands.locale_str:
    text = COMMAND_DESCRIPTIONS[name]
    return _(text["en"], zh=text["zh"])


class ChineseTranslator(app_commands.Translator):
    """Gives Discord the zh-CN text each `locale_str` carries; English is the default."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is discord.Locale.chinese:
            zh = string.extras.get("zh")
            return zh if isinstance(zh, str) else None
        return None


Interaction = discord.Interaction[Any]


def build_commands(handlers: Commands) -> list[app_commands.Command[Any, Any, Any]]:
    """Every slash command, bound to `handlers`."""

    @app_commands.command(name="subscribe", description=_describe("subscribe"))
    @app_commands.describe(
        query=_(
            'Topic query, e.g. "talking head" OR lipsync cat:cs.CV',
            zh='主题查询，例如 "talking head" OR lipsync cat:cs.CV',
        )
    )
    @app_commands.default_permissions(manage_channels=True)
    async def subscribe(interaction: Interaction, query: str) -> None:
        await handlers.subscribe(interaction, query)

    @app_commands.command(name="unsubscribe", description=_describe("unsubscribe"))
    @app_commands.describe(topic=_("The topic's number (see /list)", zh="主题编号（见 /list）"))
    @app_commands.default_permissions(manage_channels=True)
    async def unsubscribe(interaction: Interaction, topic: str) -> None:
        await handlers.unsubscribe(interaction, topic)

    @app_commands.command(name="list", description=_describe("list"))
    async def list_topics(interaction: Interaction) -> None:
        await handlers.list_topics(interaction)

    @app_commands.command(name="paper", description=_describe("paper"))
    @app_commands.rename(paper_id="id")
    @app_commands.describe(
        paper_id=_("arXiv id or link, e.g. 2409.03605", zh="arXiv 编号或链接，例如 2409.03605"),
        full=_(
            "Add a structured review read from the paper itself",
            zh="附上根据论文全文撰写的结构化评述",
        ),
    )
    async def paper(interaction: Interaction, paper_id: str, full: bool = False) -> None:
        await handlers.paper(interaction, paper_id, full=full)

    @app_commands.command(name="digest", description=_describe("digest"))
    @app_commands.default_permissions(manage_channels=True)
    async def digest(interaction: Interaction) -> None:
        await handlers.digest(interaction)

    @app_commands.command(name="settings", description=_describe("settings"))
    @app_commands.describe(
        setting=_("Which setting to change", zh="要修改的设置"),
        value=_("Its new value", zh="新的值"),
    )
    @app_commands.choices(setting=SETTING_CHOICES)
    async def settings(
        interaction: Interaction, setting: str | None = None, value: str | None = None
    ) -> None:
        await handlers.settings(interaction, setting, value)

    @app_commands.command(name="pause", description=_describe("pause"))
    @app_commands.describe(topic=_("Only this topic (see /list)", zh="只暂停这个主题（见 /list）"))
    @app_commands.default_permissions(manage_channels=True)
    async def pause(interaction: Interaction, topic: str | None = None) -> None:
        await handlers.set_paused(interaction, True, topic)

    @app_commands.command(name="resume", description=_describe("resume"))
    @app_commands.describe(topic=_("Only this topic (see /list)", zh="只恢复这个主题（见 /list）"))
    @app_commands.default_permissions(manage_channels=True)
    async def resume(interaction: Interaction, topic: str | None = None) -> None:
        await handlers.set_paused(interaction, False, topic)

    @app_commands.command(name="help", description=_describe("help"))
    async def help_command(interaction: Interaction) -> None:
        await handlers.help(interaction)

    async def topics(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await handlers.topic_choices(interaction, current)

    async def values(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await handlers.value_choices(interaction, current)

    unsubscribe.autocomplete("topic")(topics)
    pause.autocomplete("topic")(topics)
    resume.autocomplete("topic")(topics)
    settings.autocomplete("value")(values)
    return [subscribe, unsubscribe, list_topics, paper, digest, settings, pause, resume,
            help_command]  # fmt: skip
