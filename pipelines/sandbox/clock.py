"""Simulated time of the sandbox firm: instants as epoch seconds, rendered as Clio does.

Clio answers timestamps in the account's local offset (`2026-11-20T09:15:02-05:00`) and
dates as `YYYY-MM-DD`. The firm lives at a fixed offset, so rendered timestamps of one firm
also sort as strings; internally every instant is an integer of epoch seconds.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta, timezone

OFFSET_SECONDS = -5 * 3600  # America/New_York without DST: reports stay stable
FIRM_TZ = timezone(timedelta(seconds=OFFSET_SECONDS))
_OFFSET_TEXT = "-05:00"
DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

_DAY_TEXT: dict[int, str] = {}
_DAY_STARTS: dict[str, int] = {}
_OWN_STAMP = re.compile(  # what stamp_text writes
    r"(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)" + re.escape(_OFFSET_TEXT), re.ASCII
)


def day_text(day: int) -> str:
    """`YYYY-MM-DD` of a proleptic ordinal day (cached: the same few thousand days recur)."""
    text = _DAY_TEXT.get(day)
    if text is None:
        text = _DAY_TEXT[day] = date.fromordinal(day).isoformat()
    return text


def stamp_text(instant: int) -> str:
    """ISO-8601 with the firm's offset, second precision: `2026-11-20T09:15:02-05:00`."""
    local = instant + OFFSET_SECONDS
    day, seconds = divmod(local, DAY)
    hours, rest = divmod(seconds, 3600)
    return f"{day_text(day + _EPOCH_ORDINAL)}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}{_OFFSET_TEXT}"


def day_start(day: int) -> int:
    """Epoch second of local midnight starting ordinal `day`."""
    return (day - _EPOCH_ORDINAL) * DAY - OFFSET_SECONDS


def day_of(instant: int) -> int:
    """Local ordinal day of an instant."""
    return (instant + OFFSET_SECONDS) // DAY + _EPOCH_ORDINAL


def parse_instant(text: str) -> int:
    """Epoch seconds of an ISO-8601 timestamp (any offset; naive means the firm's)."""
    # Fast path for the firm's own rendering (what `stamp_text` writes): nearly every call.
    own = _OWN_STAMP.fullmatch(text)
    if own:
        day, hours, minutes, seconds = own.groups()
        start = _DAY_STARTS.get(day)
        if start is None:
            start = _DAY_STARTS[day] = day_start(parse_day(day))
        return start + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=FIRM_TZ)
    return int(moment.timestamp())


def to_datetime(instant: int) -> datetime:
    """The instant as an aware datetime at the firm's offset."""
    return datetime.fromtimestamp(instant, FIRM_TZ)


def parse_day(text: str) -> int:
    """Ordinal of a `YYYY-MM-DD` date."""
    return date.fromisoformat(text).toordinal()


def etag(seed: int, endpoint: str, record_id: int, version: int) -> str:
    """A Clio-style quoted etag, new for every version of a record, stable for a seed."""
    digest = hashlib.md5(f"{seed}:{endpoint}:{record_id}:{version}".encode()).hexdigest()
    return f'"{digest}"'
