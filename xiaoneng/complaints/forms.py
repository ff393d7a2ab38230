"""Forms of the staff complaint pages: the list filter, the intake form, the reveal form
and one form per complaint action.

Every choice a form offers comes from the user's scope: an organ, region or complaint
outside it is an invalid choice (the list then shows nothing, an action is refused),
never a silent widening. Each action form says which role may use it (`roles`), when
the complaint allows it (`available`), and calls exactly one function of `actions.py`
in `perform`; the view turns a ComplaintError into an error on the field it names.
"""
from __future__ import annotations

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xiaoneng.clocks.models import Clock
from xiaoneng.conf import rule
from xiaoneng.orgs import access
from xiaoneng.orgs.models import Organ, Region
from xiaoneng.web.forms import RecordActionForm, place_action_error
from xiaoneng.web.lists import FilterForm, date_input, on_days

from . import actions, masking
from . import identity as ident
from .models import (
    Category,
    Channel,
    Complaint,
    ExtensionRequest,
    IdentityGrant,
    ReplyChannel,
    Result,
    Status,
)
from .workflow import can_change

VIEW_PERM = "complaint.view"

# --- list filter -------------------------------------------------------------------------
DEADLINE_CHOICES = [("", _("全部")), ("overdue", _("已超期")), ("near", _("临近到期"))]
YES_NO = [("", _("全部")), ("yes", _("是")), ("no", _("否"))]


def _open_clock(now) -> Q:
    return Q(state__in=[Clock.State.RUNNING, Clock.State.PAUSED])


def overdue_q(now) -> Q:
    """An open clock of the complaint (acceptance or handling) is past its deadline."""
    late = Clock.objects.filter(_open_clock(now), due_at__lt=now)
    return Q(Exists(late.filter(pk=OuterRef("acceptance_clock_id")))) | Q(
        Exists(late.filter(pk=OuterRef("handling_clock_id"))))


def near_q(now) -> Q:
    """An open clock has reached its warning time but not yet its deadline."""
    near = Clock.objects.filter(_open_clock(now), warn_at__lte=now, due_at__gte=now)
    return Q(Exists(near.filter(pk=OuterRef("acceptance_clock_id")))) | Q(
        Exists(near.filter(pk=OuterRef("handling_clock_id"))))


def scoped_regions(user, perm: str):
    return access.scoped(Region.objects.all(), user, perm).order_by("code")


class ComplaintFilterForm(FilterForm):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *Status.choices])
    channel = forms.ChoiceField(label=_("渠道"), required=False, choices=[("", _("全部渠道")), *Channel.choices])
    category = forms.ModelChoiceField(label=_("类别"), required=False, queryset=Category.objects.all(),
                                      empty_label=_("全部类别"))
    organ = forms.ModelChoiceField(label=_("承办机关"), required=False, queryset=Organ.objects.none(),
                                   empty_label=_("全部机关"))
    region = forms.ModelChoiceField(label=_("区划"), required=False, queryset=Region.objects.none(),
                                    empty_label=_("全部区划"))
    deadline = forms.ChoiceField(label=_("时限"), required=False, choices=DEADLINE_CHOICES)
    duplicate = forms.ChoiceField(label=_("疑似重复"), required=False, choices=YES_NO)
    anonymous = forms.ChoiceField(label=_("匿名"), required=False, choices=YES_NO)
    received_from = forms.DateField(label=_("登记日期自"), required=False, widget=date_input())
    received_to = forms.DateField(label=_("登记日期至"), required=False, widget=date_input())

    def __init__(self, data=None, *, user, perm: str = VIEW_PERM):
        super().__init__(data)
        visible = access.scoped(Complaint.objects.all(), user, perm)
        self.fields["organ"].queryset = (
            access.scoped(Organ.objects.all(), user, "org.view")
            .filter(Exists(visible.filter(organ=OuterRef("pk")))).order_by("region_code", "name")
        )
        self.fields["region"].queryset = scoped_regions(user, "org.view").filter(level__lte=4)
        self.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": _("投诉编号、标题或被投诉单位"), "autocomplete": "off"})

    def clean(self):
        data = super().clean()
        if data.get("received_from") and data.get("received_to") and data["received_to"] < data["received_from"]:
            self.add_error("received_to", _("结束日期早于开始日期"))
        return data

    def filter(self, queryset):
        data, now = self.cleaned_data, timezone.now()
        text = data["q"].strip()
        if text:
            # The title as the reader reads it (masking.title_search; the list annotates `texts_visible`).
            queryset = queryset.filter(Q(number__icontains=text) | masking.title_search(text)
                                       | Q(named_organ__icontains=text))
        for name in ("status", "channel"):
            if data[name]:
                queryset = queryset.filter(**{name: data[name]})
        if data["category"]:
            queryset = queryset.filter(category=data["category"])
        if data["organ"]:
            queryset = queryset.filter(organ=data["organ"])
        if data["region"]:
            queryset = queryset.filter(region_code__under=data["region"].prefix)
        if data["deadline"] == "overdue":
            queryset = queryset.filter(overdue_q(now))
        elif data["deadline"] == "near":
            queryset = queryset.filter(near_q(now)).exclude(overdue_q(now))
        if data["duplicate"]:
            queryset = queryset.filter(possible_duplicate__isnull=data["duplicate"] == "no")
        if data["anonymous"]:
            queryset = queryset.filter(anonymous=data["anonymous"] == "yes")
        queryset = on_days(queryset, "received_at", data.get("received_from"), data.get("received_to"))
        return queryset


# --- intake ------------------------------------------------------------------------------
INTAKE_CHANNELS = [(c.value, c.label) for c in Channel if c not in (Channel.OPEN311,)]
# What the source document is called on each channel that needs one (the page relabels the field).
SOURCE_REF_LABELS = {
    Channel.HOTLINE: _("热线工单号"),
    Channel.MEDIA: _("媒体与栏目"),
    Channel.INTERVIEW: _("访谈期次"),
    Channel.REFERRAL: _("转办文号"),
}
IDENTITY_FIELDS = ("name", "phone", "id_number", "address", "email")


class IntakeForm(forms.Form):
    """One form for every channel a registrar types in; the channel decides what is required."""

    channel = forms.ChoiceField(label=_("投诉渠道"), choices=INTAKE_CHANNELS)
    source_ref = forms.CharField(label=_("来源编号"), required=False, max_length=100,
                                 help_text=_("热线工单号、媒体与栏目、访谈期次或转办文号"))
    region = forms.ModelChoiceField(label=_("所属区划"), queryset=Region.objects.none())
    category = forms.ModelChoiceField(label=_("投诉类别"), queryset=Category.objects.filter(is_active=True))
    named_organ = forms.CharField(label=_("被投诉单位"), required=False, max_length=200)
    title = forms.CharField(label=_("标题"), max_length=200)
    content = forms.CharField(label=_("投诉内容"), widget=forms.Textarea(attrs={"rows": 6}))
    address_string = forms.CharField(label=_("事发地点"), required=False, max_length=200)
    anonymous = forms.BooleanField(label=_("匿名投诉"), required=False)
    name = forms.CharField(label=_("投诉人姓名"), required=False, max_length=50)
    phone = forms.CharField(label=_("联系电话"), required=False, max_length=30)
    id_number = forms.CharField(label=_("身份证号"), required=False, max_length=18)
    address = forms.CharField(label=_("通讯地址"), required=False, max_length=200)
    email = forms.CharField(label=_("电子邮件"), required=False, max_length=200)
    reply_channel = forms.ChoiceField(label=_("答复方式"), choices=ReplyChannel.choices, initial=ReplyChannel.PHONE)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = scoped_regions(user, "complaint.handle").filter(level__lte=4)
        self.fields["content"].max_length = int(rule("complaint_max_content_chars"))
        self.fields["source_ref"].widget.attrs["data-labels"] = "|".join(
            f"{key}={label}" for key, label in SOURCE_REF_LABELS.items())

    def clean(self):
        data = super().clean()
        channel = data.get("channel")
        if channel in SOURCE_REF_LABELS and not (data.get("source_ref") or "").strip():
            self.add_error("source_ref", _("%(what)s必填") % {"what": SOURCE_REF_LABELS[channel]})
        if data.get("anonymous"):
            for name in IDENTITY_FIELDS:  # an anonymous complaint keeps nothing of the person
                data[name] = ""
        return data

    def register(self) -> tuple[Complaint, str]:
        data = self.cleaned_data
        who = ident.Identity.of(**{name: data.get(name, "") for name in IDENTITY_FIELDS})
        return actions.do_register_complaint(
            channel=data["channel"], category=data["category"], title=data["title"], content=data["content"],
            region=data["region"], complainant=who, anonymous=data["anonymous"],
            reply_channel=data["reply_channel"], named_organ=data["named_organ"], source_ref=data["source_ref"],
            address_string=data["address_string"],
        )

    def add_action_error(self, exc: actions.ComplaintError) -> None:
        place_action_error(self, exc)


class RevealForm(forms.Form):
    purpose = forms.CharField(label=_("查看事由"), max_length=200,
                              help_text=_("如：回访投诉人核实情况。查看将记入审计日志。"))


# --- actions -----------------------------------------------------------------------------
OFFICER, ORGAN, SUPERVISOR = "officer", "organ", "supervisor"


def user_roles(user, complaint: Complaint) -> set[str]:
    """The parts the user plays on this complaint (each checked against the scope)."""
    one = Complaint.objects.filter(pk=complaint.pk)
    roles = set()
    if access.has_perm(user, "complaint.handle") and access.scoped(one, user, "complaint.handle").exists():
        roles.add(OFFICER)
    if access.has_perm(user, "supervise") and access.scoped(one, user, "supervise").exists():
        roles.add(SUPERVISOR)
    if complaint.organ_id and access.has_perm(user, "complaint.respond") and access.scoped(
            Organ.objects.filter(pk=complaint.organ_id), user, "complaint.respond").exists():
        roles.add(ORGAN)
    return roles


def _text(label, *, required=True, rows=3, max_length=5000, help_text=""):
    return forms.CharField(label=label, required=required, max_length=max_length, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


class ActionForm(RecordActionForm):
    """One action on a complaint. Subclasses set `action`, `title`, `roles`, fields, `perform`."""

    roles: frozenset[str] = frozenset()

    def __init__(self, *args, complaint: Complaint, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.complaint, self.user = complaint, user


def organ_choices(complaint: Complaint, user, perm: str):
    """Organs in the complaint's region that the user's scope reaches, active ones only."""
    return (access.scoped(Organ.objects.filter(is_active=True), user, perm)
            .filter(region_code__under=complaint.region.prefix).order_by("region_code", "name"))


class AcceptForm(ActionForm):
    action, title, roles = "accept", _("受理"), frozenset({OFFICER})
    note = forms.CharField(label=_("受理意见"), required=False, max_length=500)

    @classmethod
    def available(cls, complaint):
        return complaint.status == Status.REGISTERED

    def perform(self, complaint):
        return actions.do_accept(complaint, note=self.cleaned_data["note"])


class NotAcceptForm(ActionForm):
    action, title, danger, roles = "not_accept", _("不予受理"), True, frozenset({OFFICER})
    reasons = _text(_("不予受理理由"))

    @classmethod
    def available(cls, complaint):
        return complaint.status == Status.REGISTERED

    def perform(self, complaint):
        return actions.do_not_accept(complaint, reasons=self.cleaned_data["reasons"])


class RouteForm(ActionForm):
    action, title, roles = "route", _("转办承办机关"), frozenset({OFFICER})
    organ = forms.ModelChoiceField(label=_("承办机关"), queryset=Organ.objects.none(),
                                   error_messages={"invalid_choice": _("所选机关不在投诉所属区划或您的范围内")})
    note = forms.CharField(label=_("转办意见"), required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organ"].queryset = organ_choices(self.complaint, self.user, "complaint.handle")
        if self.complaint.status == Status.HANDLED:
            self.title = _("退回重办或改派")

    @classmethod
    def available(cls, complaint):
        return can_change(complaint, Status.ROUTED) and complaint.status != Status.REVIEW

    def perform(self, complaint):
        return actions.do_route(complaint, organ=self.cleaned_data["organ"], note=self.cleaned_data["note"])


class ReportForm(ActionForm):
    action, title, roles = "report", _("反馈办理情况"), frozenset({ORGAN, OFFICER})
    report = _text(_("办理情况"), rows=5)
    result = forms.ChoiceField(label=_("核查结论"), choices=Result.choices, widget=forms.RadioSelect)

    @classmethod
    def available(cls, complaint):
        return can_change(complaint, Status.HANDLED)

    def perform(self, complaint):
        return actions.do_report_handling(complaint, report=self.cleaned_data["report"],
                                          result=self.cleaned_data["result"])


class SendBackForm(ActionForm):
    action, title, danger, roles = "send_back", _("退回（非本机关职责）"), True, frozenset({ORGAN})
    reasons = _text(_("退回理由"))

    @classmethod
    def available(cls, complaint):
        return (complaint.status == Status.ROUTED and complaint.sendback_until is not None
                and timezone.now() <= complaint.sendback_until)

    def perform(self, complaint):
        return actions.do_send_back(complaint, reasons=self.cleaned_data["reasons"])


class ExtensionRequestForm(ActionForm):
    action, title, roles = "extension", _("申请延期"), frozenset({ORGAN})
    days = forms.IntegerField(label=_("延期天数"), min_value=1, max_value=365)
    reasons = _text(_("延期理由"))

    @classmethod
    def available(cls, complaint):
        return complaint.status == Status.ROUTED and not complaint.extension_requests.filter(
            approved__isnull=True).exists()

    def perform(self, complaint):
        return actions.do_request_extension(complaint, days=self.cleaned_data["days"],
                                            reasons=self.cleaned_data["reasons"])


class DecideExtensionForm(ActionForm):
    action, title, roles = "decide_extension", _("审批延期申请"), frozenset({SUPERVISOR})
    field_map = {"approved": "decision"}
    request_id = forms.IntegerField(widget=forms.HiddenInput, label=_("延期申请"))
    decision = forms.ChoiceField(label=_("审批"), widget=forms.RadioSelect,
                                 choices=[("approve", _("批准")), ("refuse", _("不予批准"))])
    note = _text(_("审批意见"), required=False, help_text=_("不予批准须说明理由"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        pending = self.pending(self.complaint)
        if pending is not None:
            self.fields["request_id"].initial = pending.pk
            self.title = _("审批延期申请（%(days)d 日）") % {"days": pending.days}

    @staticmethod
    def pending(complaint):
        return complaint.extension_requests.filter(approved__isnull=True).order_by("requested_at", "pk").first()

    @classmethod
    def available(cls, complaint):
        return cls.pending(complaint) is not None

    def clean(self):
        data = super().clean()
        if data.get("decision") == "refuse" and not (data.get("note") or "").strip():
            self.add_error("note", _("不予批准须说明理由"))
        return data

    def perform(self, complaint):
        try:
            request = complaint.extension_requests.get(pk=self.cleaned_data["request_id"])
        except ExtensionRequest.DoesNotExist:
            raise actions.ComplaintError(_("延期申请不存在"), "decision") from None
        return actions.do_decide_extension(request, approved=self.cleaned_data["decision"] == "approve",
                                           approver=self.user, note=self.cleaned_data["note"])


class ReplyForm(ActionForm):
    action, title, roles = "reply", _("答复投诉人"), frozenset({OFFICER})
    text = _text(_("答复内容"), rows=5, help_text=_(
        "答复会发给投诉人；通过 Open311 提交的投诉，答复还会在公开接口显示，其中投诉人的姓名、电话、证件号码和邮箱会自动遮盖，请勿写入其他个人信息。"))

    @classmethod
    def available(cls, complaint):
        return can_change(complaint, Status.REPLIED)

    def perform(self, complaint):
        return actions.do_reply(complaint, text=self.cleaned_data["text"])


class CloseForm(ActionForm):
    action, title, roles = "close", _("办结"), frozenset({OFFICER})
    note = forms.CharField(label=_("办结说明"), required=False, max_length=500)

    @classmethod
    def available(cls, complaint):
        return complaint.status == Status.REPLIED

    def perform(self, complaint):
        return actions.do_close(complaint, note=self.cleaned_data["note"])


class MergeForm(ActionForm):
    action, title, roles = "merge", _("合并到另一投诉"), frozenset({OFFICER})
    into = forms.CharField(label=_("合并至投诉编号"), max_length=24)
    note = forms.CharField(label=_("合并说明"), required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        duplicate = self.complaint.possible_duplicate
        if duplicate is not None:
            self.fields["into"].initial = duplicate.number

    @classmethod
    def available(cls, complaint):
        return can_change(complaint, Status.MERGED)

    def clean_into(self):
        number = self.cleaned_data["into"].strip().upper()
        into = access.scoped(Complaint.objects.filter(number=number), self.user, "complaint.handle").first()
        if into is None:
            raise forms.ValidationError(_("找不到编号为 %(no)s 的投诉（或不在您的范围内）") % {"no": number})
        return into

    def perform(self, complaint):
        return actions.do_merge(complaint, into=self.cleaned_data["into"], note=self.cleaned_data["note"])


class ReviewForm(ActionForm):
    action, title, roles = "review", _("复核决定"), frozenset({OFFICER, SUPERVISOR})
    field_map = {"upheld": "decision"}
    decision = forms.ChoiceField(label=_("复核结论"), widget=forms.RadioSelect,
                                 choices=[("uphold", _("维持原答复，办结")), ("redo", _("责令重新办理"))])
    reasons = _text(_("复核理由"))
    organ = forms.ModelChoiceField(label=_("重新办理的承办机关"), required=False, queryset=Organ.objects.none(),
                                   help_text=_("留空则由原承办机关重新办理"),
                                   error_messages={"invalid_choice": _("所选机关不在投诉所属区划或您的范围内")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        qs = organ_choices(self.complaint, self.user, "complaint.handle") | organ_choices(
            self.complaint, self.user, "supervise")
        self.fields["organ"].queryset = qs.distinct()

    @classmethod
    def available(cls, complaint):
        return complaint.status == Status.REVIEW

    def perform(self, complaint):
        data = self.cleaned_data
        return actions.do_decide_review(complaint, upheld=data["decision"] == "uphold", reasons=data["reasons"],
                                        organ=data["organ"])


class GrantIdentityForm(ActionForm):
    action, title, roles = "grant_identity", _("授权承办机关查看投诉人"), frozenset({SUPERVISOR})
    reasons = _text(_("授权理由"))

    @classmethod
    def available(cls, complaint):
        return (bool(complaint.organ_id) and not complaint.anonymous and bool(complaint.identity_enc)
                and not IdentityGrant.objects.filter(complaint=complaint, organ_id=complaint.organ_id).exists())

    def perform(self, complaint):
        return actions.do_grant_identity(complaint, organ=complaint.organ, reasons=self.cleaned_data["reasons"],
                                         actor=self.user)


class OrderForm(ActionForm):
    action, title, roles = "order", _("督办承办机关"), frozenset({OFFICER, SUPERVISOR})
    demand = _text(_("督办要求"))
    days = forms.IntegerField(label=_("督办期限（日）"), required=False, min_value=1, max_value=365)

    @classmethod
    def available(cls, complaint):
        return bool(complaint.organ_id) and complaint.is_open()

    def perform(self, complaint):
        return actions.do_open_order(complaint, demand=self.cleaned_data["demand"], days=self.cleaned_data["days"])


class ProposalForm(ActionForm):
    action, title, roles = "propose", _("提出问责建议"), frozenset({OFFICER})
    reason = _text(_("事实和理由"), rows=5)

    @classmethod
    def available(cls, complaint):
        return bool(complaint.organ_id) and complaint.result in (Result.FOUNDED, Result.PARTLY)

    def perform(self, complaint):
        return actions.do_propose_accountability(complaint, reason=self.cleaned_data["reason"])


ACTION_FORMS: dict[str, type[ActionForm]] = {
    form.action: form
    for form in (
        AcceptForm, NotAcceptForm, RouteForm, SendBackForm, ExtensionRequestForm, DecideExtensionForm, ReportForm,
        ReplyForm, CloseForm, MergeForm, ReviewForm, GrantIdentityForm, OrderForm, ProposalForm,
    )
}



class StatsFilterForm(forms.Form):
    received_from = forms.DateField(label=_("登记日期自"), required=False, widget=date_input())
    received_to = forms.DateField(label=_("登记日期至"), required=False, widget=date_input())

    def clean(self):
        data = super().clean()
        if data.get("received_from") and data.get("received_to") and data["received_to"] < data["received_from"]:
            self.add_error("received_to", _("结束日期早于开始日期"))
        return data

    def filter(self, queryset):
        data = self.cleaned_data
        queryset = on_days(queryset, "received_at", data.get("received_from"), data.get("received_to"))
        return queryset
