"""The clock list's export with its cell texts rendered by PostgreSQL.

Why: a 1,000,000-row background export spent about half its time in Python turning each row's
two deadlines into their legal form (`deadline_label`: a time-zone lookup and two strftime a
value) and looking up labels. PostgreSQL renders the same texts in C while it reads the rows,
so the worker only writes them out. The texts are the ones the Python path writes, cell for
cell (a test compares both on the same rows):

* a deadline at 00:00 local time is 24:00 of the day before (`explain.deadline_label`);
* kinds, units and states in words (the labels of the current language, passed as parameters);
* overdue and provisional as 是 / 否.

Only the start time stays a timestamp (it is written as an Excel date, not as text).
"""
from __future__ import annotations

import re
from datetime import datetime

from django.db.models import Case, F, Func, Q, TextField, Value, When
from django.db.models.functions import Cast, Coalesce, Concat, NullIf
from django.utils import timezone

_ZONE = re.compile(r"^[A-Za-z0-9_+\-/]+$")


class LegalDeadline(Func):
    """`explain.deadline_label` in SQL: 'YYYY-MM-DD HH:MI' local time; midnight is '<day before> 24:00';
    NULL is ''."""

    output_field = TextField()

    def __init__(self, expression, zone: str):
        if not _ZONE.match(zone):
            raise ValueError(f"unexpected time zone name {zone!r}")
        super().__init__(expression)
        self.zone = zone

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.get_source_expressions()[0])
        local = f"({column} AT TIME ZONE %s)"
        local_params = [*params, self.zone]
        sql = (f"CASE WHEN {column} IS NULL THEN '' "
               f"WHEN date_trunc('second', {local})::time = TIME '00:00' "
               f"THEN to_char({local} - INTERVAL '1 day', 'YYYY-MM-DD') || ' 24:00' "
               f"ELSE to_char({local}, 'YYYY-MM-DD HH24:MI') END")
        return sql, [*params, *local_params, *local_params, *local_params]



def _labels(field: str, labels: dict[str, str], default) -> Case:
    return Case(*[When(**{field: key}, then=Value(label)) for key, label in labels.items()], default=default,
                output_field=TextField())


FIELDS = ("x_name", "x_kind", "x_organ", "start_at", "x_limit", "extension_days", "x_warn", "x_due", "x_state",
          "x_overdue", "x_provisional")


def rendered(queryset, *, kinds: dict[str, str], other_kind: str, units: dict[str, str], states: dict[str, str],
             yes: str, no: str, stopped: str, now: datetime):
    """The queryset annotated with every export cell (FIELDS, in the list's column order)."""
    zone = timezone.get_current_timezone_name()
    kind = _labels("kind", kinds, Value(other_kind))
    overdue = Q(due_at__isnull=False) & (
        (Q(state=stopped) & Q(stopped_at__gt=F("due_at"))) | (~Q(state=stopped) & Q(due_at__lt=now)))
    return queryset.annotate(
        x_kind=kind,
        x_name=Coalesce(NullIf(F("label"), Value("")), kind, output_field=TextField()),
        x_organ=Coalesce(F("organ__name"), Value(""), output_field=TextField()),
        x_limit=Concat(Cast("limit", TextField()), Value(" "), _labels("unit", units, F("unit")),
                       output_field=TextField()),
        x_warn=LegalDeadline(F("warn_at"), zone),
        x_due=LegalDeadline(F("due_at"), zone),
        x_state=_labels("state", states, F("state")),
        x_overdue=Case(When(overdue, then=Value(yes)), default=Value(no), output_field=TextField()),
        x_provisional=Case(When(provisional=True, then=Value(yes)), default=Value(no), output_field=TextField()),
    )
