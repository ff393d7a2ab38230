"""Fixed-window counters in Django's cache: calls per client address, filings per API key.

The limits are `config.limit("PER_ADDRESS_MINUTE")` and `config.limit("POSTS_PER_KEY_MINUTE")`.
The address is REMOTE_ADDR only (a forwarded-for header is whatever the client wants
it to be); behind a reverse proxy, the proxy must set REMOTE_ADDR.
"""
from __future__ import annotations

import hashlib
import time

from django.core.cache import cache

WINDOW = 60


def _hit(kind: str, ident: str, limit: int) -> bool:
    """Count one call; True while the caller is within `limit` for the current minute."""
    slot = int(time.time() // WINDOW)
    key = f"xn:open311:{kind}:{hashlib.sha256(ident.encode()).hexdigest()[:32]}:{slot}"
    cache.add(key, 0, timeout=WINDOW * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW * 2)
        count = 1
    return count <= limit


def retry_after() -> int:
    """Seconds until the current window ends and the counters start again (the 429's Retry-After)."""
    return max(1, WINDOW - int(time.time()) % WINDOW)


def address_allowed(request, limit: int) -> bool:
    return _hit("address", request.META.get("REMOTE_ADDR") or "unknown", limit)


def key_allowed(api_key, limit: int) -> bool:
    return _hit("key", str(api_key.pk), limit)
