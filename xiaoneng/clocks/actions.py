"""Every state change of a clock: start, pause, resume, extend, stop.

Each action runs in a transaction, re-derives `warn_at`/`due_at` from scratch (so the
stored values always equal what `derive()` says), and writes one audit entry. Callers
(case and complaint workflows, the admin, commands) never touch the fields themselves.
"""
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record

from . import engine
from .explain import deadline_label
from .models import Clock, ClockExtension, ClockPause, Unit
from .signals import clock_stopped


class ClockError(ValueError):
    """A clock action that the clock's state or the law does not allow."""


def _require_aware(moment: datetime, field: str) -> None:
    if timezone.is_naive(moment):
        raise ClockError(_("%(field)s 缺少时区，请使用带时区的时间") % {"field": field})


@transaction.atomic
def do_start_clock(*, kind: str, start_at: datetime, limit: int, unit: str = "working", subject=None,
                   organ=None, label: str = "", legal_basis: str = "", region_code: str = "",
                   start_reason: str = "") -> Clock:
    """Start a clock; `region_code` places an organ-less clock (e.g. awaiting routing); `start_reason`
    (Clock.StartReason) says why it starts before the act it counts from (a deemed acceptance)."""
    _require_aware(start_at, "start_at")
    if limit < 0:
        raise ClockError(_("时限不能为负数"))
    if unit not in Unit.values:
        raise ClockError(_("时限单位无效：%(unit)s") % {"unit": unit})
    if start_reason not in Clock.StartReason.values:
        raise ClockError(_("起算说明无效：%(reason)s") % {"reason": start_reason})
    clock = Clock(
        kind=kind,
        label=label,
        start_at=start_at,
        limit=limit,
        unit=unit,
        legal_basis=legal_basis,
        start_reason=start_reason,
        organ=organ,
        region_code=organ.region_code if organ else region_code,
    )
    if subject is not None:
        clock.subject_type = ContentType.objects.get_for_model(subject)
        clock.subject_id = subject.pk
    engine.apply(clock, engine.derive(clock))
    clock.save()
    record("clock.start", clock, changes={"limit": limit, "unit": unit, "due_at": clock.due_at})
    return clock


def _locked(clock: Clock) -> Clock:
    return Clock.objects.select_for_update().get(pk=clock.pk)


@transaction.atomic
def do_pause_clock(clock: Clock, *, at: datetime, reason: str, legal_basis: str = "",
                   announced_days: int | None = None) -> ClockPause:
    """Stop counting from the day after `at` (Art. 45 special procedures)."""
    _require_aware(at, "at")
    clock = _locked(clock)
    if clock.state != Clock.State.RUNNING:
        raise ClockError(_("只有计时中的时限可以暂停（当前：%(state)s）") % {"state": clock.get_state_display()})
    if not reason.strip():
        raise ClockError(_("暂停必须说明原因"))
    if at < clock.start_at:
        raise ClockError(_("暂停时间早于起算时间"))
    pause = ClockPause.objects.create(
        clock=clock, started_at=at, reason=reason, legal_basis=legal_basis, announced_days=announced_days
    )
    clock.state = Clock.State.PAUSED
    clock.save(update_fields=["state"])
    engine.refresh(clock)
    record("clock.pause", clock, changes={"reason": reason, "legal_basis": legal_basis, "at": at})
    return pause


@transaction.atomic
def do_resume_clock(clock: Clock, *, at: datetime) -> Clock:
    _require_aware(at, "at")
    clock = _locked(clock)
    pause = clock.pauses.filter(ended_at__isnull=True).order_by("-started_at").first()
    if clock.state != Clock.State.PAUSED or pause is None:
        raise ClockError(_("时限未处于暂停状态"))
    if at < pause.started_at:
        raise ClockError(_("恢复时间早于暂停时间"))
    pause.ended_at = at
    pause.save(update_fields=["ended_at"])
    clock.state = Clock.State.RUNNING
    clock.save(update_fields=["state"])
    engine.refresh(clock)
    record("clock.resume", clock, changes={"at": at, "due_at": clock.due_at})
    return clock


def ended_before(clock: Clock, at: datetime) -> bool:
    """Whether the clock's period had already run out at `at` (a paused clock's has not: it stands still)."""
    return clock.due_at is not None and at > clock.due_at


@transaction.atomic
def do_extend_clock(clock: Clock, *, days: int, reason: str, approver=None, approver_name: str = "",
                    at: datetime | None = None, max_total: int | None = None) -> ClockExtension:
    """Add `days` after the original limit; `max_total` caps all extensions together.

    An extension must be approved within the period it extends (行政许可法 Art. 42: "cannot decide
    within the 20 days"): one approved after the deadline would move it and make a breach vanish."""
    at = at or timezone.now()
    _require_aware(at, "at")
    clock = _locked(clock)
    if clock.state == Clock.State.STOPPED:
        raise ClockError(_("已停止的时限不能延长"))
    if days <= 0:
        raise ClockError(_("延长天数必须为正数"))
    if not reason.strip():
        raise ClockError(_("延长必须说明理由"))
    name = approver_name or (str(approver) if approver else "")
    if not name:
        raise ClockError(_("延长必须有批准人"))
    if max_total is not None and clock.extension_days + days > max_total:
        raise ClockError(
            _("延长后共 %(total)d 日，超过法定上限 %(max)d 日") % {"total": clock.extension_days + days, "max": max_total}
        )
    if ended_before(clock, at):
        raise ClockError(_("期限已于 %(due)s 届满，届满后不能再延长（延长须在期限届满前批准）")
                         % {"due": deadline_label(clock.due_at)})
    ext = ClockExtension.objects.create(
        clock=clock, days=days, reason=reason, approver=approver, approver_name=name, at=at
    )
    clock.extension_days += days
    clock.save(update_fields=["extension_days"])
    engine.refresh(clock)
    record("clock.extend", clock, changes={"days": days, "reason": reason, "approver": name, "due_at": clock.due_at})
    return ext


@transaction.atomic
def do_stop_clock(clock: Clock, *, at: datetime) -> Clock:
    _require_aware(at, "at")
    clock = _locked(clock)
    if clock.state == Clock.State.STOPPED:
        return clock  # stopping twice (a replayed event) changes nothing
    open_pause = clock.pauses.filter(ended_at__isnull=True).first()
    if open_pause:
        open_pause.ended_at = max(at, open_pause.started_at)
        open_pause.save(update_fields=["ended_at"])
    clock.state = Clock.State.STOPPED
    clock.stopped_at = at
    clock.next_check_at = None
    clock.save(update_fields=["state", "stopped_at", "next_check_at"])
    record("clock.stop", clock, changes={"at": at, "overdue": clock.is_overdue(at)})
    clock_stopped.send(sender=Clock, clock=clock, at=at)
    return clock
