"""What every Telegram handler can reach: the core, through a typed context."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.core import Core


class PaperboyContext(
    CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
):
    """`context.core` instead of untyped `context.bot_data[...]` lookups."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def core(self) -> Core:
        core = self.application.bot_data["core"]
        assert isinstance(core, Core)
        return core


def chat_key(chat_id: int) -> str:
    return f"telegram:{chat_id}"
