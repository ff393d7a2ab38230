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

from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record
from xiaoneng.clocks.models import Clock, ClockEvent

from .models import AccountabilityProposal, Alert, AlertStatus, AlertStep, EarlyCompletion, Level
from .rules import Finding, load_all


def dedup_key(f: Finding) -> str:
    ct = ContentType.objects.get_for_model(f.subject).pk if f.subject is not None else 0
    sid = getattr(f.subject, "pk", 0) or 0
    return f"{f.rule}:{ct}:{sid}:{f.key}"[:200]


def raise_findings(findings: list[Finding], at=None) -> list[Alert]:
    """Create an alert for each finding not raised before; returns the new alerts.

    1. Drop findings whose dedup key exists (one query); the unique key also guards
       against a race between two workers (ignore_conflicts).
    2. Insert the alerts and their first step in bulk; one audit entry for the batch.
    3. Climb the ladder for yellow and red cards; tell the organs after commit.
    """
    if not findings:
        return []
    at = at or timezone.now()
    keyed = {}
    for f in findings:
        keyed.setdefault(dedup_key(f), f)
    existing = set(Alert.objects.filter(dedup_key__in=list(keyed)).values_list("dedup_key", flat=True))
    fresh = {k: f for k, f in keyed.items() if k not in existing}
    if not fresh:
        return []
    alerts = [
        Alert(
            rule=f.rule, level=f.level, organ=f.organ, region_code=f.organ.region_code,
            subject_type=ContentType.objects.get_for_model(f.subject) if f.subject is not None else None,
            subject_id=getattr(f.subject, "pk", None), subject_label=str(f.subject)[:200] if f.subject is not None else "",
            clock=f.clock, message=f.message, evidence=f.evidence, legal_basis=f.legal_basis[:300],
            raised_at=at, dedup_key=k,
        )
        for k, f in fresh.items()
    ]
    Alert.objects.bulk_create(alerts, ignore_conflicts=True, batch_size=1000)
    created = list(Alert.objects.filter(dedup_key__in=list(fresh), raised_at=at).select_related("organ"))
    AlertStep.objects.bulk_create(
        AlertStep(alert=a, kind=AlertStep.Kind.RAISE, to_status=AlertStatus.RAISED, at=at, actor_label="system",
                  text=a.message)
        for a in created
    )
    record("supervision.raise", object_type="supervision.alert", object_id=str(len(created)),
           object_repr=_("发现 %(n)d 条预警") % {"n": len(created)},
           changes={"alerts": [[a.pk, a.rule, a.level] for a in created][:500]})
    from . import actions  # the ladder's actions live with the other alert actions

    for alert in created:
        if alert.level == Level.YELLOW:
            actions.open_order_for(alert, at=at)
        elif alert.level == Level.RED:
            AccountabilityProposal.objects.get_or_create(
                alert=alert,
                defaults={"organ": alert.organ, "region_code": alert.region_code, "reason": alert.message,
                          "proposed_at": at},
            )
    _notify(created)
    return created


def _notify(alerts: list[Alert]) -> None:
    """One digest per organ per pass, to the organ's handlers and leaders."""
    from xiaoneng.notify.outbox import queue
    from xiaoneng.orgs.models import Grant, Role

    by_organ = defaultdict(list)
    for a in alerts:
        by_organ[a.organ_id].append(a)
    grants = Grant.objects.filter(organ_id__in=list(by_organ), role__in=[Role.HANDLER, Role.LEADER]).select_related("user")
    recipients = defaultdict(set)
    for g in grants:
        if g.user.email:
            recipients[g.organ_id].add(g.user.email)
    for organ_id, items in by_organ.items():
        counts = defaultdict(int)
        for a in items:
            counts[a.get_level_display()] += 1
        text = _("【电子监察】%(organ)s 新增：%(counts)s。请登录平台查看并作出情况说明。") % {
            "organ": items[0].organ.name, "counts": "，".join(f"{k}{v}条" for k, v in counts.items())
        }
        for to in sorted(recipients[organ_id]):
            queue(to=to, text=text, kind="supervision.digest", ref=str(organ_id), channel="email")


def _cases_of(clocks: list[Clock]) -> dict[int, object]:
    from xiaoneng.approvals.models import Case

    ct = ContentType.objects.get_for_model(Case)
    ids = {c.subject_id for c in clocks if c.subject_type_id == ct.pk}
    return {c.pk: c for c in Case.objects.filter(pk__in=ids).select_related("organ", "promise_clock", "legal_clock")}


def on_clock_events(events: list[ClockEvent]) -> None:
    """Monitoring-pass listener: every clock rule looks at every new event."""
    if not events:
        return
    rules = [r for r in load_all().values() if r.on_clock_event]
    clocks = [e.clock for e in events]
    cases = _cases_of(clocks)
    findings = []
    for event in events:
        case = cases.get(event.clock.subject_id) if event.clock.subject_id else None
        for r in rules:
            findings.extend(r.on_clock_event(event, event.clock, case) or [])
    raise_findings(findings, at=events[0].at)


def on_case_event(sender, case, event, **kwargs) -> None:
    rules = [r for r in load_all().values() if r.on_case_event]
    findings = []
    for r in rules:
        findings.extend(r.on_case_event(case, event.kind, event.data) or [])
    raise_findings(findings, at=event.at)


def early_completions(stopped) -> list[EarlyCompletion]:
    """Promise clocks stopped before their deadline, with the working days saved."""
    from xiaoneng.approvals.models import Case
    from xiaoneng.calendar.engine import current
    from xiaoneng.clocks.engine import local_date

    cal = current()
    candidates = [(c, at) for c, at in stopped
                  if c.kind == "case.promise" and c.due_at is not None and at < c.due_at and c.organ_id is not None]
    # Only a decision completes a case early; a refusal or a withdrawal stops the clock too.
    decided = set(Case.objects.filter(pk__in={c.subject_id for c, _at in candidates}, decided_at__isnull=False)
                  .values_list("pk", flat=True)) if candidates else set()
    rows = []
    for clock, at in candidates:
        if clock.subject_id not in decided:
            continue
        last_day = local_date(clock.due_at) - timezone.timedelta(days=1)
        rows.append(EarlyCompletion(clock=clock, organ_id=clock.organ_id, region_code=clock.region_code,
                                    working_days_saved=max(cal.working_days_between(local_date(at), last_day), 0), at=at))
    return rows


def on_clock_stopped(sender, clock, at, **kwargs) -> None:
    """Early completion of a promise is a positive figure, recorded, not an alert."""
    EarlyCompletion.objects.bulk_create(early_completions([(clock, at)]), ignore_conflicts=True)


def on_clocks_stopped(sender, stopped, **kwargs) -> None:
    """The same for a bulk writer's many stops, in one insert (the one-to-one key dedups)."""
    EarlyCompletion.objects.bulk_create(early_completions(stopped), ignore_conflicts=True, batch_size=1000)


def on_exchange_events(sender, events, **kwargs) -> None:
    """Exchange listener: data quality of what organs' own systems report."""
    rules = [r for r in load_all().values() if r.on_exchange]
    findings = []
    for r in rules:
        findings.extend(r.on_exchange(events) or [])
    raise_findings(findings)
