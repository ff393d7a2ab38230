"""Writing a computation's result lines fast: one line per organ and leaf is tens of thousands of rows
for a province-wide class. On PostgreSQL new lines go in with COPY and changed ones through a COPY
into a temporary table and one UPDATE … FROM (Django's bulk_update writes a CASE per row and
column, and its bulk_create binds every value in Python); elsewhere (SQLite, tests) through the ORM.
The rows and the numbers are the same either way."""
from __future__ import annotations

import json

from django.db import connection

from .models import ResultLine

FIELDS = ("value", "numerator", "denominator", "score", "weighted", "formula", "query")
TMP = "xn_appraisal_lines"


def write_lines(create: list[tuple], update: list[tuple]) -> None:
    """`create`: (result_id, indicator_id, *FIELDS); `update`: (line_id, *FIELDS)."""
    if connection.vendor != "postgresql":
        ResultLine.objects.bulk_create([ResultLine(result_id=r[0], indicator_id=r[1], **dict(zip(FIELDS, r[2:],
                                                                                                  strict=True)))
                                        for r in create])
        lines = []
        for r in update:
            ln = ResultLine(pk=r[0], **dict(zip(FIELDS, r[1:], strict=True)))
            lines.append(ln)
        ResultLine.objects.bulk_update(lines, list(FIELDS))
        return
    table = ResultLine._meta.db_table
    q = connection.ops.quote_name
    with connection.cursor() as cur:
        if create:
            cols = ", ".join(q(c) for c in ("result_id", "indicator_id", *FIELDS))
            with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for r in create:
                    copy.write_row((*r[:-1], json.dumps(r[-1], ensure_ascii=False)))
        if update:
            cur.execute(f"DROP TABLE IF EXISTS {TMP}")
            cur.execute(f"CREATE TEMP TABLE {TMP} (id bigint, value numeric, numerator bigint, denominator bigint, "
                        f"score numeric, weighted numeric, formula text, query jsonb) ON COMMIT DROP")
            with cur.cursor.copy(f"COPY {TMP} FROM STDIN") as copy:
                for r in update:
                    copy.write_row((*r[:-1], json.dumps(r[-1], ensure_ascii=False)))
            sets = ", ".join(f"{q(c)} = t.{q(c)}" for c in FIELDS)
            cur.execute(f"UPDATE {table} l SET {sets} FROM {TMP} t WHERE l.id = t.id")
            cur.execute(f"DROP TABLE {TMP}")
