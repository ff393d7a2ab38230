"""Forms of the supervision pages: list filters, one form per alert or order action, the
new-order form, and the attachment check they share.

Every choice a filter offers comes from the user's scope (the view hands the scoped
querysets in); a value outside it is an invalid choice and the list then shows nothing.
Each action form knows when its record allows it (`available`) and calls exactly one
function of `actions.py` in `perform`; the view turns a `SupervisionError` into an error
on the field it names, so a bad request is a message on the page, never a 500.
"""
from __future__ import annotations

import zipfile
from functools import lru_cache

from django import forms
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from xiaoneng.clocks.models import Clock
from xiaoneng.conf import rule as conf_rule
from xiaoneng.orgs.filters import DatedFilterForm
from xiaoneng.orgs.models import Organ
from xiaoneng.web.forms import RecordActionForm, place_action_error

from . import actions
from .models import Alert, AlertStatus, Level, OrderSource, OrderStatus
from .rules import load_all

# --- attachments ------------------------------------------------------------------------
# Extension → the bytes such a file starts with. Office files are zip packages; they
# are also opened to see that they hold a document or a workbook.
ATTACHMENT_TYPES = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
}
OFFICE_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
MAX_ATTACHMENT_BYTES = int(getattr(settings, "XIAONENG_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024))


def megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f} MB" if value == int(value) else f"{value:.2f} MB"


def _clean_name(name: str) -> str:
    """The base name only, without path parts or control characters, not too long."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip().strip(".") or "attachment"
    stem, dot, ext = base.rpartition(".")
    return f"{stem[:60]}.{ext}" if dot else base[:60]


def check_attachment(upload):
    """Reject anything but PDF, JPG, PNG, DOCX or XLSX up to the size limit; content must match the name."""
    if upload is None:
        return None
    ext = upload.name.rpartition(".")[2].lower() if "." in upload.name else ""
    if ext not in ATTACHMENT_TYPES:
        raise forms.ValidationError(_("只能上传 PDF、JPG、PNG、DOCX 或 XLSX 文件。"), code="type")
    if upload.size == 0:
        raise forms.ValidationError(_("文件是空的，请重新选择。"), code="empty")
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise forms.ValidationError(
            _("文件超过了 %(limit)s 的上限（本文件 %(size)s），请压缩或拆分后再上传。")
            % {"size": megabytes(upload.size), "limit": megabytes(MAX_ATTACHMENT_BYTES)},
            code="size",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    bad = forms.ValidationError(_("文件内容与扩展名 .%(ext)s 不符，请上传真实的文件。") % {"ext": ext}, code="content")
    if not head.startswith(ATTACHMENT_TYPES[ext]):
        raise bad
    if ext in OFFICE_PARTS:
        try:
            with zipfile.ZipFile(upload) as package:
                if OFFICE_PARTS[ext] not in package.namelist():
                    raise bad
        except (zipfile.BadZipFile, OSError) as exc:
            raise bad from exc
        finally:
            upload.seek(0)
    upload.name = _clean_name(upload.name)
    return upload


def _attachment_help() -> str:
    return gettext("可选；PDF、JPG、PNG、DOCX 或 XLSX，不超过 %(limit)s") % {"limit": megabytes(MAX_ATTACHMENT_BYTES)}


def _attachment_field(label=None):
    return forms.FileField(
        label=label or _("附件"), required=False, max_length=None,
        # Formatted when shown, so it follows the reader's language.
        help_text=lazy(_attachment_help, str)(),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx"}),
    )


# --- list filters ------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _rules():
    return load_all()


def rule_titles() -> dict[str, str]:
    """Rule code → title in the active language."""
    return {code: str(r.title) for code, r in sorted(_rules().items())}


def rule_title(code: str) -> str:
    """A rule code's title (one registry of names: xiaoneng.web.names)."""
    from xiaoneng.web.names import rule_title as title

    return title(code)


def late_clocks_q(now, prefix: str = "clock__") -> Q:
    """The clock is past its deadline: still open after it, or stopped after it."""
    return (
        Q(**{f"{prefix}state__in": [Clock.State.RUNNING, Clock.State.PAUSED], f"{prefix}due_at__lte": now})
        | Q(**{f"{prefix}state": Clock.State.STOPPED, f"{prefix}stopped_at__gt": F(f"{prefix}due_at")})
    )


class AlertFilterForm(DatedFilterForm):
    search_placeholder = _("对象或情况")
    date_field = "raised_at"
    level = forms.ChoiceField(label=_("等级"), required=False, choices=[("", _("全部等级")), *Level.choices])
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *AlertStatus.choices])
    rule = forms.ChoiceField(label=_("规则"), required=False)
    open = forms.BooleanField(label=_("只看未办结"), required=False)

    field_order = ["q", "level", "status", "rule", "region", "organ", "date_from", "date_to", "open"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", _("全部规则")), *rule_titles().items()]
        self.fields["date_from"].label = _("发现日期自")
        self.fields["date_to"].label = _("发现日期至")
        self.fields["organ"].label = _("责任机关")

    def search_q(self, text):
        return Q(subject_label__icontains=text) | Q(message__icontains=text)

    def filter(self, queryset, *, any_level: bool = False):
        """The filtered alerts; `any_level` leaves the level out (the board counts every level)."""
        queryset = super().filter(queryset)
        data = self.cleaned_data
        if data["level"] and not any_level:
            queryset = queryset.filter(level=data["level"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["rule"]:
            queryset = queryset.filter(rule=data["rule"])
        if data["open"]:
            queryset = queryset.filter(status__in=OPEN_ALERT)
        return queryset


OPEN_ALERT = [AlertStatus.RAISED, AlertStatus.EXPLAINED, AlertStatus.APPEALED]
YES_NO = [("", _("全部")), ("yes", _("是")), ("no", _("否"))]


class OrderFilterForm(DatedFilterForm):
    search_placeholder = _("督办编号或事项")
    date_field = "opened_at"
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *OrderStatus.choices])
    source = forms.ChoiceField(label=_("来源"), required=False, choices=[("", _("全部来源")), *OrderSource.choices])
    overdue = forms.ChoiceField(label=_("已超期"), required=False, choices=YES_NO)
    taken_over = forms.ChoiceField(label=_("提级督办"), required=False, choices=YES_NO)

    field_order = ["q", "status", "source", "overdue", "taken_over", "region", "organ", "date_from", "date_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_from"].label = _("督办日期自")
        self.fields["date_to"].label = _("督办日期至")
        self.fields["organ"].label = _("被督办机关")

    def search_q(self, text):
        return Q(number__icontains=text) | Q(title__icontains=text)

    def filter(self, queryset):
        queryset = super().filter(queryset)
        data, now = self.cleaned_data, timezone.now()
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["source"]:
            queryset = queryset.filter(source=data["source"])
        if data["overdue"] == "yes":
            queryset = queryset.filter(late_clocks_q(now))
        elif data["overdue"] == "no":
            queryset = queryset.exclude(late_clocks_q(now))
        if data["taken_over"]:
            queryset = queryset.filter(taken_over=data["taken_over"] == "yes")
        return queryset


# --- actions -----------------------------------------------------------------------------
ORGAN, SUPERVISOR = "organ", "supervisor"

# Names the actions use in SupervisionError.field that are not form fields, in words.
FIELD_WORDS = {
    "status": _("状态"),
    "issuer": _("督办层级"),
    "source": _("来源"),
}


def _text(label, *, required=True, rows=4, max_length=4000, help_text=""):
    return forms.CharField(label=label, required=required, max_length=max_length, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


class ActionForm(RecordActionForm):
    """One action on an alert or an order. Subclasses set `action`, `title`, `side`, the fields and `perform`.

    `side` says who acts: the organ (handlers and leaders of the organ) or the
    supervisor (efficiency-office supervisors over the organ's region).
    """

    side = ORGAN

    def __init__(self, *args, obj, user=None, **kwargs):
        # Several action forms share a page: ids are prefixed by the action so labels stay unique.
        kwargs.setdefault("auto_id", f"id_{self.action}_%s")
        super().__init__(*args, **kwargs)
        self.obj, self.user = obj, user

    @property
    def multipart(self) -> bool:
        return any(isinstance(f, forms.FileField) for f in self.fields.values())

    @classmethod
    def available(cls, obj, user=None) -> bool:
        raise NotImplementedError

    def unavailable_reason(self, obj) -> str:
        return str(_("当前状态为“%(status)s”，不能执行“%(action)s”。")
                   % {"status": obj.get_status_display(), "action": self.title})

    field_words = FIELD_WORDS

    def clean_attachment(self):
        return check_attachment(self.cleaned_data.get("attachment"))


# Alerts ----------------------------------------------------------------------------------
def _alert_may_become(alert: Alert, status: str) -> bool:
    return status in actions.TRANSITIONS[AlertStatus(alert.status)]


class ExplainForm(ActionForm):
    action, title, side = "explain", _("情况说明"), ORGAN
    text = _text(_("情况说明"), rows=5, help_text=_("说明原因、已采取的整改措施和结果"))
    attachment = _attachment_field()

    @classmethod
    def available(cls, alert, user=None):
        return _alert_may_become(alert, AlertStatus.EXPLAINED)

    def perform(self, alert):
        return actions.do_explain_alert(alert, text=self.cleaned_data["text"], actor=self.user,
                                        attachment=self.cleaned_data.get("attachment"))


class AppealForm(ActionForm):
    action, title, side, danger = "appeal", _("申诉"), ORGAN, True
    reasons = _text(_("申诉理由"), help_text=_("认为预警有误的，写明事实和依据"))
    attachment = _attachment_field(_("证明材料"))

    @classmethod
    def available(cls, alert, user=None):
        return _alert_may_become(alert, AlertStatus.APPEALED)

    def perform(self, alert):
        return actions.do_appeal_alert(alert, reasons=self.cleaned_data["reasons"], actor=self.user,
                                       attachment=self.cleaned_data.get("attachment"))


class CloseAlertForm(ActionForm):
    action, title, side = "close", _("核实办结"), SUPERVISOR
    note = _text(_("核实意见"), rows=3)

    @classmethod
    def available(cls, alert, user=None):
        return _alert_may_become(alert, AlertStatus.CLOSED)

    def perform(self, alert):
        return actions.do_close_alert(alert, note=self.cleaned_data["note"], actor=self.user)


class DismissForm(ActionForm):
    action, title, side, danger = "dismiss", _("撤销预警"), SUPERVISOR, True
    reasons = _text(_("撤销理由"), rows=3)

    @classmethod
    def available(cls, alert, user=None):
        return alert.status != AlertStatus.APPEALED and _alert_may_become(alert, AlertStatus.DISMISSED)

    def perform(self, alert):
        return actions.do_dismiss_alert(alert, reasons=self.cleaned_data["reasons"], actor=self.user)


def _days_field():
    return forms.IntegerField(label=_("督办期限（工作日）"), min_value=1, max_value=60,
                              help_text=_("1 至 60 个工作日"))


class EscalateForm(ActionForm):
    action, title, side = "escalate", _("升级督办"), SUPERVISOR
    demand = _text(_("督办要求"), rows=3)
    days = _days_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].initial = conf_rule("supervision_order_working_days")

    @classmethod
    def available(cls, alert, user=None):
        # A yellow card already has its order; a second one for the same finding would
        # only split the follow-up.
        if not _alert_may_become(alert, AlertStatus.ESCALATED):
            return False
        return not alert.orders.exclude(status=OrderStatus.CLOSED).exists()

    def unavailable_reason(self, alert):
        if _alert_may_become(alert, AlertStatus.ESCALATED):
            return str(_("该预警已有未办结的督办，不能重复升级。"))
        return super().unavailable_reason(alert)

    def perform(self, alert):
        # The order is issued at the escalating supervisor's own level: the nearest of
        # his regions that covers the alert (a city supervisor issues a city order).
        from xiaoneng.orgs import access
        from xiaoneng.orgs.models import Region

        covering = [p for p in access.region_prefixes(self.user, "supervise") or [] if alert.region_code.startswith(p)]
        issuer = Region.objects.filter(prefix=max(covering, key=len)).first() if covering else None
        return actions.do_escalate_alert(alert, demand=self.cleaned_data["demand"], days=self.cleaned_data["days"],
                                         actor=self.user, issuer=issuer)


DECISIONS = [("uphold", _("维持预警")), ("accept", _("申诉成立，撤销预警"))]


class DecideAppealForm(ActionForm):
    action, title, side = "decide", _("处理申诉"), SUPERVISOR
    decision = forms.ChoiceField(label=_("处理结果"), choices=DECISIONS, widget=forms.RadioSelect)
    reasons = _text(_("处理意见"), rows=3)

    @classmethod
    def available(cls, alert, user=None):
        return alert.status == AlertStatus.APPEALED

    def perform(self, alert):
        return actions.do_decide_appeal(alert, accepted=self.cleaned_data["decision"] == "accept",
                                        reasons=self.cleaned_data["reasons"], actor=self.user)


ALERT_FORMS: dict[str, type[ActionForm]] = {
    f.action: f for f in (ExplainForm, AppealForm, CloseAlertForm, EscalateForm, DismissForm, DecideAppealForm)
}


# Orders ----------------------------------------------------------------------------------

class ReportForm(ActionForm):
    action, title, side = "report", _("反馈办理情况"), ORGAN
    text = _text(_("办理情况"), rows=5, help_text=_("写明整改措施、完成时间和结果"))
    attachment = _attachment_field()

    @classmethod
    def available(cls, order, user=None):
        return order.status == OrderStatus.OPEN

    def perform(self, order):
        return actions.do_report_order(order, text=self.cleaned_data["text"],
                                       attachment=self.cleaned_data.get("attachment"))


VERIFY_CHOICES = [("accept", _("核实办结")), ("return", _("退回重办"))]


class VerifyOrderForm(ActionForm):
    """The level that issues the order (or one above it) verifies the organ's feedback."""

    action, title, side = "verify", _("核实反馈"), SUPERVISOR
    decision = forms.ChoiceField(label=_("核实结果"), choices=VERIFY_CHOICES, widget=forms.RadioSelect)
    note = _text(_("核实意见"), rows=3)

    @classmethod
    def available(cls, order, user=None):
        return order.status == OrderStatus.REPORTED

    def perform(self, order):
        return actions.do_verify_order(order, accepted=self.cleaned_data["decision"] == "accept",
                                       note=self.cleaned_data["note"])


class TakeOverForm(ActionForm):
    """提级督办: the order moves up to the user's own level, which must be above the issuer's."""

    action, title, side = "take_over", _("提级督办"), SUPERVISOR
    note = _text(_("提级理由"), rows=2, required=False)

    def __init__(self, *args, issuer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.issuer = issuer
        if issuer is not None:
            self.title = _("提级至%(region)s督办") % {"region": issuer.name}

    @classmethod
    def available(cls, order, user=None):
        return order.status != OrderStatus.CLOSED

    def unavailable_reason(self, order):
        return str(_("已办结的督办不能提级。"))

    def perform(self, order):
        return actions.do_take_over_order(order, issuer=self.issuer, note=self.cleaned_data["note"])


ORDER_FORMS: dict[str, type[ActionForm]] = {f.action: f for f in (ReportForm, VerifyOrderForm, TakeOverForm)}


# --- a new order by hand -------------------------------------------------------------------
HAND_SOURCES = [(value, label) for value, label in OrderSource.choices if value != OrderSource.ALERT]


class NewOrderForm(forms.Form):
    organ = forms.ModelChoiceField(label=_("被督办机关"), queryset=Organ.objects.none(), empty_label=_("请选择机关"))
    source = forms.ChoiceField(label=_("来源"), choices=HAND_SOURCES)
    title = forms.CharField(label=_("督办事项"), max_length=200)
    demand = _text(_("督办要求"), rows=5)
    days = _days_field()
    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, organs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organ"].queryset = organs
        self.fields["days"].initial = conf_rule("supervision_order_working_days")

    def add_action_error(self, exc: actions.SupervisionError) -> None:
        place_action_error(self, exc)

