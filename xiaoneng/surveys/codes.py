"""Invitation codes: eight characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown
as two groups of four ("K7PX-3MRQ"), drawn with `secrets` (31⁸ ≈ 8.5 × 10¹¹ codes: with the
per-address throttle on failed entries nobody guesses one).

`normalise()` reads what a person types or a phone's camera fills in — lower case, full-width
letters (from a Chinese input method), spaces, any kind of dash — and returns the canonical code,
or "" when it cannot be one; it never raises.
"""
from __future__ import annotations

import re
import secrets
import unicodedata

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 8
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc\uff0d_·.]+")
_VALID = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def shown(code: str) -> str:
    return f"{code[:4]}-{code[4:]}" if len(code) == LENGTH else code


def normalise(text: object) -> str:
    if not isinstance(text, str) or len(text) > 64:
        return ""
    folded = unicodedata.normalize("NFKC", text)
    compact = _SEPARATORS.sub("", folded).upper()
    return compact if _VALID.fullmatch(compact) else ""
