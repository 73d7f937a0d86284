"""What every Telegram handler can reach: the core services, through a typed context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.chats import ChatService
from bot.cycle import DigestCycle
from bot.service import Paperboy


@dataclass
class Services:
    """The core, as the Telegram frontend sees it. Built in the entry point, never imported."""

    paperboy: Paperboy
    chats: ChatService
    cycle: DigestCycle | None = None  # None in tests that drive handlers without a scheduler


class PaperboyContext(
    CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
):
    """`context.services` instead of untyped `context.bot_data[...]` lookups."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def services(self) -> Services:
        services = self.application.bot_data["services"]
        assert isinstance(services, Services)
        return services


def chat_key(chat_id: int) -> str:
    return f"telegram:{chat_id}"
