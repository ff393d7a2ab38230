"""Irregularities found in what a case records, as it is recorded: a suspension without
a legal basis, a fee above the standard or on a free matter, an extension approved after
the period it would extend had ended (an organ's system reported it; it extends nothing)."""
from dataclasses import replace
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from . import Finding, Rule, register
from .exchange_quality import RULES as EXCHANGE_RULES


def _flagged(kind, data) -> bool:
    """Whether the event records an irregularity (read from the event alone, without its case)."""
    if kind == "suspend":
        return not (data.get("legal_basis") or "").strip()
    if kind == "extend":
        return bool(data.get("late"))
    return kind == "fee" and bool(data.get("over_standard"))


def check(case, kind, data):
    if not _flagged(kind, data):
        return []
    if kind == "extend":
        return [Finding(LATE_EXTENSION.code, LATE_EXTENSION.level, case.organ, case,
                        _("办件 %(no)s 的法定办理期限已于 %(due)s 届满，届满后才批准延长 %(days)s 个工作日"
                          "（%(approver)s）；延长须在期限届满前批准，本次延长不产生效力，办件仍按原期限计为超期。")
                        % {"no": case.case_no, "due": data.get("due", ""), "days": data.get("days", ""),
                           "approver": data.get("approver", "")},
                        LATE_EXTENSION.legal_basis, dict(data),
                        key=f"extend-late:{data.get('due')}:{data.get('days')}:{data.get('approver')}")]
    if kind == "suspend":
        return [Finding(SUSPEND.code, SUSPEND.level, case.organ, case,
                        _("办件 %(no)s 进入特别程序（%(reason)s）但未写明法律依据。") % {"no": case.case_no, "reason": data.get("reason", "")},
                        SUSPEND.legal_basis, dict(data), key=f"suspend{data.get('announced_days')}:{data.get('reason')}")]
    total, standard = Decimal(str(data.get("total", 0))), Decimal(str(data.get("standard", 0)))
    message = (
        _("办件 %(no)s 属不收费事项，却收取 %(total)s 元。") % {"no": case.case_no, "total": total}
        if data.get("free_matter")
        else _("办件 %(no)s 收费 %(total)s 元，超过收费标准 %(standard)s 元（超出 %(over)s 元）。")
        % {"no": case.case_no, "total": total, "standard": standard, "over": total - standard}
    )
    return [Finding(FEE.code, FEE.level, case.organ, case, message, FEE.legal_basis, dict(data), key=f"fee{total}")]


def check_many(events):
    """`check` for a batch of case events: only the few flagged events need their case (one query)."""
    from xiaoneng.approvals.models import Case

    flagged = [e for e in events if _flagged(e.kind, e.data)]
    if not flagged:
        return []
    cases = Case.objects.select_related("organ").in_bulk({e.case_id for e in flagged})
    return [replace(f, at=e.at) for e in flagged for f in check(cases[e.case_id], e.kind, e.data)]


SUSPEND = register(Rule("suspension_without_basis", _l("特别程序无法律依据"), "yellow", "《行政许可法》第四十五条",
                        on_case_event=check, on_case_events=check_many,
                        case_kinds=frozenset({"suspend", "fee", "extend"})))
# 延长不合规定 (《行政许可法》第四十二条), the rule the inbox's refused extensions raise too.
LATE_EXTENSION = EXCHANGE_RULES["extension_irregular"]
FEE = register(Rule("fee_above_standard", _l("超标准收费"), "yellow", "《行政许可法》第五十八条、第五十九条"))
