"""The appraisal period's transition table and its one guarded status writer.

open → closed (the year ended) → computed → provisional (each organ sees its own result and may
object within the objection window) → published (frozen). While provisional, an upheld objection
recomputes (provisional → computed → provisional again is not needed: recomputation keeps the
status). Nothing leaves `published`.
"""
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record

from .models import Period, PeriodStatus

S = PeriodStatus
TRANSITIONS: dict[str, set[str]] = {
    S.OPEN: {S.CLOSED},
    S.CLOSED: {S.COMPUTED},
    S.COMPUTED: {S.PROVISIONAL},
    S.PROVISIONAL: {S.PUBLISHED},
    S.PUBLISHED: set(),
}


class TransitionError(ValueError):
    def __init__(self, period: Period, to: str):
        self.period, self.to, self.field = period, to, "status"
        self.message = _("考评期“%(p)s”当前为“%(now)s”，不能变为“%(to)s”") % {
            "p": period, "now": S(period.status).label, "to": S(to).label}
        super().__init__(self.message)


def set_status(period: Period, to: str, *, fields: tuple[str, ...] = ()) -> None:
    if to not in TRANSITIONS[period.status]:
        raise TransitionError(period, to)
    before = period.status
    period.status = to
    period.save(update_fields=["status", *fields])
    record("appraisal.status", period, changes={"status": [before, to]})
