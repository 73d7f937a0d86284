"""Register the slash commands with Discord only when their definitions changed.

Discord keeps an application's global commands between runs, and overwriting them is rate
limited (about 200 creations a day) and makes clients refetch them, so a restart with the same
commands must not send them again. The local definitions (what `CommandTree.sync` would send,
translations included) are compared with Discord's on the fields we set, after normalising
what Discord fills in or leaves out: absent, null, false and empty are the same.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import discord
from discord import app_commands

log = logging.getLogger(__name__)

_COMMAND_FIELDS = (
    "name",
    "type",
    "description",
    "options",
    "default_member_permissions",
    "contexts",
    "integration_types",
    "nsfw",
    "name_localizations",
    "description_localizations",
)
_OPTION_FIELDS = (
    "type",
    "name",
    "description",
    "required",
    "choices",
    "autocomplete",
    "min_value",
    "max_value",
    "min_length",
    "max_length",
    "channel_types",
    "options",
    "name_localizations",
    "description_localizations",
)
_CHOICE_FIELDS = ("name", "value", "name_localizations")


def _empty(value: Any) -> bool:
    return value is None or value is False or value == [] or value == {}


def _subset(data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in fields:
        value: Any = data.get(key)
        if _empty(value):
            continue
        if key == "options":
            value = [_subset(option, _OPTION_FIELDS) for option in value]
        elif key == "choices":
            value = [_subset(choice, _CHOICE_FIELDS) for choice in value]
        elif key in {"contexts", "integration_types", "channel_types"}:
            value = sorted(value)
        elif key == "default_member_permissions":
            value = str(value)  # Discord answers with a string, discord.py sends an int
        out[key] = value
    return out


def normalize(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Comparable definitions: the fields we set, defaults dropped, sorted by name."""
    subsets = [_subset(command, _COMMAND_FIELDS) for command in commands]
    for command in subsets:
        command.setdefault("type", 1)  # chat input, when left out
    return sorted(subsets, key=lambda c: (c.get("type", 1), str(c.get("name"))))


async def local_definitions(tree: app_commands.CommandTree[Any]) -> list[dict[str, Any]]:
    """What `tree.sync()` would send for the global commands."""
    translator = tree.translator
    commands = tree.get_commands()
    if translator is None:
        return [command.to_dict(tree) for command in commands]
    return [await command.get_translated_payload(tree, translator) for command in commands]


async def sync_if_changed(client: discord.Client, tree: app_commands.CommandTree[Any]) -> bool:
    """Overwrite the global commands when Discord's differ from ours; True if it did."""
    application_id = client.application_id
    if application_id is None:  # pragma: no cover - set by login
        raise RuntimeError("the client has no application id; log in first")
    ours = normalize(await local_definitions(tree))
    theirs = normalize(await client.http.get_global_commands(application_id))  # type: ignore[arg-type]
    if json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True):
        log.debug("slash commands are up to date")
        return False
    await tree.sync()
    log.info("registered %d slash commands with Discord", len(ours))
    return True
