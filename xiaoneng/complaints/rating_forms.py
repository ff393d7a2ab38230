"""Forms of the 好差评 pages: the list filter, one form per action, the public rating forms.

Filter choices come from the user's scope (an organ or matter outside it is an invalid
choice and the list then shows nothing). Each action form says which role it needs
(`perm`: "rating.respond" for the rated organ's staff, "supervise" for supervisors), when
the rating allows it (`available`) and calls exactly one function of `ratings.py`.
"""
from __future__ import annotations

from django import forms
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xiaoneng.approvals.models import Matter
from xiaoneng.clocks.models import Clock
from xiaoneng.orgs import access
from xiaoneng.orgs.models import Organ
from xiaoneng.web.forms import RecordActionForm, place_action_error
from xiaoneng.web.lists import FilterForm, date_input, on_days

from . import ratings
from .identity import Identity
from .models import BAD_LEVELS, SUB_INDICATORS, Rating, RatingKind, RatingStatus, Satisfaction

S = RatingStatus


def overdue_q(now) -> Q:
    """The rectification clock passed its due time: still open after it, or stopped after it."""
    late = Clock.objects.filter(pk=OuterRef("rectification_clock_id")).filter(
        Q(state__in=[Clock.State.RUNNING, Clock.State.PAUSED], due_at__lte=now)
        | Q(state=Clock.State.STOPPED, stopped_at__gt=F("due_at"))
    )
    return Q(Exists(late))


class DateRangeMixin:
    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("结束日期早于开始日期"))
        return data

    def in_range(self, queryset):
        data = self.cleaned_data
        queryset = on_days(queryset, "rated_at", data.get("date_from"), data.get("date_to"))
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        return queryset


class RatingFilterForm(DateRangeMixin, FilterForm):
    kind = forms.ChoiceField(label=_("评价类型"), required=False, choices=[("", _("全部类型")), *RatingKind.choices])
    level = forms.TypedChoiceField(label=_("评价等级"), required=False, coerce=int, empty_value=None,
                                   choices=[("", _("全部等级")), *Satisfaction.choices])
    organ = forms.ModelChoiceField(label=_("被评价机关"), required=False, queryset=Organ.objects.none(),
                                   empty_label=_("全部机关"))
    matter = forms.ModelChoiceField(label=_("事项"), required=False, queryset=Matter.objects.none(),
                                    empty_label=_("全部事项"))
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *S.choices])
    date_from = forms.DateField(label=_("评价日期自"), required=False, widget=date_input())
    date_to = forms.DateField(label=_("评价日期至"), required=False, widget=date_input())
    bad = forms.BooleanField(label=_("只看差评"), required=False)
    overdue = forms.BooleanField(label=_("整改超期"), required=False)

    def __init__(self, data=None, *, user, perm: str = "rating.view"):
        super().__init__(data)
        visible = access.scoped(Rating.objects.all(), user, perm)
        self.fields["organ"].queryset = (
            access.scoped(Organ.objects.all(), user, "org.view")
            .filter(Exists(visible.filter(organ=OuterRef("pk")))).order_by("region_code", "name")
        )
        self.fields["matter"].queryset = (
            Matter.objects.filter(Exists(visible.filter(matter=OuterRef("pk")))).order_by("code")
        )

    def filter(self, queryset):
        data = self.cleaned_data
        queryset = self.in_range(queryset)
        if data["level"]:
            queryset = queryset.filter(level=data["level"])
        if data["organ"]:
            queryset = queryset.filter(organ=data["organ"])
        if data["matter"]:
            queryset = queryset.filter(matter=data["matter"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["bad"]:
            queryset = queryset.filter(level__in=BAD_LEVELS)
        if data["overdue"]:
            queryset = queryset.filter(overdue_q(timezone.now()))
        return queryset


# --- actions ---------------------------------------------------------------------------------
def _text(label, *, rows=3, max_length=2000, help_text=""):
    return forms.CharField(label=label, max_length=max_length, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


class RatingActionForm(RecordActionForm):
    """One action on a rating. Subclasses set `action`, `title`, `perm`, the fields and `perform`."""

    perm = "rating.respond"

    def __init__(self, *args, rating: Rating, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rating, self.user = rating, user


class CallbackForm(RatingActionForm):
    action, title = "callback", _("登记回访")
    note = _text(_("回访情况"), help_text=_("回访时间、评价人反映的问题和诉求"))

    @classmethod
    def available(cls, rating):
        return rating.status == S.CALLBACK

    def perform(self, rating):
        return ratings.do_callback(rating, note=self.cleaned_data["note"])


class ReportForm(RatingActionForm):
    action, title = "report", _("反馈整改情况")
    report = _text(_("整改情况"), rows=4)

    @classmethod
    def available(cls, rating):
        return rating.status == S.RECTIFYING

    def perform(self, rating):
        return ratings.do_report_rectification(rating, report=self.cleaned_data["report"])


class TellForm(RatingActionForm):
    action, title = "tell", _("告知评价人")
    text = _text(_("告知内容"), rows=2, max_length=300, help_text=_("以短信发送给评价人；不要写工作人员姓名"))

    @classmethod
    def available(cls, rating):
        return rating.status == S.RECTIFIED and rating.named and rating.rater_told_at is None

    def perform(self, rating):
        return ratings.do_tell_rater(rating, text=self.cleaned_data["text"])


class AppealForm(RatingActionForm):
    action, title, danger = "appeal", _("申诉（恶意评价或误评）"), True
    reasons = _text(_("申诉理由"), help_text=_("评价后 5 个工作日内，只能申诉一次"))

    @classmethod
    def available(cls, rating):
        return rating.is_bad and rating.appealed_at is None and ratings.can_change(rating, S.APPEALED) \
            and timezone.now() <= ratings.appeal_deadline(rating)

    def perform(self, rating):
        return ratings.do_appeal_rating(rating, reasons=self.cleaned_data["reasons"])


class DecideForm(RatingActionForm):
    action, title, perm = "decide", _("处理申诉"), "supervise"
    upheld = forms.TypedChoiceField(label=_("处理结果"), coerce=lambda v: v == "yes", widget=forms.RadioSelect,
                                    choices=[("yes", _("申诉成立，核销该评价")), ("no", _("申诉不成立，继续整改"))])
    reasons = _text(_("处理意见"))

    @classmethod
    def available(cls, rating):
        return rating.status == S.APPEALED

    def perform(self, rating):
        return ratings.do_decide_rating_appeal(rating, upheld=self.cleaned_data["upheld"],
                                               reasons=self.cleaned_data["reasons"], actor=self.user)


ACTION_FORMS: dict[str, type[RatingActionForm]] = {
    f.action: f for f in (CallbackForm, ReportForm, TellForm, AppealForm, DecideForm)
}


# --- public rating -----------------------------------------------------------------------------
LEVEL_CHOICES = [(str(v), label) for v, label in Satisfaction.choices]


def _level_field(label):
    return forms.TypedChoiceField(label=label, choices=LEVEL_CHOICES, coerce=int, widget=forms.RadioSelect)


class PublicRatingForm(forms.Form):
    """Five levels (the overall rating), the kind's other indicators, a comment, an optional name/phone."""

    level = _level_field(_("总体评价"))
    comment = forms.CharField(label=_("评价内容"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    name = forms.CharField(label=_("姓名（选填）"), required=False, max_length=50)
    phone = forms.CharField(label=_("联系电话（选填）"), required=False, max_length=20,
                            help_text=_("留下电话即为实名评价：差评将有专人回访并告知整改结果；不留则为匿名评价"))

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        for key, label in SUB_INDICATORS[kind].items():
            if key != "overall":
                self.fields[f"score_{key}"] = _level_field(label)
        order = ["level", *[f"score_{k}" for k in SUB_INDICATORS[kind] if k != "overall"], "comment", "name", "phone"]
        self.order_fields(order)

    def indicator_fields(self):
        return [self[name] for name in self.fields if name == "level" or name.startswith("score_")]

    def other_fields(self):
        return [self[name] for name in ("comment", "name", "phone")]

    def scores(self) -> dict[str, int]:
        data = self.cleaned_data
        return {key: data["level"] if key == "overall" else data[f"score_{key}"] for key in SUB_INDICATORS[self.kind]}

    def rater(self) -> Identity | None:
        data = self.cleaned_data
        who = Identity.of(name=data.get("name", ""), phone=data.get("phone", ""))
        return None if who.is_empty() else who

    def add_action_error(self, exc: ratings.RatingError) -> None:
        field = exc.field or ""
        field_map = {field: f"score_{field.removeprefix('scores.')}"} if field.startswith("scores.") else None
        place_action_error(self, exc, field_map=field_map)


class PublicCaseRatingForm(PublicRatingForm):
    case_no = forms.CharField(label=_("办件编号"), max_length=64)
    code = forms.CharField(label=_("查询码"), max_length=32, widget=forms.PasswordInput(render_value=True))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["case_no", "code", *[n for n in self.fields if n not in ("case_no", "code")]])

    def lookup_fields(self):
        return [self["case_no"], self["code"]]
