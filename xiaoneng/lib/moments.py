"""What an aware datetime from outside must be for the database to keep or compare it."""
from __future__ import annotations

from datetime import datetime, timedelta

# PostgreSQL accepts UTC offsets up to ±15:59 (its "time zone displacement out of range" beyond),
# while Python's datetime takes anything under ±24:00; the real world uses −12:00 … +14:00.
MAX_OFFSET = timedelta(hours=15, minutes=59)


def offset_in_range(moment: datetime) -> bool:
    """Whether an aware datetime's UTC offset is one PostgreSQL accepts (±15:59 at most)."""
    offset = moment.utcoffset()
    return offset is not None and abs(offset) <= MAX_OFFSET
