"""Fixed-window rate limits in Django's cache, for the public report endpoints.

The per-process LocMem cache is right for one process (the embedded default and the tests); with
several app processes, point TESSERA_CACHE_URL at Redis so that all of them count together.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache


def _hit(key: str, limit: int, window_s: int) -> bool:
    bucket = int(time.time() // window_s)
    name = f"tessera:rl:{key}:{bucket}"
    cache.add(name, 0, timeout=window_s + 5)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add() and incr()
        cache.add(name, 1, timeout=window_s + 5)
        count = 1
    return count <= limit


def allow_client(*, ip: str | None) -> bool:
    """Whether one more report from this client address is within its limit (and count it).

    Checked first, before any database work, so that one noisy client neither loads the server nor
    uses up its organisation's allowance."""
    limit, window = settings.TESSERA_REPORT_RATE_PER_IP
    return _hit(f"report-ip:{ip or 'unknown'}", limit, window)


def allow_org(*, org_slug: str) -> bool:
    """Whether the organisation's own ceiling on public reports is not yet reached."""
    limit, window = settings.TESSERA_REPORT_RATE_PER_ORG
    return _hit(f"report-org:{org_slug}", limit, window)
