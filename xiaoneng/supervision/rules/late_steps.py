"""Late intermediate deadlines: a step overdue although the case as a whole is not, a
correction notice later than 5 days (Art. 32), a first review forwarded late (Art. 43),
a certificate later than 10 days after the decision (Art. 44)."""
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from xiaoneng.clocks.models import ClockEvent

from . import OVERDUE, Finding, Rule, register
from ._common import due_text, evidence, organ_of


def _finding(rule, clock, case, message, at):
    return [Finding(rule.code, rule.level, organ_of(clock, case), case or clock, message, rule.legal_basis,
                    evidence(clock), clock, key=f"clock{clock.pk}")]


def check(event, clock, case):
    if event.kind != ClockEvent.Kind.OVERDUE:
        return []
    label = clock.label or clock.kind
    if clock.kind == "case.step":
        whole = case.promise_clock if case is not None else None
        if whole is not None and whole.due_at is not None and whole.due_at <= event.at:
            return []  # the case itself is overdue: that finding says it all
        return _finding(STEP, clock, case, _("%(label)s 环节超期（应于 %(due)s 前完成），办件整体尚未超期。")
                        % {"label": label, "due": due_text(clock)}, event.at)
    if clock.kind == "case.correction":
        return _finding(CORRECTION, clock, case, _("%(label)s：收到申请后 5 个工作日内未一次性告知补正（应于 %(due)s 前），依法自收到材料之日起视为受理。")
                        % {"label": label, "due": due_text(clock)}, event.at)
    if clock.kind == "case.first_review":
        return _finding(FIRST_REVIEW, clock, case, _("%(label)s：下级机关初审未在时限内报送（应于 %(due)s 前）。")
                        % {"label": label, "due": due_text(clock)}, event.at)
    if clock.kind == "case.certificate":
        return _finding(CERTIFICATE, clock, case, _("%(label)s：作出准予许可决定后未在 10 个工作日内颁发、送达证件（应于 %(due)s 前）。")
                        % {"label": label, "due": due_text(clock)}, event.at)
    return []


STEP = register(Rule("step_overdue", _l("环节超期"), "warning", "本机关办理流程", on_clock_event=check,
                     clock_events=OVERDUE))
CORRECTION = register(Rule("correction_late", _l("补正告知超期"), "yellow", "《行政许可法》第三十二条"))
FIRST_REVIEW = register(Rule("first_review_late", _l("初审报送超期"), "yellow", "《行政许可法》第四十三条"))
CERTIFICATE = register(Rule("certificate_late", _l("证件送达超期"), "yellow", "《行政许可法》第四十四条"))
