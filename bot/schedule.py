"""When a chat's digest is due: arXiv's listing time, in the chat's own time zone.

A listing dated D is announced at 20:00 US Eastern the evening before and its feed is rebuilt
around midnight Eastern, so it is available from D 00:00 ET. A chat that chose a local time gets
its digest at the first such time at or after that; a chat that did not, as soon as the listing
is in. Digests that fell due while Paperboy was off are due at once on start.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.models import Chat
from bot.source.calendar import EASTERN


def listing_available_at(listing: date) -> datetime:
    return datetime.combine(listing, time(0, 0), tzinfo=EASTERN)


def due_at(chat: Chat, listing: date) -> datetime:
    """The moment `chat`'s digest of the listing dated `listing` falls due (aware)."""
    available = listing_available_at(listing)
    if chat.delivery_time is None:
        return available
    zone = ZoneInfo(chat.timezone)
    local = available.astimezone(zone)
    candidate = datetime.combine(local.date(), chat.delivery_time, tzinfo=zone)
    if candidate < local:
        candidate = datetime.combine(
            local.date() + timedelta(days=1), chat.delivery_time, tzinfo=zone
        )
    return candidate
