"""Times shown in the learner's own time zone, which only their browser knows.

Pure: the page asks the browser for its IANA zone name (``Intl.DateTimeFormat().resolvedOptions().timeZone``)
and passes whatever came back here; anything unusable falls back to UTC, and the text then says "UTC".
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# What the browser is asked; a single expression, so NiceGUI's run_javascript returns its value.
BROWSER_TIME_ZONE_JS = 'Intl.DateTimeFormat().resolvedOptions().timeZone'
_MAX_ZONE_NAME = 64  # IANA names are at most about 30 characters; a longer one is not a zone name


def zone_from_browser(name: object) -> tzinfo | None:
    """The zone the browser named, or ``None`` for anything that is not a known IANA zone (the answer is the
    browser's, so it is treated as untrusted input: a path-like name must not reach the file system lookup)."""
    if (
        not isinstance(name, str)
        or not name
        or len(name) > _MAX_ZONE_NAME
        or name.startswith(('/', '.'))
        or '..' in name
        or '\\' in name
        or '\0' in name
    ):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def local_time_text(moment: datetime, zone: tzinfo | None) -> str:
    """``2025-01-31 13:00 CET`` in the learner's zone; ``2025-01-31 12:00 UTC`` when the zone is unknown."""
    if zone is None:
        return moment.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')
    local = moment.astimezone(zone)
    # the zone's abbreviation where it has one (CET, EST); otherwise the data gives a bare offset (-03)
    name = local.tzname() or ''
    if not name or name[0] in '+-':
        name = 'UTC' + (name or local.strftime('%z'))
    return local.strftime('%Y-%m-%d %H:%M ') + name
