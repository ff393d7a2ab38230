"""Set-based writes for the exchange fast path: insert and update many rows at once.

Rows are plain dicts of attribute names, so the fast path never instantiates models.
On PostgreSQL, inserts go through `COPY … FROM STDIN` (psycopg's `cursor.copy`) and
updates through one `UPDATE … FROM unnest(array, array, …)` per column set; ids that
other rows must reference are taken from the table's sequence beforehand. On SQLite
(the embedded default, where speed matters less) the same rows go through
`executemany` with Django's own value adaptation. Missing attributes take the model
field's default, `auto_now`/`auto_now_add` fields take the current time, so a row
written here is the row `Model.objects.create()` would have written.
"""
from __future__ import annotations

from functools import cache
from operator import itemgetter

from django.db import connection
from django.utils import timezone

from xiaoneng.lib.pg import execute_binary


class Row(dict):
    """A row to write that listeners can also read as attributes (`row.case_id`, `row.pk`).

    Signals of the exchange inbox hand these to their listeners instead of model
    instances: building thousands of instances per batch cost more than the listeners'
    own work, and they only read a few fields."""

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def pk(self):
        return self.get("id")


@cache
def _fields(model) -> tuple:
    return tuple(model._meta.concrete_fields)


_MISSING = object()


def _default(field, now):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if field.get_internal_type() in ("CharField", "TextField", "SlugField"):
        return ""
    return _MISSING


def _complete(model, rows: list[dict]) -> tuple[list, list[list]]:
    """(fields, value lists) with every concrete field filled; the pk only when rows carry it."""
    now = timezone.now()
    pk = model._meta.pk
    fields = [f for f in _fields(model) if f is not pk or (rows and pk.attname in rows[0])]
    defaults = {f.attname: _default(f, now) for f in fields if f is not pk}
    defaults = {k: v for k, v in defaults.items() if v is not _MISSING}
    get = itemgetter(*(f.attname for f in fields))
    try:  # one C-level lookup per row: this runs for every row of every table of a batch
        values = [list(get({**defaults, **row} if defaults else row)) for row in rows]
    except KeyError as exc:
        raise ValueError(f"{model.__name__}.{exc.args[0]} has no value and no default") from None
    return fields, values


class SqliteWriter:
    """SQLite has one writer at a time; ids above the table's highest (and above what this
    writer handed out already) are free until this transaction ends."""

    def __init__(self):
        self.handed: dict = {}

    def allocate(self, model, n: int) -> list[int]:
        if n <= 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cur:
            cur.execute(f'SELECT MAX("{model._meta.pk.column}") FROM "{table}"')
            top = cur.fetchone()[0] or 0
            cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cur.fetchone()
        start = max(top, row[0] if row else 0, self.handed.get(model, 0)) + 1
        self.handed[model] = start + n - 1
        return list(range(start, start + n))

    def allocate_many(self, wanted: dict) -> dict:
        return {model: self.allocate(model, n) for model, n in wanted.items()}

    def insert(self, model, rows: list[dict]) -> None:
        if not rows:
            return
        fields, values = _complete(model, rows)
        cols = ", ".join(f'"{f.column}"' for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        prepped = [[f.get_db_prep_save(v, connection) for f, v in zip(fields, vals, strict=True)] for vals in values]
        with connection.cursor() as cur:
            cur.executemany(f'INSERT INTO "{model._meta.db_table}" ({cols}) VALUES ({marks})', prepped)

    def update(self, model, names: list[str], rows: list[tuple]) -> None:
        """rows: (pk, value for each of `names`)."""
        if not rows:
            return
        opts = model._meta
        fields = [opts.get_field(n) for n in names]
        sets = ", ".join(f'"{f.column}" = %s' for f in fields)
        prepped = [[f.get_db_prep_save(v, connection) for f, v in zip(fields, row[1:], strict=True)] + [row[0]]
                   for row in rows]
        with connection.cursor() as cur:
            cur.executemany(f'UPDATE "{opts.db_table}" SET {sets} WHERE "{opts.pk.column}" = %s', prepped)


_BINARY = {
    "AutoField": "int4", "BigAutoField": "int8", "SmallAutoField": "int2", "IntegerField": "int4",
    "BigIntegerField": "int8", "SmallIntegerField": "int2", "PositiveIntegerField": "int4",
    "PositiveBigIntegerField": "int8", "PositiveSmallIntegerField": "int2", "CharField": "varchar",
    "SlugField": "varchar", "TextField": "text", "DateTimeField": "timestamptz", "DateField": "date",
    "BooleanField": "bool", "DecimalField": "numeric", "JSONField": "jsonb", "UUIDField": "uuid",
    "GenericIPAddressField": "inet",
}


def _binary_type(field) -> str:
    target = field.target_field if field.is_relation else field
    return _BINARY[target.get_internal_type()]


@cache
def _sequence(model) -> str:
    """The name of the sequence behind the model's id (looked up once per process)."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column])
        return cur.fetchone()[0]


class PostgresWriter:
    # The sequence is named once, as a constant: `nextval(pg_get_serial_sequence(…))` looks it up again
    # for every id, which made drawing a batch's 1,700 ids cost 4 ms instead of 0.5.
    def allocate(self, model, n: int) -> list[int]:
        return self.allocate_many({model: n}).get(model, [])

    def allocate_many(self, wanted: dict) -> dict:
        """{model: n ids} for several tables in one query (one round trip instead of one per table)."""
        wanted = {model: n for model, n in wanted.items() if n > 0}
        if not wanted:
            return {}
        models = list(wanted)
        sql = " UNION ALL ".join(
            f"SELECT {i}, nextval(%s::regclass) FROM generate_series(1, %s)" for i in range(len(models)))
        ids: dict = {m: [] for m in models}
        with connection.cursor() as cur:
            cur.execute(sql, [p for m in models for p in (_sequence(m), wanted[m])])
            for i, pk in cur.fetchall():
                ids[models[i]].append(pk)
        return {m: sorted(v) for m, v in ids.items()}

    def insert(self, model, rows: list[dict]) -> None:
        """COPY in binary format: values are sent as PostgreSQL's own binary representations,
        so neither side formats or parses text for timestamps and numbers."""
        if not rows:
            return
        from psycopg.types.json import Jsonb

        fields, values = _complete(model, rows)
        json_at = [i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
        cols = ", ".join(f'"{f.column}"' for f in fields)
        types = [_binary_type(f) for f in fields]
        sql = f'COPY "{model._meta.db_table}" ({cols}) FROM STDIN (FORMAT BINARY)'
        with connection.cursor() as cur, cur.cursor.copy(sql) as copy:
            copy.set_types(types)
            for vals in values:
                for i in json_at:
                    vals[i] = Jsonb(vals[i])
                copy.write_row(vals)

    def update(self, model, names: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        opts = model._meta
        fields = [opts.pk, *(opts.get_field(n) for n in names)]
        by_column = list(zip(*rows, strict=True))
        arrays = ", ".join(f"%b::{f.rel_db_type(connection) if f.is_relation else f.db_type(connection)}[]"
                           for f in fields)
        alias = ", ".join(f'"{f.column}"' for f in fields)
        sets = ", ".join(f'"{f.column}" = v."{f.column}"' for f in fields[1:])
        pk = opts.pk.column
        # `t.pk = ANY(ids)` as well as the join: the rows are found through the primary key whatever
        # the planner believes of the table's size. With the join alone it hashed a sequential scan
        # of the whole table for each batch until the table was large (or analysed) enough: the
        # inbox's clock updates grew from 23 to 37 µs a row over 100,000 events.
        sql = (f'UPDATE "{opts.db_table}" AS t SET {sets} FROM unnest({arrays}) AS v({alias}) '
               f'WHERE t."{pk}" = v."{pk}" AND t."{pk}" = ANY(%b)')
        # Server-side binding: the arrays travel as parameters, not quoted into the SQL text by Python;
        # in binary (`%b`), a quarter of the cost of formatting them as array literals.
        execute_binary(sql, [*(list(c) for c in by_column), list(by_column[0])])


def columns(model, names, alias: str = "") -> str:
    """The quoted columns of these attribute names, for SQL written by hand (`alias.` before each if given)."""
    opts, prefix = model._meta, f'"{alias}".' if alias else ""
    return ", ".join(f'{prefix}"{opts.get_field(n).column}"' for n in names)


class IdPool:
    """Ids for one model: those drawn beforehand, then `chunk` more at a time if they run out."""

    def __init__(self, w, model, ids=(), chunk: int = 16):
        self.w, self.model, self.chunk, self.free = w, model, chunk, list(ids)[::-1]

    def take(self) -> int:
        if not self.free:
            self.free = self.w.allocate(self.model, self.chunk)[::-1]
        return self.free.pop()


def writer():
    return PostgresWriter() if connection.vendor == "postgresql" else SqliteWriter()
