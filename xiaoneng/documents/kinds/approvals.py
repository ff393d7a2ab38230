"""The notices and decisions of an approval case (行政许可法), in the applicant's hands.

The wording follows the articles it rests on; a decision that refuses says how to
challenge it (行政复议法 Art. 20: 60 days; 行政诉讼法 Art. 46: six months).
"""
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaoneng.approvals.models import CaseEvent, Outcome, Status
from xiaoneng.clocks.explain import deadline_label
from xiaoneng.orgs import access

from . import SUBJECTS, Content, DocumentKind, Subject, register


def _load_case(user, pk):
    from xiaoneng.approvals.models import Case

    qs = Case.objects.select_related("matter_version__matter", "organ", "legal_clock")
    return access.get_scoped_or_404(qs, user, "case.view", pk=pk)


def _may_issue(user, case) -> bool:
    from xiaoneng.approvals.views import may_act

    return may_act(user, case)


SUBJECTS["case"] = Subject(load=_load_case, may_issue=_may_issue,
                           url=lambda case: reverse("approvals:case", args=[case.pk]))


def _day(moment) -> str:
    local = timezone.localtime(moment)
    return _("%(y)d年%(m)d月%(d)d日") % {"y": local.year, "m": local.month, "d": local.day}


def _appeal() -> str:
    return _("如不服本决定，可以自收到本文书之日起六十日内依法申请行政复议，或者在六个月内依法向人民法院提起行政诉讼。")


def _reasons(text: str) -> str:
    """Reasons as typed, without the full stop the sentence around them supplies."""
    return (text or "").strip().rstrip("。.；;")


def _latest(case, kind):
    return case.events.filter(kind=kind).order_by("-at", "-pk").first()


class CaseKind(DocumentKind):
    subject_type = "case"
    perms = ("case.view",)

    def subject_label(self, case) -> str:
        return _("办件 %(no)s（%(matter)s）") % {"no": case.case_no, "matter": case.matter.name}

    def _opening(self, case) -> str:
        return _("你（单位）于%(day)s提出的%(matter)s申请（办件编号 %(no)s）") % {
            "day": _day(case.received_at), "matter": case.matter.name, "no": case.case_no}

    def _facts(self, case) -> list[tuple[str, str]]:
        return [(_("办件编号"), case.case_no), (_("申请事项"), case.matter.name),
                (_("收件时间"), f"{timezone.localtime(case.received_at):%Y-%m-%d %H:%M}")]


@register
class AcceptanceNotice(CaseKind):
    code = "case.accept"
    title = gettext_lazy("受理通知书")
    word = "受"
    legal_basis = gettext_lazy("《中华人民共和国行政许可法》第三十二条")

    def applies(self, case) -> bool:
        return case.accepted_at is not None

    def content(self, case) -> Content:
        version = case.matter_version
        if case.deemed_accepted:
            first = _("%(opening)s，本机关未在收到申请材料之日起五日内一次性告知需要补正的全部内容。根据《中华人民共和国"
                      "行政许可法》第三十二条第一款第（四）项的规定，自收到申请材料之日起即为受理。") % {
                "opening": self._opening(case)}
        else:
            first = _("%(opening)s，申请材料齐全、符合法定形式。根据《中华人民共和国行政许可法》第三十二条第一款第（五）项"
                      "的规定，本机关决定予以受理。") % {"opening": self._opening(case)}
        limits = _("本机关将自受理之日起%(legal)d个工作日内作出行政许可决定，并承诺在%(promised)d个工作日内办结。") % {
            "legal": version.legal_limit, "promised": version.promised_limit}
        facts = self._facts(case)
        facts.append((_("受理时间"), _day(case.received_at if case.deemed_accepted else case.accepted_at)))
        if case.legal_clock_id:
            facts.append((_("法定期限届满"), deadline_label(case.legal_clock.due_at)))
        return Content(addressee=case.applicant_name, paragraphs=[first, limits], facts=facts)


@register
class CorrectionNotice(CaseKind):
    code = "case.correction"
    title = gettext_lazy("补正材料告知书")
    word = "补"
    legal_basis = gettext_lazy("《中华人民共和国行政许可法》第三十二条第一款第（四）项")

    def applies(self, case) -> bool:
        return _latest(case, CaseEvent.Kind.CORRECTION) is not None

    def content(self, case) -> Content:
        event = _latest(case, CaseEvent.Kind.CORRECTION)
        first = _("%(opening)s，申请材料不齐全或者不符合法定形式。根据《中华人民共和国行政许可法》第三十二条第一款第（四）项"
                  "的规定，现一次性告知你（单位）需要补正的全部内容：") % {"opening": self._opening(case)}
        closing = [_("请按上述要求补正后提交。补正的申请材料齐全、符合法定形式的，本机关将予以受理。")]
        return Content(addressee=case.applicant_name, paragraphs=[first], items=list(event.data.get("items", [])),
                       closing=closing, facts=self._facts(case))


@register
class RefusalNotice(CaseKind):
    code = "case.refuse"
    title = gettext_lazy("不予受理通知书")
    word = "不受"
    legal_basis = gettext_lazy("《中华人民共和国行政许可法》第三十二条")

    def applies(self, case) -> bool:
        return case.status == Status.REFUSED

    def content(self, case) -> Content:
        first = _("%(opening)s，经审查，根据《中华人民共和国行政许可法》第三十二条第一款的规定，本机关决定不予受理。"
                  "理由：%(reasons)s") % {"opening": self._opening(case), "reasons": _reasons(case.reasons)}
        return Content(addressee=case.applicant_name, paragraphs=[first, _appeal()], facts=self._facts(case))


@register
class ExtensionNotice(CaseKind):
    code = "case.extend"
    title = gettext_lazy("延长办理期限告知书")
    word = "延"
    legal_basis = gettext_lazy("《中华人民共和国行政许可法》第四十二条")

    def applies(self, case) -> bool:
        return _latest(case, CaseEvent.Kind.EXTEND) is not None

    def subject_key(self, case) -> str:
        return f"case:{case.pk}:extend:{_latest(case, CaseEvent.Kind.EXTEND).pk}"

    def content(self, case) -> Content:
        event = _latest(case, CaseEvent.Kind.EXTEND)
        first = _("%(opening)s，因%(reasons)s，本机关不能在法定期限内作出决定。经本机关负责人批准，根据《中华人民共和国"
                  "行政许可法》第四十二条第一款的规定，办理期限延长%(days)d个工作日。") % {
            "opening": self._opening(case), "reasons": _reasons(event.data.get("reasons", "")), "days": event.data.get("days", 0)}
        facts = self._facts(case)
        facts.append((_("批准人"), event.data.get("approver", "")))
        if case.legal_clock_id:
            facts.append((_("延长后期限届满"), deadline_label(case.legal_clock.due_at)))
        return Content(addressee=case.applicant_name, paragraphs=[first], facts=facts)


@register
class SuspensionNotice(CaseKind):
    code = "case.suspend"
    title = gettext_lazy("特别程序告知书")
    word = "特"
    legal_basis = gettext_lazy("《中华人民共和国行政许可法》第四十五条")

    def applies(self, case) -> bool:
        return _latest(case, CaseEvent.Kind.SUSPEND) is not None

    def subject_key(self, case) -> str:
        return f"case:{case.pk}:suspend:{_latest(case, CaseEvent.Kind.SUSPEND).pk}"

    def content(self, case) -> Content:
        event = _latest(case, CaseEvent.Kind.SUSPEND)
        basis = event.data.get("legal_basis") or _("《中华人民共和国行政许可法》第四十五条")
        first = _("%(opening)s，需要进行%(reason)s（依据：%(basis)s），预计需要%(days)d日。根据《中华人民共和国行政许可法》"
                  "第四十五条的规定，所需时间不计算在行政许可期限内，特此书面告知。") % {
            "opening": self._opening(case), "reason": event.data.get("reason", ""), "basis": basis,
            "days": event.data.get("announced_days", 0)}
        facts = self._facts(case)
        facts.append((_("开始时间"), _day(event.at)))
        return Content(addressee=case.applicant_name, paragraphs=[first], facts=facts)


@register
class GrantDecision(CaseKind):
    code = "case.grant"
    title = gettext_lazy("准予行政许可决定书")
    word = "许"
    legal_basis = gettext_lazy("《中华人民共和国行政许可法》第三十八条第一款、第四十四条")

    def applies(self, case) -> bool:
        return case.outcome == Outcome.GRANTED

    def content(self, case) -> Content:
        first = _("%(opening)s，经审查，符合法定条件、标准。根据《中华人民共和国行政许可法》第三十八条第一款的规定，"
                  "本机关决定准予行政许可。") % {"opening": self._opening(case)}
        second = _("本机关将自作出决定之日起十日内向你（单位）颁发、送达行政许可证件。")
        facts = self._facts(case)
        facts.append((_("决定时间"), _day(case.decided_at)))
        return Content(addressee=case.applicant_name, paragraphs=[first, second], facts=facts)


@register
class DenialDecision(CaseKind):
    code = "case.deny"
    title = gettext_lazy("不予行政许可决定书")
    word = "不许"
    legal_basis = gettext_lazy("《中华人民共和国行政许可法》第三十八条第二款")

    def applies(self, case) -> bool:
        return case.outcome == Outcome.DENIED

    def content(self, case) -> Content:
        first = _("%(opening)s，经审查，不符合法定条件、标准，理由：%(reasons)s。根据《中华人民共和国行政许可法》第三十八条"
                  "第二款的规定，本机关决定不予行政许可。") % {"opening": self._opening(case), "reasons": _reasons(case.reasons)}
        facts = self._facts(case)
        facts.append((_("决定时间"), _day(case.decided_at)))
        return Content(addressee=case.applicant_name, paragraphs=[first, _appeal()], facts=facts)
