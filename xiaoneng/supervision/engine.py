"""From findings to alerts: raise each finding once, then climb the escalation ladder.

Wiring (see apps.py): the monitoring pass hands its clock events to `on_clock_events`;
approval actions send `case_event`; stopping a clock early records an early completion.

Escalation ladder (configuration, xiaoneng.conf):
* a warning (预警) goes to the organ's handlers and leaders;
* a yellow card (黄牌) also opens a supervision order (督办) with its own clock of
  `supervision_order_working_days` working days;
* when that order's clock runs out, the `order_overdue` rule raises a red card (红牌),
  which proposes accountability.
"""
from __future__ import annotations

import contextvars
import logging
from collections import defaultdict
from contextlib import contextmanager

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import acting_as, record
from xiaoneng.audit.models import AuditEntry
from xiaoneng.clocks.models import Clock
from xiaoneng.lib.pg import execute_binary, fetch_binary

from .models import LEVEL_RANK, AccountabilityProposal, Alert, AlertStatus, EarlyCompletion, HeldDigest, Level
from .rules import Finding, load_all
from .signals import alerts_raised

log = logging.getLogger(__name__)


def _type_id(subject, cache: dict | None = None) -> int | None:
    """The content type of a finding's subject (looked up once per model class per call)."""
    if subject is None:
        return None
    cls = type(subject)
    if cache is None:
        return ContentType.objects.get_for_model(subject).pk
    if cls not in cache:
        cache[cls] = ContentType.objects.get_for_model(subject).pk
    return cache[cls]


def dedup_key(f: Finding, _types: dict | None = None) -> str:
    ct = _type_id(f.subject, _types) or 0
    sid = getattr(f.subject, "pk", 0) or 0
    return f"{f.rule}:{ct}:{sid}:{f.key}"[:200]


# One digest per organ per monitoring pass: while a pass runs (`pass_scope`), what each batch raises is held
# on record (`HeldDigest`, in the batch's transaction) and the digests are queued from it at the end.
_in_pass: contextvars.ContextVar[bool] = contextvars.ContextVar("supervision_in_pass", default=False)
HELD_CHUNK = 5000  # held counts taken (and their rows locked) per transaction by `send_held_digests`

ALERT_COLUMNS = ("rule", "level", "status", "organ_id", "region_code", "subject_type_id", "subject_id",
                 "subject_label", "clock_id", "message", "evidence", "legal_basis", "raised_at", "dedup_key")
ALERT_TYPES = ("varchar", "varchar", "varchar", "bigint", "varchar", "integer", "bigint", "varchar", "bigint", "text",
               "jsonb", "varchar", "timestamptz", "varchar")


def _insert_pg(rows: list[dict]) -> list[tuple[int, str]]:
    """Insert alerts in one statement; (id, dedup_key) of those inserted.

    The rows travel as one array per column in PostgreSQL's binary format (`unnest`), bound
    server-side: no SQL text to build or parse, no JSON document to write and unpack;
    `ON CONFLICT DO NOTHING` on the unique dedup key guards against a race with another worker."""
    from psycopg.types.json import Jsonb

    cols = ", ".join(f'"{c}"' for c in ALERT_COLUMNS)
    arrays = ", ".join(f"%b::{t}[]" for t in ALERT_TYPES)
    sql = (f'INSERT INTO "{Alert._meta.db_table}" ({cols}) SELECT * FROM unnest({arrays}) '
           f'ON CONFLICT ("dedup_key") DO NOTHING RETURNING "id", "dedup_key"')
    return fetch_binary(sql, [[Jsonb(r[c]) for r in rows] if c == "evidence" else [r[c] for r in rows]
                              for c in ALERT_COLUMNS])


def _insert_orm(rows: list[dict]) -> list[tuple[int, str]]:
    """The same with the ORM (SQLite): the rows found afterwards with their key and moment are ours."""
    Alert.objects.bulk_create([Alert(**r) for r in rows], ignore_conflicts=True, batch_size=1000)
    moments = {r["dedup_key"]: r["raised_at"] for r in rows}
    return [(pk, key) for pk, key, raised_at in Alert.objects.filter(dedup_key__in=list(moments))
            .values_list("id", "dedup_key", "raised_at") if raised_at == moments[key]]


def raise_findings(findings: list[Finding], at=None) -> list[int]:
    """Create an alert for each finding not raised before; returns the new alerts' ids.

    A finding is raised at its own moment (`Finding.at`: a batch of events raises the findings of
    each event at that event's moment) or else at `at` (default: now).

    1. Insert the alerts in bulk (an alert records its own raising: `raised_at`, the
       message, the evidence; its steps are what people do with it): on PostgreSQL one statement whose
       `ON CONFLICT (dedup_key) DO NOTHING` skips findings raised before (also by another
       worker at the same moment) and returns the new ids; elsewhere existing keys are
       dropped first (one query) and `ignore_conflicts` guards the race.
    2. One audit entry for the batch.
    3. Climb the ladder for yellow and red cards; tell the organs after commit (one digest
       per organ per call, or per monitoring pass while one runs).

    A monitoring pass raises thousands of warnings a minute, so no model instance is built
    for them: the ladder loads the few yellow and red cards it acts on.
    """
    if not findings:
        return []
    # What the rules raise, and the orders the ladder opens, are the system's acts — even when a
    # person's request (a late step, an exchange batch) set them off: credited to the rules, not to them.
    with acting_as(None, channel=AuditEntry.Channel.SYSTEM, label="supervision"):
        return _raise_findings(findings, at)


def _raise_findings(findings: list[Finding], at=None) -> list[int]:
    at = at or timezone.now()
    types: dict = {}
    keyed = {}
    for f in findings:
        keyed.setdefault(dedup_key(f, types), f)
    if connection.vendor == "postgresql":
        fresh = keyed
    else:
        existing = set(Alert.objects.filter(dedup_key__in=list(keyed)).values_list("dedup_key", flat=True))
        fresh = {k: f for k, f in keyed.items() if k not in existing}
        if not fresh:
            return []
    rows = []
    for k, f in fresh.items():
        subject = f.subject
        rows.append({
            "rule": f.rule, "level": f.level, "status": AlertStatus.RAISED.value, "organ_id": f.organ.pk,
            "region_code": f.organ.region_code, "subject_type_id": _type_id(subject, types),
            "subject_id": getattr(subject, "pk", None), "subject_label": str(subject)[:200] if subject is not None else "",
            "clock_id": f.clock.pk if f.clock is not None else None, "message": f.message, "evidence": f.evidence,
            "legal_basis": f.legal_basis[:300], "raised_at": f.at or at, "dedup_key": k, "closed_at": None,
        })
    if connection.vendor == "postgresql":
        created = _insert_pg(rows)
    else:
        created = _insert_orm(rows)
    if not created:
        return []
    created.sort()
    new = [(pk, fresh[key]) for pk, key in created]
    record("supervision.raise", object_type="supervision.alert", object_id=str(len(new)),
           object_repr=_("发现 %(n)d 条预警") % {"n": len(new)},
           changes={"alerts": [[pk, f.rule, f.level] for pk, f in new][:500]})
    ladder = {pk: f.at or at for pk, f in new if f.level in (Level.YELLOW, Level.RED)}  # each at its moment
    if ladder:
        from . import actions  # the ladder's actions live with the other alert actions

        for alert in Alert.objects.select_related("organ").filter(pk__in=list(ladder)).order_by("pk"):
            if alert.level == Level.YELLOW:
                actions.open_order_for(alert, at=ladder[alert.pk])
            else:
                AccountabilityProposal.objects.get_or_create(
                    alert=alert,
                    defaults={"organ": alert.organ, "region_code": alert.region_code, "reason": alert.message,
                              "proposed_at": ladder[alert.pk]},
                )
    _notify([f for _pk, f in new])
    alerts_raised.send(sender=Alert, alerts=new)
    return [pk for pk, _f in new]


def _count(findings: list[Finding], into: dict) -> dict:
    """{organ_id: [organ name, {level: count}]}, levels in the order first seen."""
    for f in findings:
        entry = into.get(f.organ.pk)
        if entry is None:
            entry = into[f.organ.pk] = [f.organ.name, {}]
        entry[1][f.level] = entry[1].get(f.level, 0) + 1
    return into


def _notify(findings: list[Finding]) -> None:
    """One digest per organ (per call, or per pass while a monitoring pass runs)."""
    counts = _count(findings, {})
    if _in_pass.get():
        _hold(counts)
        return
    _queue_digests(counts)


def _hold(counts: dict) -> None:
    """Put a batch's counts on record for the pass's digests, in the batch's transaction."""
    HeldDigest.objects.bulk_create([HeldDigest(organ_id=organ_id, level=level, count=n)
                                    for organ_id, (_name, levels) in counts.items() for level, n in levels.items()])


def _queue_digests(counts: dict) -> None:
    """Queue the digests to each organ's handlers and leaders (one query for all of them), sent after commit
    (by the background sender when a monitoring pass queued them: see `pass_scope`)."""
    from xiaoneng.notify.models import Message
    from xiaoneng.notify.outbox import queue_all
    from xiaoneng.orgs.models import Grant, Role

    if not counts:
        return
    recipients = defaultdict(set)
    for organ_id, email in Grant.objects.filter(organ_id__in=list(counts), role__in=[Role.HANDLER, Role.LEADER],
                                                user__email__gt="").values_list("organ_id", "user__email"):
        recipients[organ_id].add(email)
    labels = dict(Level.choices)
    messages = []
    for organ_id, (name, levels) in counts.items():
        text = _("【电子监察】%(organ)s 新增：%(counts)s。请登录平台查看并作出情况说明。") % {
            "organ": name, "counts": "，".join(f"{labels[k]}{v}条" for k, v in levels.items())
        }
        messages += [Message(channel="email", to=to, text=text, kind="supervision.digest", ref=str(organ_id))
                     for to in sorted(recipients[organ_id])]
    queue_all(messages)


def send_held_digests() -> int:
    """Queue one digest per organ for every alert held on record and not reported yet; the number of alerts.

    Takes the held counts (SKIP LOCKED on PostgreSQL: two workers ending their passes at once report
    different rows), queues the digests and deletes the counts in one transaction: a crash before its
    commit leaves them held for the next pass, after it they are reported and gone. So an alert
    committed by a batch is reported in exactly one digest, even if the pass that raised it was killed.
    """
    from xiaoneng.notify.outbox import deferred
    from xiaoneng.orgs.models import Organ

    reported = 0
    qs = HeldDigest.objects.order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)  # SQLite: one writer at a time
    while True:
        with deferred(), transaction.atomic():
            held = list(qs[:HELD_CHUNK])
            if not held:
                return reported
            names = dict(Organ.objects.filter(pk__in={h.organ_id for h in held}).values_list("pk", "name"))
            counts: dict = {}
            for h in sorted(held, key=lambda h: (h.organ_id, LEVEL_RANK[h.level])):
                entry = counts.setdefault(h.organ_id, [names.get(h.organ_id, ""), {}])
                entry[1][h.level] = entry[1].get(h.level, 0) + h.count
            _queue_digests(counts)
            HeldDigest.objects.filter(pk__in=[h.pk for h in held]).delete()
        reported += sum(h.count for h in held)


@contextmanager
def pass_scope():
    """Around a monitoring pass: hold the pass's new alerts on record and queue one digest per organ at its end.

    The digests are left to the background sender (`xiaoneng notify send`), as the exchange
    inbox leaves its messages: the monitoring loop must not wait for a mail gateway. The end
    of every pass also reports what an earlier pass, killed before its end, held."""
    if _in_pass.get():  # nested: the outer pass sends them
        yield
        return
    token = _in_pass.set(True)
    try:
        yield
    finally:
        _in_pass.reset(token)
    # Reached only when the pass ended normally: a failed pass (a database not set up, a lost connection)
    # leaves what it held to the next pass rather than failing twice.
    try:
        send_held_digests()
    except Exception:
        log.exception("could not queue the supervision digests of a monitoring pass; the next pass will")


def _cases_of(clocks: list[Clock]) -> dict[int, object]:
    from xiaoneng.approvals.models import Case

    ct = ContentType.objects.get_for_model(Case)
    ids = {c.subject_id for c in clocks if c.subject_type_id == ct.pk}
    if not ids:
        return {}
    return {c.pk: c for c in Case.objects.filter(pk__in=ids).select_related("organ", "promise_clock", "legal_clock")}


def on_clock_events(events: list) -> None:
    """Monitoring-pass listener: every clock rule looks at every new event of a kind it watches (`monitor.Fired`)."""
    if not events:
        return
    rules = [r for r in load_all().values() if r.on_clock_event]
    by_kind = {kind: [r for r in rules if r.clock_events is None or kind in r.clock_events]
               for kind in {e.kind for e in events}}
    cases = _cases_of([e.clock for e in events])
    findings, batched = [], {}
    for event in events:
        clock = event.clock
        case = cases.get(clock.subject_id) if clock.subject_id else None
        for r in by_kind[event.kind]:
            if r.on_clock_events:  # the rule takes the batch at once
                batched.setdefault(r.code, (r, []))[1].append((event, clock, case))
            else:
                findings.extend(r.on_clock_event(event, clock, case) or [])
    for r, items in batched.values():
        findings.extend(r.on_clock_events(items) or [])
    raise_findings(findings, at=events[0].at)


on_clock_events.pass_scope = pass_scope  # the monitoring pass opens it around all its batches


def on_case_event(sender, case, event, **kwargs) -> None:
    rules = [r for r in load_all().values() if r.on_case_event and (r.case_kinds is None or event.kind in r.case_kinds)]
    findings = []
    for r in rules:
        findings.extend(r.on_case_event(case, event.kind, event.data) or [])
    raise_findings(findings, at=event.at)


def on_case_events(sender, events, **kwargs) -> None:
    """`case_events` (the exchange fast path's batch): the same rules as `on_case_event`, raised in one call.

    1. Each rule is handed the events of the kinds it looks at: all at once to a rule with a
       batch form (`Rule.on_case_events`, set-based queries), else one by one with its case
       (the cases of all of them loaded in one query).
    2. The batch's findings are raised together (one audit entry, one digest per organ), each
       at its event's moment (`Finding.at`), as `on_case_event` raises each event's findings.
    """
    rules = [r for r in load_all().values() if r.on_case_event]
    if not rules or not events:
        return
    seen = {r.code: [] for r in rules}  # the events each rule looks at, in the batch's order, in one pass
    lists_of: dict[str, list] = {}  # event kind -> the lists of the rules that look at it
    for e in events:
        lists = lists_of.get(e.kind)
        if lists is None:
            lists = lists_of[e.kind] = [seen[r.code] for r in rules if r.case_kinds is None or e.kind in r.case_kinds]
        for events_of_rule in lists:
            events_of_rule.append(e)
    findings, one_by_one = [], []
    for r in rules:
        mine = seen[r.code]
        if not mine:
            continue
        if r.on_case_events:
            findings.extend(r.on_case_events(mine) or [])
        else:
            one_by_one.append((r, mine))
    if one_by_one:
        from xiaoneng.approvals.models import Case

        # Such a rule reads the case's own fields and its organ (the finding's organ and subject).
        cases = Case.objects.select_related("organ").in_bulk({e.case_id for _r, mine in one_by_one for e in mine})
        for r, mine in one_by_one:
            for event in mine:
                for f in r.on_case_event(cases[event.case_id], event.kind, event.data) or []:
                    f.at = f.at or event.at
                    findings.append(f)
    raise_findings(findings)


def _early(stopped, check: bool = True) -> list[tuple]:
    """(clock id, case id, organ id, region code, working days saved, at) of the promise clocks in `stopped`
    that stopped before their deadline, whether their case was decided or not.

    `stopped` is [(clock, at)]; a clock may be a `Clock` or a bulk writer's row: only pk, kind,
    due_at, subject_id, organ_id and region_code are read. `check=False`: the calendar as last
    checked (see `calendar.engine.current`)."""
    from xiaoneng.calendar.engine import current
    from xiaoneng.clocks.engine import tz

    rows, cal, zone = [], None, tz()
    day = timezone.timedelta(days=1)
    for clock, at in stopped:
        if clock.kind != "case.promise":  # most of a batch's stops: steps', decision clocks', corrections'
            continue
        due = clock.due_at
        if due is None or not at < due or clock.organ_id is None:
            continue
        if cal is None:
            cal = current(check=check)
        # `local_date` of aware moments, with the zone looked up once
        last_day = due.astimezone(zone).date() - day
        rows.append((clock.pk, clock.subject_id, clock.organ_id, clock.region_code,
                     max(cal.working_days_between(at.astimezone(zone).date(), last_day), 0), at))
    return rows


def early_completions(stopped, check: bool = True) -> list[EarlyCompletion]:
    """Promise clocks stopped before their deadline, with the working days saved (see `_early`)."""
    from xiaoneng.approvals.models import Case

    rows = _early(stopped, check)
    if not rows:
        return []
    # Only a decision completes a case early; a refusal or a withdrawal stops the clock too.
    decided = set(Case.objects.filter(pk__in={r[1] for r in rows}, decided_at__isnull=False)
                  .values_list("pk", flat=True))
    return [EarlyCompletion(clock_id=clock_id, organ_id=organ_id, region_code=region_code, working_days_saved=days, at=at)
            for clock_id, case_id, organ_id, region_code, days, at in rows if case_id in decided]


def _insert_early_pg(rows: list[tuple]) -> None:
    """Insert the early completions of decided cases in one statement (`early_completions` in SQL).

    The rows travel as one array per column in binary format, as alerts do (`_insert_pg`); the
    join keeps those whose case is decided; the one-to-one key on the clock dedups."""
    from xiaoneng.approvals.models import Case

    sql = (f'INSERT INTO "{EarlyCompletion._meta.db_table}" ("clock_id", "organ_id", "region_code", '
           '"working_days_saved", "at") SELECT u.clock_id, u.organ_id, u.region_code, u.days, u.at '
           "FROM unnest(%b::bigint[], %b::bigint[], %b::bigint[], %b::varchar[], %b::integer[], %b::timestamptz[]) "
           "AS u(clock_id, case_id, organ_id, region_code, days, at) "
           f'JOIN "{Case._meta.db_table}" c ON c."id" = u.case_id WHERE c."decided_at" IS NOT NULL '
           "ON CONFLICT DO NOTHING")
    execute_binary(sql, [list(column) for column in zip(*rows, strict=True)])


def on_clock_stopped(sender, clock, at, **kwargs) -> None:
    """Early completion of a promise is a positive figure, recorded, not an alert."""
    EarlyCompletion.objects.bulk_create(early_completions([(clock, at)]), ignore_conflicts=True)


def on_clocks_stopped(sender, stopped, **kwargs) -> None:
    """The same for a bulk writer's many stops, in one statement (the one-to-one key dedups).

    The bulk writer checked the calendar for the batch whose clocks these are (the exchange fast
    path: once per batch): the days saved are counted on that calendar, without asking again."""
    if connection.vendor != "postgresql":
        EarlyCompletion.objects.bulk_create(early_completions(stopped, check=False), ignore_conflicts=True,
                                            batch_size=1000)
        return
    rows = _early(stopped, check=False)
    if rows:
        _insert_early_pg(rows)


def on_exchange_events(sender, events, **kwargs) -> None:
    """Exchange listener: data quality of what organs' own systems report."""
    rules = [r for r in load_all().values() if r.on_exchange]
    findings = []
    for r in rules:
        findings.extend(r.on_exchange(events) or [])
    raise_findings(findings)
