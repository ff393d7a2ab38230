"""What a text must be for the database to keep it."""
from __future__ import annotations


def storable(text: str) -> bool:
    """No NUL (PostgreSQL refuses it in text and jsonb) and no lone surrogate (JSON may write "\\ud800";
    UTF-8 cannot encode it, so neither database can take it)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
