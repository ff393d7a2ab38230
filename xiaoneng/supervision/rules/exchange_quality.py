"""What organs' own systems report: late reporting (数据迟报), process anomalies (steps
missing or in an impossible order, events that never found their predecessors), and
acts the law forbids that a system reported as done — a refusal or denial without
reasons, an extension beyond the maximum, without an approver, or a second one. The
inbox rejects such events with the field and reason; this rule turns each into an alert
for the organ, so the irregularity is supervised and not merely bounced."""
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from xiaoneng.conf import rule as conf_rule

from . import Finding, Rule, register

IRREGULAR = {
    ("refused", "reasons"): "refusal_without_reasons",
    ("decided", "reasons"): "refusal_without_reasons",
    ("extended", "days"): "extension_irregular",
    ("extended", "approver"): "extension_irregular",
    ("extended", "reasons"): "extension_irregular",
}
ANOMALY_FIELDS = {"step", "status"}
NOTEWORTHY_STATES = frozenset({"rejected", "expired"})


def _organs(events):
    from xiaoneng.orgs.models import Organ

    codes = {e.organ_code for e in events if e.organ_code}
    # What a finding reads of its organ (the alert's organ and region, the digest's name).
    return {o.credit_code: o for o in Organ.objects.filter(credit_code__in=codes)
            .only("id", "credit_code", "name", "region_code").order_by()}


def _cases(events):
    from xiaoneng.approvals.models import Case

    nos = {e.case_no for e in events if e.case_no}
    # A case is only the subject here: its id and its label (the case number).
    return {c.case_no: c for c in Case.objects.filter(case_no__in=nos).only("id", "case_no").order_by()}


def check(events):
    late_after = int(conf_rule("exchange_late_hours")) * 3600
    # Only the few events that can give a finding below need their organ and case (one pass, inlined:
    # a batch has a thousand events).
    events = [e for e in events if e.state in NOTEWORTHY_STATES or (e.lag_seconds or 0) > late_after]
    if not events:
        return []
    organs, cases = _organs(events), _cases(events)
    findings = []
    for e in events:
        organ = organs.get(e.organ_code)
        if organ is None:
            continue
        subject = cases.get(e.case_no) or organ
        label = e.case_no or e.event_id
        if e.lag_seconds is not None and e.lag_seconds > late_after:
            findings.append(Finding(
                LATE.code, LATE.level, organ, subject,
                _("%(label)s 的“%(type)s”事件发生于 %(at)s，迟报 %(hours).1f 小时（规定 %(limit)d 小时内报送）。") % {
                    "label": label, "type": e.type, "at": e.occurred_at, "hours": e.lag_seconds / 3600,
                    "limit": late_after // 3600},
                LATE.legal_basis, {"event_id": e.event_id, "lag_seconds": e.lag_seconds}, key=f"late:{e.source_id}:{e.event_id}"))
        if e.state == "rejected" and (e.type, e.error_field) in IRREGULAR:
            r = RULES[IRREGULAR[(e.type, e.error_field)]]
            findings.append(Finding(
                r.code, r.level, organ, subject,
                _("%(label)s：业务系统报送的“%(type)s”不合规定：%(reason)s") % {"label": label, "type": e.type, "reason": e.error_reason},
                r.legal_basis, {"event_id": e.event_id, "field": e.error_field}, key=f"irr:{e.source_id}:{e.event_id}"))
        elif e.state in ("rejected", "expired") and (e.error_field in ANOMALY_FIELDS or e.state == "expired"):
            findings.append(Finding(
                ANOMALY.code, ANOMALY.level, organ, subject,
                _("%(label)s 流程异常：“%(type)s”%(reason)s") % {"label": label, "type": e.type,
                                                            "reason": e.error_reason or _("长时间等不到前序事件")},
                ANOMALY.legal_basis, {"event_id": e.event_id, "state": e.state}, key=f"anomaly:{e.source_id}:{e.event_id}"))
    return findings


LATE = register(Rule("late_report", _l("数据迟报"), "warning", "电子监察数据报送规范", on_exchange=check))
ANOMALY = register(Rule("process_anomaly", _l("流程异常"), "warning", "电子监察数据报送规范"))
RULES = {
    "refusal_without_reasons": register(Rule("refusal_without_reasons", _l("不予受理/不予许可未说明理由"), "yellow",
                                             "《行政许可法》第三十二条、第三十八条")),
    "extension_irregular": register(Rule("extension_irregular", _l("延长不合规定"), "yellow", "《行政许可法》第四十二条")),
}
