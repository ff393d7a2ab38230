"""Forms of the handling pages: list filters, one form per case action, the public look-up.

Every choice a filter offers comes from the user's scope (an organ or matter outside it
is an invalid choice, and the list then shows nothing). Each action form knows when
the case allows it (`available`), and calls exactly one function of `actions.py` in
`perform`; the view turns a `CaseError` or `TransitionError` into an error on the field
the action names, so a bad request is a message on the page, never a 500.
"""
from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xiaoneng.clocks.models import Clock
from xiaoneng.orgs import access
from xiaoneng.orgs.models import Organ
from xiaoneng.web.forms import RecordActionForm
from xiaoneng.web.lists import FilterForm, date_input, on_days

from . import actions
from .models import Case, Matter, MatterKind, Outcome, Status
from .risk import at_risk_q
from .workflow import can_change

# --- risk --------------------------------------------------------------------------------
RISK_CHOICES = [
    ("", _("全部")),
    ("at_risk", _("临近到期")),
    ("overdue", _("已超期")),
    ("on_time", _("未超期")),
]


def _late_clocks(now):
    """Clocks past their deadline: still open after it, or stopped after it."""
    return Clock.objects.filter(
        Q(state__in=[Clock.State.RUNNING, Clock.State.PAUSED], due_at__lte=now)
        | Q(state=Clock.State.STOPPED, stopped_at__gt=F("due_at"))
    )


def overdue_q(now) -> Q:
    """The case's (or, for a parallel application, a sub-case's) promised or legal limit has passed."""
    def late_decision_clock():
        return _late_clocks(now).filter(Q(pk=OuterRef("promise_clock_id")) | Q(pk=OuterRef("legal_clock_id")))

    subs = Case.objects.filter(parent=OuterRef("pk")).filter(Exists(late_decision_clock()))
    return Q(Exists(late_decision_clock())) | Q(Exists(subs))


# --- list filters ------------------------------------------------------------------------
class CaseFilterForm(FilterForm):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    organ = forms.ModelChoiceField(label=_("办理机关"), required=False, queryset=Organ.objects.none(),
                                   empty_label=_("全部机关"))
    matter = forms.ModelChoiceField(label=_("事项"), required=False, queryset=Matter.objects.none(),
                                    empty_label=_("全部事项"))
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *Status.choices])
    risk = forms.ChoiceField(label=_("时限"), required=False, choices=RISK_CHOICES)
    received_from = forms.DateField(label=_("收件日期自"), required=False, widget=date_input())
    received_to = forms.DateField(label=_("收件日期至"), required=False, widget=date_input())

    def __init__(self, data=None, *, user, perm: str):
        super().__init__(data)
        self.user, self.perm = user, perm
        visible = access.scoped(Case.objects.all(), user, perm)
        # Only organs that handle cases the user can see: a short menu even for a province.
        self.fields["organ"].queryset = (
            access.scoped(Organ.objects.all(), user, "org.view")
            .filter(Exists(visible.filter(organ=OuterRef("pk"))))
            .order_by("region_code", "name")
        )
        self.fields["matter"].queryset = access.scoped(Matter.objects.all(), user, perm).order_by("code")
        self.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": _("办件编号或申请人"), "autocomplete": "off"}
        )

    def clean(self):
        data = super().clean()
        if data.get("received_from") and data.get("received_to") and data["received_to"] < data["received_from"]:
            self.add_error("received_to", _("结束日期早于开始日期"))
        return data

    def filter(self, queryset):
        data, now = self.cleaned_data, timezone.now()
        text = data["q"].strip()
        if text:
            queryset = queryset.filter(Q(case_no__icontains=text) | Q(applicant_name__icontains=text))
        if data["organ"]:
            queryset = queryset.filter(organ=data["organ"])
        if data["matter"]:
            queryset = queryset.filter(matter_version__matter=data["matter"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["risk"] == "overdue":
            queryset = queryset.filter(overdue_q(now))
        elif data["risk"] == "at_risk":
            queryset = queryset.filter(at_risk_q(now)).exclude(overdue_q(now))
        elif data["risk"] == "on_time":
            queryset = queryset.exclude(at_risk_q(now)).exclude(overdue_q(now))
        queryset = on_days(queryset, "received_at", data.get("received_from"), data.get("received_to"))
        # A sub-case whose application is in the same result is shown under it, not twice.
        return queryset.exclude(parent_id__in=queryset.values("pk"))


PARALLEL_CHOICES = [("", _("全部")), ("yes", _("并联审批")), ("no", _("非并联"))]


class MatterFilterForm(FilterForm):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    organ = forms.ModelChoiceField(label=_("实施机关"), required=False, queryset=Organ.objects.none(),
                                   empty_label=_("全部机关"))
    kind = forms.ChoiceField(label=_("事项类型"), required=False, choices=[("", _("全部类型")), *MatterKind.choices])
    parallel = forms.ChoiceField(label=_("并联审批"), required=False, choices=PARALLEL_CHOICES)

    def __init__(self, data=None, *, user, perm: str):
        super().__init__(data)
        visible = access.scoped(Matter.objects.all(), user, perm)
        self.fields["organ"].queryset = (
            access.scoped(Organ.objects.all(), user, "org.view")
            .filter(Exists(visible.filter(organ=OuterRef("pk"))))
            .order_by("region_code", "name")
        )
        self.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": _("事项编码或名称"), "autocomplete": "off"}
        )

    def filter(self, queryset):
        data = self.cleaned_data
        text = data["q"].strip()
        if text:
            queryset = queryset.filter(Q(code__icontains=text) | Q(name__icontains=text))
        if data["organ"]:
            queryset = queryset.filter(organ=data["organ"])
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        if data["parallel"] == "yes":
            queryset = queryset.filter(current__is_parallel=True)
        elif data["parallel"] == "no":
            queryset = queryset.filter(current__is_parallel=False)
        return queryset


# --- case actions ------------------------------------------------------------------------
# Names the actions use in CaseError.field that are not form fields, in words.
FIELD_WORDS = {
    "status": _("办件状态"),
    "at": _("时间"),
    "step": _("办理环节"),
    "approver": _("批准人"),
}

SPECIAL_PROCEDURES = [
    ("听证", _("听证")),
    ("招标", _("招标")),
    ("拍卖", _("拍卖")),
    ("检验", _("检验")),
    ("检测", _("检测")),
    ("检疫", _("检疫")),
    ("鉴定", _("鉴定")),
    ("专家评审", _("专家评审")),
]


def _text(label, *, required=True, rows=3, max_length=2000, help_text=""):
    return forms.CharField(label=label, required=required, max_length=max_length, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


def current_step(case: Case):
    """The step in progress, if any (a CaseStep with its MatterStep), from a prefetched list if given."""
    steps = getattr(case, "_xn_steps", None)
    if steps is None:
        steps = list(case.steps.select_related("step").order_by("step__order"))
    return next((s for s in steps if s.completed_at is None), None)


class ActionForm(RecordActionForm):
    """One action on a case. Subclasses set `action`, `title`, the fields and `perform`."""

    def __init__(self, *args, case: Case, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.case, self.user = case, user

    field_words = FIELD_WORDS


def _top_level(case):
    return case.parent_id is None


class CorrectionForm(ActionForm):
    action, title = "correction", _("一次性告知补正")
    items = _text(_("需补正的材料"), rows=4, help_text=_("每行一项；必须一次性列明全部需要补正的内容"))

    @classmethod
    def available(cls, case):
        return _top_level(case) and can_change(case, Status.CORRECTION_REQUESTED)

    def perform(self, case):
        lines = [line.strip() for line in self.cleaned_data["items"].splitlines() if line.strip()]
        return actions.do_request_correction(case, items=lines)


class CorrectedForm(ActionForm):
    action, title = "corrected", _("材料已补正")

    @classmethod
    def available(cls, case):
        return _top_level(case) and can_change(case, Status.CORRECTED)

    def perform(self, case):
        return actions.do_mark_corrected(case)


class AcceptForm(ActionForm):
    action, title = "accept", _("受理")

    @classmethod
    def available(cls, case):
        return _top_level(case) and case.status in (Status.SUBMITTED, Status.CORRECTED)

    def perform(self, case):
        return actions.do_accept_case(case)


class RefuseForm(ActionForm):
    action, title, danger = "refuse", _("不予受理"), True
    reasons = _text(_("不予受理理由"))

    @classmethod
    def available(cls, case):
        return _top_level(case) and can_change(case, Status.REFUSED)

    def perform(self, case):
        return actions.do_refuse_case(case, reasons=self.cleaned_data["reasons"])


class StepForm(ActionForm):
    action, title = "step", _("办结当前环节")
    step = forms.CharField(label=_("办理环节"), widget=forms.HiddenInput, max_length=60)
    handler = forms.CharField(label=_("经办人"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = current_step(self.case)
        self.current = current
        if current is not None:
            self.fields["step"].initial = str(current.step.order)
            self.title = _("办结当前环节：%(name)s") % {"name": current.step.name}
        if self.user is not None:
            self.fields["handler"].initial = getattr(self.user, "display_name", "") or self.user.get_username()

    @classmethod
    def available(cls, case):
        return case.status == Status.ACCEPTED and current_step(case) is not None

    def perform(self, case):
        return actions.do_complete_step(case, step=self.cleaned_data["step"], handler=self.cleaned_data["handler"])


class SuspendForm(ActionForm):
    action, title = "suspend", _("进入特别程序（暂停计时）")
    reason = forms.ChoiceField(label=_("特别程序"), choices=SPECIAL_PROCEDURES)
    legal_basis = forms.CharField(label=_("法律依据"), max_length=200, initial=_("《行政许可法》第四十五条"))
    announced_days = forms.IntegerField(label=_("书面告知所需天数"), min_value=1, max_value=365)

    @classmethod
    def available(cls, case):
        return can_change(case, Status.SUSPENDED)

    def perform(self, case):
        data = self.cleaned_data
        return actions.do_suspend_case(case, reason=data["reason"], legal_basis=data["legal_basis"],
                                       announced_days=data["announced_days"])


class ResumeForm(ActionForm):
    action, title = "resume", _("特别程序结束，恢复计时")

    @classmethod
    def available(cls, case):
        return case.status == Status.SUSPENDED

    def perform(self, case):
        return actions.do_resume_case(case)


class ExtendForm(ActionForm):
    """The handler asks; the organ's leader approves in the platform with their own account
    (xiaoneng.inbox), and only then is `actions.do_extend_case` applied, with the leader as approver."""

    action, title = "extend", _("申请延长办理时限")
    days = forms.IntegerField(label=_("延长工作日数"), min_value=1)
    reasons = _text(_("延长理由（将告知申请人）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        v = self.case.matter_version
        maximum = v.joint_extension_max if self.case.is_parallel else v.extension_max
        self.fields["days"].max_value = maximum
        self.fields["days"].validators.append(MaxValueValidator(maximum))
        self.fields["days"].widget.attrs["max"] = maximum
        self.fields["days"].help_text = _("最多 %(max)d 个工作日，只能延长一次") % {"max": maximum}

    @classmethod
    def available(cls, case):
        from xiaoneng.inbox.models import ExtensionRequest

        return (_top_level(case) and case.status in (Status.ACCEPTED, Status.SUSPENDED) and not case.extended
                and not ExtensionRequest.objects.filter(case=case, state=ExtensionRequest.State.PENDING).exists())

    def perform(self, case):
        from xiaoneng.inbox.actions import InboxError, do_request_extension

        data = self.cleaned_data
        try:
            return do_request_extension(case, days=data["days"], reasons=data["reasons"], requested_by=self.user)
        except InboxError as exc:  # shown on the field it names, like the case's own errors
            raise actions.CaseError(exc.message, exc.field) from exc


class DecideForm(ActionForm):
    action, title = "decide", _("作出决定")
    outcome = forms.ChoiceField(label=_("决定"), choices=Outcome.choices, widget=forms.RadioSelect)
    reasons = _text(_("理由"), required=False, help_text=_("不予许可必须说明理由"))

    @classmethod
    def available(cls, case):
        return can_change(case, Status.DECIDED)

    def clean(self):
        data = super().clean()
        if data.get("outcome") == Outcome.DENIED and not (data.get("reasons") or "").strip():
            self.add_error("reasons", _("不予许可必须说明理由"))
        return data

    def perform(self, case):
        return actions.do_decide_case(case, outcome=self.cleaned_data["outcome"], reasons=self.cleaned_data["reasons"],
                                      require_steps_done=True)


class CertificateForm(ActionForm):
    action, title = "certificate", _("送达许可证件")

    @classmethod
    def available(cls, case):
        return _top_level(case) and case.outcome == Outcome.GRANTED and can_change(case, Status.CERTIFIED)

    def perform(self, case):
        return actions.do_issue_certificate(case)


class CloseForm(ActionForm):
    action, title = "close", _("办结")

    @classmethod
    def available(cls, case):
        return can_change(case, Status.CLOSED)

    def perform(self, case):
        return actions.do_close_case(case)


class WithdrawForm(ActionForm):
    action, title, danger = "withdraw", _("申请人撤回申请"), True
    reason = forms.CharField(label=_("撤回说明"), max_length=500, required=False, initial=_("申请人申请撤回"))

    @classmethod
    def available(cls, case):
        return _top_level(case) and can_change(case, Status.WITHDRAWN)

    def perform(self, case):
        return actions.do_withdraw_case(case, reason=self.cleaned_data["reason"])


class FeeForm(ActionForm):
    action, title = "fee", _("登记收费")
    amount = forms.DecimalField(label=_("收费金额（元）"), min_value=0, max_digits=12, decimal_places=2)

    @classmethod
    def available(cls, case):
        return case.is_open()

    def perform(self, case):
        return actions.do_charge_fee(case, amount=self.cleaned_data["amount"], refuse_irregular=True)


ACTION_FORMS: dict[str, type[ActionForm]] = {
    form.action: form
    for form in (
        CorrectionForm, CorrectedForm, AcceptForm, RefuseForm, StepForm, SuspendForm, ResumeForm,
        ExtendForm, DecideForm, CertificateForm, CloseForm, WithdrawForm, FeeForm,
    )
}


# --- public look-up ----------------------------------------------------------------------
class LookupForm(forms.Form):
    case_no = forms.CharField(label=_("办件编号"), max_length=64)
    code = forms.CharField(label=_("查询码"), max_length=12, help_text=_("收件时短信告知的6位查询码"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_no"].widget.attrs.update({"autocomplete": "off", "autocapitalize": "characters",
                                                    "spellcheck": "false"})
        self.fields["code"].widget.attrs.update({"autocomplete": "one-time-code", "inputmode": "numeric"})
