"""Foreign keys from high-volume rows to reference data, kept by Django rather than the database."""

from __future__ import annotations

from django.db import models


def reference(to, **kwargs) -> models.ForeignKey:
    """A foreign key with no database constraint, for rows written by the thousand (clocks, case
    steps, exchange events, alerts) that point at reference data (organs, matter versions and
    steps, exchange sources and batches, content types).

    Why: PostgreSQL checks every such key at commit with a `SELECT … FOR KEY SHARE` on the
    parent row. A 1,000-event exchange batch made about 7,500 of these checks, a fifth of its
    time, and concurrent transactions locking the same few parents (one content type, a
    bureau's organ row) turn those locks into multixacts. The reference rows are never
    deleted through anything but the ORM, which still applies `on_delete` (PROTECT refuses,
    CASCADE follows), and the rows pointing at them are written by code that has just loaded
    the parent. Keys between records of one case (case → clock, step → case) keep their
    constraints.
    """
    return models.ForeignKey(to, db_constraint=False, **kwargs)
