"""The Discord frontend: slash commands, digests as embeds, and Discord's errors mapped onto
the core's. Only this package imports discord.py; `app.DiscordFrontend` is its entry point."""

import warnings

with warnings.catch_warnings():
    # discord.py 2.7 imports the standard library's deprecated `audioop` for voice, which
    # Paperboy never uses: keep that warning out of the bot's output (pytest filters it too).
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401
