"""API keys for machine clients (exchange sources, Open311 clients): one scheme for all.

A key looks like `<tag>_<prefix>_<secret>`: the prefix (10 hex characters) is stored
in clear beside the client so a request's key is found with one indexed lookup; only
the SHA-256 of the whole key is stored, and it is compared in constant time. The secret
is 256 random bits (secrets.token_urlsafe), so a plain SHA-256 is enough: there is
nothing to brute-force that a slow hash would protect. A key is shown once, when it is
created or rotated, and never again.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class KeyScheme:
    def __init__(self, tag: str):
        self.tag = tag
        self.pattern = re.compile(rf"^{re.escape(tag)}_([0-9a-f]{{10}})_([A-Za-z0-9_-]{{20,100}})$")
        # Hashed when no client has the presented prefix, so a miss costs what a hit costs.
        self.dummy = hash_key(f"xiaoneng-{tag}-no-such-key")

    def new(self) -> tuple[str, str, str]:
        """A fresh key: (key, prefix, hash)."""
        prefix = secrets.token_hex(5)
        key = f"{self.tag}_{prefix}_{secrets.token_urlsafe(32)}"
        return key, prefix, hash_key(key)

    def find(self, queryset, key: str | None):
        """The active row of `queryset` (with key_prefix, key_hash, is_active) whose key this is, or None."""
        key = (key or "").strip()
        match = self.pattern.match(key)
        presented = hash_key(key)
        if match is None:
            hmac.compare_digest(presented, self.dummy)
            return None
        found = None
        for row in list(queryset.filter(key_prefix=match.group(1))) or [None]:
            stored = row.key_hash if row is not None else self.dummy
            if hmac.compare_digest(presented, stored) and row is not None:
                found = row
        return found if found is not None and found.is_active else None
