"""The `paperboy` command line: the process's entry point, which wires the core and frontends.

    paperboy digest '"talking head" OR "lip sync"' [--lang zh] [--since 2026-11-01]
                    [--format text|markdown] [--max 40]
    paperboy paper 2409.03605 [--lang zh]
    paperboy export '"lip sync"' --date 2026-11-20 --out posts/ [--lang zh] [--full]
    paperboy stats [--json]

Results go to stdout; logs and the progress bar go to stderr, so the output can be piped into a
file (a Markdown blog post, say). Exit status: 0 success, 1 arXiv unreachable or an unexpected
failure, 2 a mistake in the input or the settings.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from bot import __version__
from bot.errors import ConfigError, SourceUnavailable, UserError

# Everything else is imported where it is used: `paperboy --help` must answer at once, and the
# core (SQLite, arXiv, the LLM client) is only needed once the arguments are understood.
if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("paperboy")

Clock = Callable[[], datetime]

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
    # A tick that finds the previous one still delivering is skipped on purpose (one fan-out at
    # a time); APScheduler would warn about it every minute of a long fan-out.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)


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

    export = sub.add_parser(
        "export",
        help="write a topic's post for one arXiv listing day, for a static-site blog",
        description="Write the day's post for a topic as a Markdown file with Hexo/Hugo front "
        "matter, its papers' figures saved beside it (OUT/<date>-<slug>.md and "
        "OUT/<date>-<slug>/). A day not stored yet is fetched first. A paper appears in one "
        "post per topic; writing a day again gives the same files.",
    )
    export.add_argument("query", help='topic query, e.g. \'"talking head" OR "lip sync"\'')
    export.add_argument(
        "--date", type=_iso_date, required=True, help="the arXiv listing date (YYYY-MM-DD)"
    )
    export.add_argument("--out", required=True, help="folder to write the post and figures into")
    export.add_argument("--lang", help="summary and label language (en, zh, ja, de, ...)")
    export.add_argument(
        "--full", action="store_true", help="add each paper's structured review, read from it"
    )
    export.add_argument("--max", type=_positive, help="most papers in the post (default 25)")

    sub.add_parser(
        "run",
        help="run the bot (Telegram, Discord or both) with its scheduler until SIGTERM",
        description="Run the chat bots whose tokens are set (TELEGRAM_BOT_TOKEN, "
        "DISCORD_BOT_TOKEN). Delivers each chat's digests at its chosen time and answers "
        "commands; stops cleanly on SIGTERM or Ctrl-C.",
    )
    sub.add_parser(
        "health",
        help="exit 0 if a running bot is healthy (for container health checks)",
        description="Read the heartbeat `paperboy run` keeps beside the database: healthy "
        "while its scheduler beats and digest cycles keep finishing. Prints what is wrong "
        "and exits 1 otherwise.",
    )
    stats = sub.add_parser(
        "stats",
        help="print what the database holds: papers, chats, summaries, LLM usage, deliveries",
        description="Count what the database holds: papers and announcement days, topics and "
        "chats per platform, cached summaries and reviews by source (LLM or extractive), LLM "
        "tokens and calls today and in the last 7 days (UTC), deliveries sent, queued and "
        "paused. Reads the database only: no arXiv or LLM request.",
    )
    stats.add_argument("--json", action="store_true", help="print the figures as JSON")

    paper = sub.add_parser("paper", help="print one paper's card")
    paper.add_argument("id", help="arXiv id or URL: 2409.03605, arXiv:2409.03605v2, hep-th/9901001")
    paper.add_argument("--lang", help="summary language (en, zh, ja, de, ...)")
    paper.add_argument(
        "--full",
        action="store_true",
        help="add a structured review read from the paper itself (HTML, else PDF, else abstract)",
    )
    return parser


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _bar_size() -> dict[str, int]:
    """The bar's size for tqdm: nothing (tqdm measures) unless the terminal reports a size of
    0, as a fresh pty or ``docker run -t`` does before its size is set: tqdm then computes no
    room at all and prints nothing, so the bar never appeared there."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError):
        return {}
    fixed = {}
    if not size.columns:
        fixed["ncols"] = 80
    if not size.lines:
        fixed["nrows"] = 24
    return fixed


async def _run_digest(settings: Settings, args: argparse.Namespace, clock: Clock) -> str:
    from tqdm import tqdm

    from bot.core import open_core
    from bot.query import parse_query
    from bot.source.calendar import EASTERN
    from handlers.terminal.markdown import render_digest_markdown
    from handlers.terminal.text import render_digest

    if args.since is not None and args.since > clock().astimezone(EASTERN).date():
        raise UserError(
            f"--since {args.since.isoformat()} is in the future: give a past date, "
            "such as the first day you want to read from"
        )
    async with open_core(settings, clock=clock) as core:
        app = core.paperboy
        try:
            query = parse_query(args.query)
            query_missing = app.unwatched_categories(query)
        except UserError:
            query, query_missing = None, []  # app.digest below reports it properly
        for warning in query.warnings if query is not None else ():
            print(f"warning: {warning}", file=sys.stderr)  # the query is searched as typed
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
                    total=total,
                    desc="Summarising",
                    unit="paper",
                    file=sys.stderr,
                    disable=None,  # hidden when stderr is not a terminal
                    **_bar_size(),
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
        quiet = await app.quiet_day()
    if args.format == "markdown":
        return render_digest_markdown(digest, quiet_day=quiet)
    return render_digest(digest, quiet_day=quiet)


async def _run_paper(settings: Settings, args: argparse.Namespace, clock: Clock) -> str:
    from bot.core import open_core
    from handlers.terminal.text import render_paper

    async with open_core(settings, clock=clock) as core:
        app = core.paperboy
        paper, summary = await app.paper(args.id, language=args.lang)
        if not args.full:
            return render_paper(paper, summary)
        from bot.reviews.render import review_text

        language = summary.language
        review = await core.reviews.review(paper, None, language)
    return render_paper(paper, summary) + "\n" + review_text(review, language) + "\n"


async def _run_export(settings: Settings, args: argparse.Namespace, clock: Clock) -> str:
    from pathlib import Path

    from bot.core import open_core
    from bot.export import export_day
    from handlers.terminal.blog import write_post

    async with open_core(settings, clock=clock) as core:
        post = await export_day(
            core, args.query, args.date, language=args.lang, full=args.full, max_papers=args.max
        )
    for warning in post.query.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    written = write_post(post, Path(args.out))
    papers = len(post.digest.new_entries)
    state = "written" if written.post in written.changed else "unchanged"
    return (
        f"{written.post} ({state}; {papers} paper{'' if papers == 1 else 's'}, "
        f"{len(post.figures)} figure{'' if len(post.figures) == 1 else 's'}; "
        f"{len(written.changed)} file(s) written, {len(written.unchanged)} unchanged)\n"
    )


def _run_bot(settings: Settings, clock: Clock) -> int:
    from handlers.run import run_bot  # only `run` needs the chat libraries loaded

    try:
        asyncio.run(run_bot(settings, clock=clock))
    except ConfigError as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return 2
    return 0


def _health(settings: Settings, now: datetime) -> int:
    from handlers.health import heartbeat_path, read_heartbeat

    path = heartbeat_path(settings.db_path)
    beat = read_heartbeat(path)
    if beat is None:
        print(f"unhealthy: no heartbeat in {path} (is `paperboy run` running?)", file=sys.stderr)
        return 1
    problems = beat.problems(now, tick_seconds=settings.tick_seconds)
    if problems:
        print("unhealthy: " + "; ".join(problems), file=sys.stderr)
        return 1
    print("healthy")
    return 0


def _stats(settings: Settings, args: argparse.Namespace, now: datetime) -> int:
    from bot.stats import read_stats
    from handlers.terminal.stats import render_stats_json, render_stats_text

    try:
        stats = asyncio.run(read_stats(settings, today=now.astimezone(UTC).date()))
    except ConfigError as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    sys.stdout.write(render_stats_json(stats) if args.json else render_stats_text(stats))
    sys.stdout.flush()
    return 0


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """Run one command; `clock` lets tests pick the moment (the real time otherwise)."""
    args = build_parser().parse_args(argv)
    from bot.config import load_settings  # after parsing: --help needs no settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    clock = clock or _utc_now
    if args.command == "run":
        return _run_bot(settings, clock)
    if args.command == "health":
        return _health(settings, clock())
    if args.command == "stats":
        return _stats(settings, args, clock())
    runner = {"digest": _run_digest, "export": _run_export}.get(args.command, _run_paper)
    try:
        output = asyncio.run(runner(settings, args, clock))
    except ConfigError as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return 2
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
