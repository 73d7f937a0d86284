"""The `paperboy` command line: the process's entry point, which wires the core and frontends.

    paperboy digest '"talking head" OR "lip sync"' [--lang zh] [--since 2026-11-01]
                    [--format text|markdown] [--max 40]
    paperboy paper 2409.03605 [--lang zh]

Results go to stdout; logs and the progress bar go to stderr, so the output can be piped into a
file (a Markdown blog post, say). Exit status: 0 success, 1 arXiv unreachable or an unexpected
failure, 2 a mistake in the input or the settings.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import date

from tqdm import tqdm

from bot import __version__
from bot.config import Settings, load_settings
from bot.core import open_core
from bot.errors import ConfigError, SourceUnavailable, UserError
from bot.query import parse_query
from handlers.terminal.markdown import render_digest_markdown
from handlers.terminal.text import render_digest, render_paper

log = logging.getLogger("paperboy")

# Libraries whose INFO logs would leak request URLs (the Telegram token is part of Bot API
# URLs) or drown ours.
_QUIET_LOGGERS = (
    "httpx", "httpx2", "httpcore", "openai", "urllib3", "arxiv", "aiosqlite", "telegram", "discord",
    "apscheduler",
)  # fmt: skip


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-21") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 500:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 1 to 500")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paperboy",
        description="arXiv digests per topic, with validated summaries.",
    )
    parser.add_argument("--version", action="version", version=f"paperboy {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    digest = sub.add_parser(
        "digest",
        help="print the latest digest for a topic",
        description="Print the digest of new arXiv papers matching a topic query. Query "
        'language: words (all must appear), "quoted phrases", OR, AND, NOT or -word, '
        "parentheses, wildcard talk*, fields ti: abs: au: cat: (cat:cs.CV, cat:cs.*).",
    )
    digest.add_argument("query", help='topic query, e.g. \'"talking head" OR "lip sync"\'')
    digest.add_argument("--lang", help="summary language (en, zh, ja, de, ...)")
    digest.add_argument(
        "--since",
        type=_iso_date,
        help="show every match announced since this date (YYYY-MM-DD), without marking "
        "anything as delivered",
    )
    digest.add_argument("--format", choices=("text", "markdown"), default="text")
    digest.add_argument("--max", type=_positive, help="most papers to show (default 25)")

    sub.add_parser(
        "run",
        help="run the bot (Telegram) with its scheduler until SIGTERM",
        description="Run the chat bot: needs TELEGRAM_BOT_TOKEN. Delivers each chat's digests "
        "at its chosen time and answers commands; stops cleanly on SIGTERM or Ctrl-C.",
    )

    paper = sub.add_parser("paper", help="print one paper's card")
    paper.add_argument("id", help="arXiv id or URL: 2409.03605, arXiv:2409.03605v2, hep-th/9901001")
    paper.add_argument("--lang", help="summary language (en, zh, ja, de, ...)")
    return parser


async def _run_digest(settings: Settings, args: argparse.Namespace) -> str:
    async with open_core(settings) as core:
        app = core.paperboy
        try:
            query_missing = app.unwatched_categories(parse_query(args.query))
        except UserError:
            query_missing = []  # app.digest below reports it properly
        if query_missing:
            log.warning(
                "%s is outside PAPERBOY_CATEGORIES (%s): add it there to watch it",
                ", ".join(query_missing),
                ",".join(settings.categories),
            )
        bar: tqdm | None = None

        def start(total: int) -> None:
            nonlocal bar
            if total:
                bar = tqdm(
                    total=total, desc="Summarising", unit="paper", file=sys.stderr, disable=None
                )

        def step(n: int) -> None:
            if bar is not None:
                bar.update(n)

        try:
            digest = await app.digest(
                args.query,
                language=args.lang,
                since=args.since,
                max_papers=args.max,
                progress=step,
                on_summarize_start=start,
            )
        finally:
            if bar is not None:
                bar.close()
    if args.format == "markdown":
        return render_digest_markdown(digest)
    return render_digest(digest)


async def _run_paper(settings: Settings, args: argparse.Namespace) -> str:
    async with open_core(settings) as core:
        app = core.paperboy
        paper, summary = await app.paper(args.id, language=args.lang)
    return render_paper(paper, summary)


def _run_bot(settings: Settings) -> int:
    from handlers.run import run_bot  # only `run` needs the chat libraries loaded

    try:
        asyncio.run(run_bot(settings))
    except ConfigError as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if args.command == "run":
        return _run_bot(settings)
    runner = _run_digest if args.command == "digest" else _run_paper
    try:
        output = asyncio.run(runner(settings, args))
    except UserError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except SourceUnavailable as exc:
        print(f"arXiv could not be reached: {exc}. Try again in a few minutes.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    sys.stdout.write(output)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
