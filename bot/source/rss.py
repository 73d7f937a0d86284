"""Parse arXiv's daily listing feeds (``rss.arxiv.org/rss/<cats>`` and ``/atom/<cats>``).

Both formats carry the same data per paper: title, abstract (in a description that starts with
``arXiv:2409.03605v1 Announce Type: new \\nAbstract:``), categories, ``arxiv:announce_type``,
``dc:creator`` authors and optional ``arxiv:DOI`` / ``arxiv:journal_reference``. Elements are
matched by namespace URI and local name, never by prefix, so a feed that renames ``arxiv:`` to
``ns0:`` parses the same.

An empty feed (weekends, holidays) is a normal `Listing` without announcements; anything that is
not a well-formed RSS/Atom document raises `FeedError`. arXiv caps a feed at 2000 items; a feed of
that size is marked ``truncated`` because papers beyond the cap are silently missing.
"""

from __future__ import annotations

import html
import logging
import re
from collections import Counter
from datetime import date, datetime
from email.utils import parsedate_to_datetime

from lxml import etree

from bot.errors import InvalidArxivId, SourceUnavailable
from bot.models import Announcement, AnnounceType, Listing, Paper
from bot.source.calendar import EASTERN
from bot.source.ids import parse_arxiv_id
from bot.source.tex import decode_tex_name

__all__ = ["FEED_ITEM_CAP", "FeedError", "parse_listing"]

log = logging.getLogger(__name__)

FEED_ITEM_CAP = 2000

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
# arXiv's extension namespace; the https spelling is accepted in case it is ever "fixed".
ARXIV_NS = frozenset({"http://arxiv.org/schemas/atom", "https://arxiv.org/schemas/atom"})
NO_NS = frozenset({""})

_PREFIX_RE = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce\s+Type:\s*(?P<type>[\w-]+)\s*\.?\s*(?:Abstract:\s*)?",
    re.IGNORECASE,
)
_ENTRY_ID_RE = re.compile(r"(?:oai:arXiv\.org:|arxiv\.org/abs/)(?P<id>\S+?)/?$", re.IGNORECASE)
_ANNOUNCE_TYPES = {t.value: t for t in AnnounceType}
# "absonly" (an abstract-only correction, no new version) is an update like a replacement.
_ANNOUNCE_TYPES["absonly"] = AnnounceType.REPLACE
# Author separators: commas outside parentheses (affiliations are parenthesised) and " and ".
_AUTHOR_SPLIT_RE = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")


class FeedError(SourceUnavailable):
    """The listing feed could not be used (not XML, not a feed, an error feed...)."""


def _ns(el: etree._Element) -> str:
    return etree.QName(el).namespace or ""


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _children(el: etree._Element, name: str, namespaces: frozenset[str]) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str) and _local(c) == name and _ns(c) in namespaces]


def _child_text(el: etree._Element, name: str, namespaces: frozenset[str]) -> str | None:
    for c in _children(el, name, namespaces):
        text = _text_of(c).strip()
        if text:
            return text
    return None


def _text_of(el: etree._Element) -> str:
    return "".join(t for t in el.itertext() if isinstance(t, str))


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _clean(text: str) -> str:
    # lxml has already decoded XML entities; a second, HTML, layer occasionally remains.
    return _collapse(html.unescape(text))


def _split_authors(raw: str) -> tuple[str, ...]:
    # Hide commas inside parentheses ("A (MIT, CSAIL), B") so they do not split, then drop the
    # parenthesised affiliation from each name.
    depth = 0
    masked: list[str] = []
    for ch in raw:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        masked.append("\0" if ch == "," and depth else ch)
    names: list[str] = []
    for part in _AUTHOR_SPLIT_RE.split("".join(masked)):
        name = _clean(re.sub(r"\s*\([^)]*\)\s*$", "", part.replace("\0", ",")))
        if name:
            names.append(name)
    return tuple(names)


def _et_date(dt: datetime) -> date:
    if dt.tzinfo is None:
        return dt.date()
    return dt.astimezone(EASTERN).date()


def _rfc822_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return _et_date(parsedate_to_datetime(text))
    except (TypeError, ValueError):
        log.warning("unreadable feed date %r", text)
        return None


def _iso_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return _et_date(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        log.warning("unreadable feed date %r", text)
        return None


def _mode(dates: list[date]) -> date | None:
    return Counter(dates).most_common(1)[0][0] if dates else None


class _Item:
    """What one feed item says, before it becomes an `Announcement`."""

    def __init__(self) -> None:
        self.ids: list[str] = []  # candidate id texts, best first
        self.title = ""
        self.description = ""
        self.announce_type: str | None = None
        self.categories: list[str] = []
        self.authors: tuple[str, ...] = ()
        self.doi: str | None = None
        self.journal_ref: str | None = None
        self.date: date | None = None


def _extensions(el: etree._Element, item: _Item) -> None:
    item.announce_type = _child_text(el, "announce_type", ARXIV_NS)
    item.doi = _child_text(el, "DOI", ARXIV_NS) or _child_text(el, "doi", ARXIV_NS)
    item.journal_ref = _child_text(el, "journal_reference", ARXIV_NS) or _child_text(
        el, "journal_ref", ARXIV_NS
    )
    creators = [_text_of(c) for c in _children(el, "creator", frozenset({DC_NS}))]
    authors: list[str] = []
    for raw in creators:
        authors.extend(decode_tex_name(a) for a in _split_authors(raw))
    item.authors = tuple(authors)


def _rss_items(channel: etree._Element) -> list[_Item]:
    items = []
    for el in _children(channel, "item", NO_NS):
        item = _Item()
        item.title = _child_text(el, "title", NO_NS) or ""
        item.description = _child_text(el, "description", NO_NS) or ""
        m = _PREFIX_RE.match(item.description)
        if m:
            item.ids.append(m.group("id"))
        guid = _child_text(el, "guid", NO_NS)
        link = _child_text(el, "link", NO_NS)
        for text in (guid, link):
            found = _ENTRY_ID_RE.search(text or "")
            if found:
                item.ids.append(found.group("id"))
        item.categories = [
            t for c in _children(el, "category", NO_NS) if (t := _text_of(c).strip())
        ]
        item.date = _rfc822_date(_child_text(el, "pubDate", NO_NS))
        _extensions(el, item)
        items.append(item)
    return items


def _atom_items(feed: etree._Element) -> list[_Item]:
    atom = frozenset({ATOM_NS})
    items = []
    for el in _children(feed, "entry", atom):
        item = _Item()
        item.title = _child_text(el, "title", atom) or ""
        item.description = _child_text(el, "summary", atom) or ""
        m = _PREFIX_RE.match(item.description)
        if m:
            item.ids.append(m.group("id"))
        found = _ENTRY_ID_RE.search(_child_text(el, "id", atom) or "")
        if found:
            item.ids.append(found.group("id"))
        for link in _children(el, "link", atom):
            found = _ENTRY_ID_RE.search(link.get("href") or "")
            if found:
                item.ids.append(found.group("id"))
        item.categories = [t for c in _children(el, "category", atom) if (t := c.get("term"))]
        item.date = _iso_date(_child_text(el, "published", atom))
        _extensions(el, item)
        if not item.authors:
            names = [_child_text(a, "name", atom) for a in _children(el, "author", atom)]
            item.authors = tuple(_clean(n) for n in names if n)
        items.append(item)
    return items


def _announcement(item: _Item, listing_date: date, group: str) -> Announcement | None:
    """Turn one item into an announcement; None (logged) for an item we cannot understand."""
    candidates = []
    for text in item.ids:
        try:
            candidates.append(parse_arxiv_id(text))
        except InvalidArxivId:
            continue
    # Prefer a versioned form (description / guid); the <link> has no version.
    versioned = [c for c in candidates if c.version is not None]
    if not candidates:
        log.warning("skipping a %s feed item without a readable arXiv id: %r", group, item.ids)
        return None
    parsed = (versioned or candidates)[0]

    raw_type = item.announce_type
    prefix = _PREFIX_RE.match(item.description)
    if raw_type is None and prefix:
        raw_type = prefix.group("type")
    kind = _ANNOUNCE_TYPES.get((raw_type or "").strip().lower())
    if kind is None:
        log.warning("skipping %s in the %s feed: unknown announce type %r", parsed, group, raw_type)
        return None

    version = parsed.version
    if version is None:
        # Only "new" is certainly v1; a replacement without a version is still usable.
        version = 1
        if kind not in (AnnounceType.NEW, AnnounceType.CROSS):
            log.warning("%s in the %s feed has no version; assuming v1", parsed, group)
    abstract = item.description[prefix.end() :] if prefix else item.description
    categories = tuple(dict.fromkeys(item.categories))
    paper = Paper(
        id=parsed.canonical,
        version=version,
        title=_clean(item.title),
        abstract=_clean(abstract),
        authors=item.authors,
        categories=categories,
        primary_category=categories[0] if categories else None,
        journal_ref=_clean(item.journal_ref) if item.journal_ref else None,
        doi=item.doi.strip() if item.doi else None,
    )
    return Announcement(paper=paper, type=kind, listing_date=listing_date)


def _parse_xml(content: bytes, group: str) -> etree._Element:
    if not content or not content.strip():
        raise FeedError(f"arXiv sent an empty document for the {group} feed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"the {group} feed is not well-formed XML ({exc})") from None


def parse_listing(content: bytes, group: str, *, cap: int = FEED_ITEM_CAP) -> Listing:
    """Parse an RSS 2.0 or Atom listing feed for category `group` (e.g. ``cs.CV+cs.GR``)."""
    root = _parse_xml(content, group)
    kind = _local(root)
    if kind == "rss":
        channel = next(iter(_children(root, "channel", NO_NS)), None)
        if channel is None:
            raise FeedError(f"the {group} feed is RSS without a <channel>")
        title = _child_text(channel, "title", NO_NS) or ""
        if title.lower().startswith("feed error"):
            detail = _child_text(channel, "description", NO_NS) or title
            raise FeedError(f"arXiv refused the {group} feed: {_collapse(detail)}")
        items = _rss_items(channel)
        feed_date = _rfc822_date(_child_text(channel, "pubDate", NO_NS))
        fallback = _rfc822_date(_child_text(channel, "lastBuildDate", NO_NS))
    elif kind == "feed" and _ns(root) == ATOM_NS:
        atom = frozenset({ATOM_NS})
        title = _child_text(root, "title", atom) or ""
        if title.lower().startswith("feed error"):
            detail = _child_text(root, "subtitle", atom) or title
            raise FeedError(f"arXiv refused the {group} feed: {_collapse(detail)}")
        items = _atom_items(root)
        # <updated> is when the feed was built (just after midnight ET); entries' <published>
        # is the announcement date itself, so it wins when there are entries.
        feed_date = None
        fallback = _iso_date(_child_text(root, "updated", atom))
    else:
        raise FeedError(
            f"expected an RSS or Atom feed for {group}, got a <{kind}> document"
            + (" (an HTML page?)" if kind.lower() == "html" else "")
        )

    listing_date = feed_date or _mode([i.date for i in items if i.date]) or fallback
    if items and listing_date is None:
        raise FeedError(f"the {group} feed has {len(items)} items but no date")

    announcements: dict[str, Announcement] = {}
    for item in items:
        # Every item of a listing shares its date (items carry the same pubDate anyway); the
        # fallback is unreachable because a dated feed was required above.
        ann = _announcement(item, listing_date or date.min, group)
        if ann is not None and ann.paper.id not in announcements:
            announcements[ann.paper.id] = ann
    truncated = len(items) >= cap
    if truncated:
        log.warning("the %s feed has %d items, arXiv's cap: some papers are missing", group, cap)
    return Listing(
        group=group,
        listing_date=listing_date,
        announcements=tuple(announcements.values()),
        truncated=truncated,
    )
