"""Irregularities found in what a case records, as it is recorded: a suspension without
a legal basis, a fee above the standard or on a free matter."""
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from . import Finding, Rule, register


def check(case, kind, data):
    if kind == "suspend" and not (data.get("legal_basis") or "").strip():
        return [Finding(SUSPEND.code, SUSPEND.level, case.organ, case,
                        _("办件 %(no)s 进入特别程序（%(reason)s）但未写明法律依据。") % {"no": case.case_no, "reason": data.get("reason", "")},
                        SUSPEND.legal_basis, dict(data), key=f"suspend{data.get('announced_days')}:{data.get('reason')}")]
    if kind == "fee" and data.get("over_standard"):
        total, standard = Decimal(str(data.get("total", 0))), Decimal(str(data.get("standard", 0)))
        message = (
            _("办件 %(no)s 属不收费事项，却收取 %(total)s 元。") % {"no": case.case_no, "total": total}
            if data.get("free_matter")
            else _("办件 %(no)s 收费 %(total)s 元，超过收费标准 %(standard)s 元（超出 %(over)s 元）。")
            % {"no": case.case_no, "total": total, "standard": standard, "over": total - standard}
        )
        return [Finding(FEE.code, FEE.level, case.organ, case, message, FEE.legal_basis, dict(data), key=f"fee{total}")]
    return []


SUSPEND = register(Rule("suspension_without_basis", _l("特别程序无法律依据"), "yellow", "《行政许可法》第四十五条",
                        on_case_event=check, case_kinds=frozenset({"suspend", "fee"})))
FEE = register(Rule("fee_above_standard", _l("超标准收费"), "yellow", "《行政许可法》第五十八条、第五十九条"))
