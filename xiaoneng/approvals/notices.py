"""What the applicant is told at each key step, through the notification outbox."""
from django.utils.translation import gettext as _

from xiaoneng.notify.outbox import queue

TEXTS = {
    "submitted": lambda c, d: _("【效能】您的申请已收件，办件编号 %(no)s，查询码 %(code)s。") % {"no": c.case_no, "code": d["code"]},
    "correction_requested": lambda c, d: _("【效能】办件 %(no)s 需一次性补正以下材料：%(items)s。")
    % {"no": c.case_no, "items": "；".join(d["items"])},
    "accepted": lambda c, d: _("【效能】办件 %(no)s 已受理。") % {"no": c.case_no},
    "refused": lambda c, d: _("【效能】办件 %(no)s 不予受理，理由：%(reasons)s。") % {"no": c.case_no, "reasons": d["reasons"]},
    "suspended": lambda c, d: _("【效能】办件 %(no)s 进入%(reason)s程序，预计需要 %(days)d 天，期间不计入办理时限。")
    % {"no": c.case_no, "reason": d["reason"], "days": d["days"]},
    "extended": lambda c, d: _("【效能】办件 %(no)s 经批准延长 %(days)d 个工作日，理由：%(reasons)s。")
    % {"no": c.case_no, "days": d["days"], "reasons": d["reasons"]},
    "decided": lambda c, d: (
        _("【效能】办件 %(no)s 已准予许可。") % {"no": c.case_no}
        if d["outcome"] == "granted"
        else _("【效能】办件 %(no)s 不予许可，理由：%(reasons)s。") % {"no": c.case_no, "reasons": d["reasons"]}
    ),
    "certified": lambda c, d: _("【效能】办件 %(no)s 的证件已送达。") % {"no": c.case_no},
}


def tell_applicant(case, kind: str, **data) -> None:
    if case.parent_id:  # sub-cases of a parallel application are told through the application
        return
    queue(to=case.applicant_phone, text=TEXTS[kind](case, data), kind=f"case.{kind}", ref=case.case_no)
