"""Forms of the accountability pages: list filters and one form per action.

Each action form knows when its record allows it (`available`) and calls exactly one function
of `actions.py` in `perform`; the view turns an `AccountabilityError` into an error on the field
it names, so bad input is a message on the page, never a 500, and changes nothing.
"""
from __future__ import annotations

import secrets
from datetime import datetime, time

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xiaoneng.orgs.filters import DatedFilterForm
from xiaoneng.orgs.models import Organ, Staff
from xiaoneng.web.forms import RecordActionForm

from . import actions
from . import measures as M
from .evidence import EvidenceFilesField
from .evidence import help_text as evidence_help_text
from .models import Appeal, Party, Proposal, ProposalStatus, Responsibility, Source, Status, Tolerance

FIELD_WORDS = {"status": _("案件状态"), "measures": _("问责方式"), "at": _("时间")}


def _text(label, rows=3, required=True, help_text=""):
    return forms.CharField(label=label, required=required, max_length=5000, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


# --- list filters ------------------------------------------------------------------------------
class _Filter(DatedFilterForm):
    organ_label = _("涉及机关")


class CaseFilterForm(_Filter):
    search_placeholder = _("案件编号、案由或决定书文号")
    date_field = "registered_at"
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *Status.choices])
    # Drill-down from the statistics: a case counts under a source, measure, rank or tolerance outcome
    # when one of its proposals or persons has it.
    source = forms.ChoiceField(label=_("来源"), required=False, choices=[("", _("全部来源")), *Source.choices])
    measure = forms.ChoiceField(label=_("问责方式"), required=False)
    rank = forms.CharField(label=_("职务职级"), required=False, max_length=50)
    tolerance = forms.ChoiceField(label=_("容错结论"), required=False, choices=[("", _("全部")), *Tolerance.choices])
    catch_all = forms.BooleanField(label=_("仅依据兜底条款的"), required=False)
    field_order = ["q", "status", "region", "organ", "date_from", "date_to", "source", "measure", "rank", "tolerance",
                   "catch_all"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_from"].label = _("立案日期自")
        self.fields["date_to"].label = _("立案日期至")
        self.fields["measure"].choices = [("", _("全部问责方式")), *M.choices()]

    def search_q(self, text):
        return Q(number__icontains=text) | Q(title__icontains=text) | Q(decision_number__icontains=text)

    def filter(self, queryset):
        queryset = super().filter(queryset)
        data = self.cleaned_data
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["source"]:
            queryset = queryset.filter(Exists(Proposal.objects.filter(case=OuterRef("pk"), source=data["source"])))
        people = {}
        if data["measure"]:
            people["measure"] = data["measure"]
        if data["rank"]:
            people["rank"] = data["rank"]
        if data["tolerance"]:
            people["tolerance_outcome"] = data["tolerance"]
        if people:
            queryset = queryset.filter(Exists(Party.objects.filter(case=OuterRef("pk"), **people)))
        if data["catch_all"]:
            queryset = queryset.filter(catch_all=True)
        return queryset


class ProposalFilterForm(_Filter):
    search_placeholder = _("事由")
    date_field = "proposed_at"
    source = forms.ChoiceField(label=_("来源"), required=False, choices=[("", _("全部来源")), *Source.choices])
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *ProposalStatus.choices])
    field_order = ["q", "source", "status", "region", "organ", "date_from", "date_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_from"].label = _("提出日期自")
        self.fields["date_to"].label = _("提出日期至")

    def search_q(self, text):
        return Q(title__icontains=text) | Q(reason__icontains=text)

    def filter(self, queryset):
        queryset = super().filter(queryset)
        data = self.cleaned_data
        if data["source"]:
            queryset = queryset.filter(source=data["source"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        return queryset


# --- actions -------------------------------------------------------------------------------------
class ActionForm(RecordActionForm):
    field_words = FIELD_WORDS

    def __init__(self, *args, obj, user=None, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.action}_%s")
        super().__init__(*args, **kwargs)
        self.obj, self.user = obj, user
        self.setup()

    def setup(self):
        pass

    multipart = False

    def unavailable_reason(self, obj) -> str:
        return str(_("当前状态为“%(status)s”，不能执行“%(action)s”。")
                   % {"status": obj.get_status_display(), "action": self.title})


def _party_field():
    return forms.TypedChoiceField(label=_("责任人"), coerce=int, choices=())


class _PartyForm(ActionForm):
    """An action on one person of the case; `eligible(party)` says whom it may name."""

    party = _party_field()

    @staticmethod
    def eligible(party) -> bool:
        raise NotImplementedError

    def setup(self):
        self.parties = {p.pk: p for p in self.obj.parties.all() if self.eligible(p)}
        self.fields["party"].choices = [(pk, f"{p.name}（{p.get_responsibility_display()}）") for pk, p in self.parties.items()]

    @classmethod
    def available(cls, case, *args) -> bool:
        return cls.case_states is None or case.status in cls.case_states and any(cls.eligible(p) for p in case.parties.all())

    case_states: tuple | None = None

    def chosen(self):
        return self.parties[self.cleaned_data["party"]]


class AddPartyForm(ActionForm):
    action, title = "add_party", _("确定责任人")
    staff = forms.ModelChoiceField(label=_("责任人"), required=False, queryset=Staff.objects.none())
    organ = forms.ModelChoiceField(label=_("责任单位"), required=False, queryset=Organ.objects.none(),
                                   help_text=_("对机关、组织问责时选择，不选责任人"))
    responsibility = forms.ChoiceField(label=_("责任类型"), choices=Responsibility.choices)

    def setup(self):
        path = self.obj.organ.path
        self.fields["staff"].queryset = Staff.objects.filter(organ__path__under=path, is_active=True).select_related("organ")
        self.fields["organ"].queryset = Organ.objects.filter(path__under=path)

    @classmethod
    def available(cls, case, *args):
        return case.status == Status.REGISTERED

    def perform(self, case):
        d = self.cleaned_data
        return actions.do_add_party(case, staff=d["staff"], organ=d["organ"], responsibility=d["responsibility"])


class FindingsForm(ActionForm):
    action, title = "findings", _("调查认定")
    multipart = True
    findings = _text(_("调查认定的事实"), rows=5, help_text=_("事实、证据和各责任人的责任"))
    files = EvidenceFilesField(label=_("证据文件（可不传）"))

    def setup(self):
        self.fields["files"].help_text = evidence_help_text()

    @classmethod
    def available(cls, case, *args):
        return case.status == Status.REGISTERED

    def perform(self, case):
        return actions.do_record_findings(case, findings=self.cleaned_data["findings"],
                                          files=self.cleaned_data["files"] or [],
                                          uploaded_by=getattr(self.user, "username", ""))


class NotifyForm(_PartyForm):
    action, title = "notify", _("告知拟问责意见")
    case_states = (Status.INVESTIGATED,)
    measure = forms.ChoiceField(label=_("拟问责方式"), choices=())
    months = forms.IntegerField(label=_("拟处分期（月）"), required=False, min_value=1, max_value=M.COMBINED_CAP_MONTHS,
                                help_text=_("政务处分可填；不填按法定期间"))

    @staticmethod
    def eligible(party):
        return party.notified_at is None

    def setup(self):
        super().setup()
        self.fields["measure"].choices = M.choices()

    def perform(self, case):
        d = self.cleaned_data
        return actions.do_notify_party(self.chosen(), measure=d["measure"], months=d["months"])


class StatementForm(_PartyForm):
    action, title = "statement", _("记录陈述申辩")
    case_states = (Status.INVESTIGATED, Status.NOTIFIED)
    waived = forms.BooleanField(label=_("本人书面放弃陈述申辩"), required=False)
    statement = _text(_("陈述申辩内容"), required=False)

    @staticmethod
    def eligible(party):
        return party.notified_at is not None and party.heard_at is None

    def perform(self, case):
        d = self.cleaned_data
        return actions.do_record_statement(self.chosen(), statement=d["statement"], waived=d["waived"])


class ToleranceForm(_PartyForm):
    action, title = "tolerance", _("容错纠错审查")
    case_states = (Status.HEARD,)
    situations = forms.MultipleChoiceField(label=_("适用的容错情形"), required=False, choices=(),
                                           widget=forms.CheckboxSelectMultiple)
    outcome = forms.ChoiceField(label=_("容错结论"), choices=Tolerance.choices)
    reason = _text(_("理由"), required=False)

    @staticmethod
    def eligible(party):
        return not party.tolerance_outcome

    def setup(self):
        super().setup()
        self.fields["situations"].choices = [(c, str(label)) for c, label in M.tolerance_situations()]

    def perform(self, case):
        d = self.cleaned_data
        return actions.do_review_tolerance(self.chosen(), situations=d["situations"], outcome=d["outcome"],
                                           reason=d["reason"])


class ExtendForm(ActionForm):
    action, title = "extend", _("延长办理期限")
    reason = forms.CharField(label=_("理由"), max_length=500)
    approver_name = forms.CharField(label=_("批准人"), max_length=100)

    @classmethod
    def available(cls, case, *args):
        return not case.decision_extended and case.status in (Status.REGISTERED, Status.INVESTIGATED, Status.NOTIFIED,
                                                             Status.HEARD, Status.REVIEWED)

    def perform(self, case):
        d = self.cleaned_data
        return actions.do_extend_decision(case, reason=d["reason"], approver_name=d["approver_name"])


class DecideForm(ActionForm):
    """The decision: for each person held accountable, the measure (times the number of
    violations that call for it) and, for several equal sanctions, the period chosen."""

    action, title = "decide", _("作出问责决定")
    decider = forms.CharField(label=_("决定人"), max_length=100)
    decision_number = forms.CharField(label=_("决定书文号"), max_length=60)
    catch_all = forms.BooleanField(label=_("决定依据兜底条款（如“其他失职失责情形”）"), required=False)

    def setup(self):
        self.people = [p for p in self.obj.parties.all() if p.tolerance_outcome not in (Tolerance.NOT, Tolerance.EXEMPT)]
        for p in self.people:
            self.fields[f"measure_{p.pk}"] = forms.ChoiceField(
                label=_("%(name)s：问责方式") % {"name": p.name}, choices=M.choices(for_organs=p.organ_id is not None),
                initial=p.notified_measure)
            self.fields[f"count_{p.pk}"] = forms.IntegerField(label=_("%(name)s：应予该处分的违法行为数") % {"name": p.name},
                                                              min_value=1, max_value=10, initial=1)
            self.fields[f"months_{p.pk}"] = forms.IntegerField(label=_("%(name)s：处分期（月）") % {"name": p.name},
                                                               required=False, min_value=1,
                                                               max_value=M.COMBINED_CAP_MONTHS)

    @classmethod
    def available(cls, case, *args):
        return case.status == Status.REVIEWED

    def perform(self, case):
        d = self.cleaned_data
        measures = {p.pk: ([d[f"measure_{p.pk}"]] * d[f"count_{p.pk}"], d[f"months_{p.pk}"]) for p in self.people}
        return actions.do_decide_case(case, decider=d["decider"], decision_number=d["decision_number"], measures=measures,
                                       catch_all=d["catch_all"])

    def add_action_error(self, exc):
        if getattr(exc, "field", "") == "measures" and self.people:
            # The error names the person; show it by their first field.
            self.add_error(f"measure_{self.people[0].pk}", exc.message)
        else:
            super().add_action_error(exc)


class CloseForm(ActionForm):
    action, title, danger = "close", _("结案（不予问责）"), True
    reason = _text(_("理由"))

    @classmethod
    def available(cls, case, *args):
        return case.status in (Status.INVESTIGATED, Status.REVIEWED)

    def perform(self, case):
        return actions.do_close_case(case, reason=self.cleaned_data["reason"])


class ServeForm(ActionForm):
    action, title = "serve", _("登记送达")

    @classmethod
    def available(cls, case, *args):
        return case.status == Status.DECIDED

    def perform(self, case):
        return actions.do_serve_case(case)


class AnnounceForm(ActionForm):
    action, title = "announce", _("公布")
    scope = forms.CharField(label=_("公布范围"), max_length=200, help_text=_("如：本单位内部、全区通报、向社会公开"))
    public = forms.BooleanField(label=_("向社会公开（在门户网站“问责通报”公布）"), required=False)

    @classmethod
    def available(cls, case, *args):
        return case.status == Status.SERVED

    def perform(self, case):
        return actions.do_announce_case(case, scope=self.cleaned_data["scope"], public=self.cleaned_data["public"])


class FileForm(ActionForm):
    """One filing at a time: the same-level supervisory organ, and the level above where required."""

    action, title = "file", _("登记备案")
    level = forms.ChoiceField(label=_("备案层级"), choices=(), required=False,
                              help_text=_("不选则为第一项待备案的层级"))
    filed_with = forms.CharField(label=_("备案机关"), max_length=200, help_text=_("如：天河区监察委员会"))

    def setup(self):
        self.fields["level"].choices = [(f.level, f.get_level_display()) for f in self.obj.filings.all()
                                        if f.filed_at is None]

    @classmethod
    def available(cls, case, *args):
        return case.status in (Status.SERVED, Status.ANNOUNCED) and case.filings.filter(filed_at__isnull=True).exists()

    def perform(self, case):
        d = self.cleaned_data
        level = d["level"] or next((f.level for f in case.filings.all() if f.filed_at is None), "")
        return actions.do_file_case(case, filed_with=d["filed_with"], level=level)


class AdjustForm(_PartyForm):
    action, title = "adjust", _("登记组织调整落实")

    @staticmethod
    def eligible(party):
        return actions.adjustment_due(party)

    @classmethod
    def available(cls, case, *args):
        return any(cls.eligible(p) for p in case.parties.all())

    def perform(self, case):
        return actions.do_record_adjustment(self.chosen())


class AppealForm(_PartyForm):
    action, title = "appeal", _("登记复核或申诉")
    case_states = (Status.SERVED, Status.ANNOUNCED, Status.FILED)
    kind = forms.ChoiceField(label=_("类型"), choices=Appeal.Kind.choices)
    received_on = forms.DateField(label=_("收到申请日期"), widget=forms.DateInput(attrs={"type": "date"}))
    grounds = _text(_("申请理由"))
    field_map = {"received_at": "received_on"}

    @staticmethod
    def eligible(party):
        return bool(party.measure) and party.revoked_on is None

    def perform(self, case):
        d = self.cleaned_data
        received = datetime.combine(d["received_on"], time(12), timezone.get_current_timezone())
        return actions.do_lodge_appeal(self.chosen(), kind=d["kind"], grounds=d["grounds"], received_at=received)


class DecideAppealForm(ActionForm):
    action, title = "decide_appeal", _("复核申诉决定")
    appeal = forms.TypedChoiceField(label=_("复核或申诉"), coerce=int, choices=())
    outcome = forms.ChoiceField(label=_("结果"), choices=[c for c in Appeal.Outcome.choices if c[0] != Appeal.Outcome.PENDING])
    new_measure = forms.ChoiceField(label=_("变更后问责方式"), required=False, choices=())
    new_months = forms.IntegerField(label=_("变更后处分期（月）"), required=False, min_value=1,
                                    max_value=M.COMBINED_CAP_MONTHS)
    reasons = _text(_("决定理由"))
    pay_to_restore = _text(_("应补发的工资待遇（撤销时）"), required=False)

    def setup(self):
        self.pending = {a.pk: a for a in Appeal.objects.filter(party__case=self.obj, outcome=Appeal.Outcome.PENDING)
                        .select_related("party")}
        self.fields["appeal"].choices = [(pk, f"{a.party.name}：{a.get_kind_display()}") for pk, a in self.pending.items()]
        self.fields["new_measure"].choices = [("", "—"), *M.choices()]

    @classmethod
    def available(cls, case, *args):
        return Appeal.objects.filter(party__case=case, outcome=Appeal.Outcome.PENDING).exists()

    def perform(self, case):
        d = self.cleaned_data
        return actions.do_decide_appeal(self.pending[d["appeal"]], outcome=d["outcome"], reasons=d["reasons"],
                                        new_measure=d["new_measure"], new_months=d["new_months"],
                                        pay_to_restore=d["pay_to_restore"])


class ExtendAppealForm(ActionForm):
    """A complex 申诉 takes `accountability_appeal_extension_days` more, approved while its 60 days run."""

    action, title = "extend_appeal", _("申诉因案情复杂延长")
    appeal = forms.TypedChoiceField(label=_("申诉"), coerce=int, choices=())
    reason = forms.CharField(label=_("理由"), max_length=500)
    approver_name = forms.CharField(label=_("批准人"), max_length=100)

    @staticmethod
    def _pending(case):
        return Appeal.objects.filter(party__case=case, kind=Appeal.Kind.APPEAL, outcome=Appeal.Outcome.PENDING,
                                     complex_case=False)

    def setup(self):
        self.pending = {a.pk: a for a in self._pending(self.obj).select_related("party")}
        self.fields["appeal"].choices = [(pk, a.party.name) for pk, a in self.pending.items()]

    @classmethod
    def available(cls, case, *args):
        return cls._pending(case).exists()

    def perform(self, case):
        d = self.cleaned_data
        return actions.do_extend_appeal(self.pending[d["appeal"]], reason=d["reason"], approver_name=d["approver_name"])


class ServeAppealResultForm(ActionForm):
    """The day the person received a 复核 or 申诉 decision: a 申诉 after a 复核 runs 15 days from it."""

    action, title = "serve_appeal", _("复核申诉决定送达")
    appeal = forms.TypedChoiceField(label=_("复核或申诉"), coerce=int, choices=())
    served_on = forms.DateField(label=_("送达日期"), widget=forms.DateInput(attrs={"type": "date"}))
    field_map = {"at": "served_on"}

    @staticmethod
    def _unserved(case):
        return Appeal.objects.filter(party__case=case, result_served_at__isnull=True).exclude(
            outcome=Appeal.Outcome.PENDING)

    def setup(self):
        self.unserved = {a.pk: a for a in self._unserved(self.obj).select_related("party")}
        self.fields["appeal"].choices = [(pk, f"{a.party.name}：{a.get_kind_display()}") for pk, a in self.unserved.items()]

    @classmethod
    def available(cls, case, *args):
        return cls._unserved(case).exists()

    def perform(self, case):
        d = self.cleaned_data
        served = datetime.combine(d["served_on"], time(12), timezone.get_current_timezone())
        return actions.do_serve_appeal_result(self.unserved[d["appeal"]], at=served)


CASE_FORMS: dict[str, type[ActionForm]] = {f.action: f for f in (
    AddPartyForm, FindingsForm, NotifyForm, StatementForm, ToleranceForm, DecideForm, CloseForm, ExtendForm,
    ServeForm, AnnounceForm, FileForm, AdjustForm, AppealForm, DecideAppealForm, ExtendAppealForm, ServeAppealResultForm,
)}


class RegisterForm(ActionForm):
    action, title = "register", _("立案")
    deciding_organ = forms.ModelChoiceField(label=_("问责机关"), queryset=Organ.objects.none())
    case_title = forms.CharField(label=_("案由"), max_length=200, required=False, help_text=_("不填则用线索事由"))
    field_map = {"title": "case_title"}

    def setup(self):
        from xiaoneng.orgs import access

        self.fields["deciding_organ"].queryset = access.scoped(Organ.objects.all(), self.user, "accountability.manage")

    @classmethod
    def available(cls, proposal, *args):
        return proposal.status == ProposalStatus.OPEN

    def perform(self, proposal: Proposal):
        d = self.cleaned_data
        return actions.do_register_case(proposal, deciding_organ=d["deciding_organ"], title=d["case_title"])


class DeclineForm(ActionForm):
    action, title, danger = "decline", _("不予立案"), True
    reason = _text(_("理由"))

    @classmethod
    def available(cls, proposal, *args):
        return proposal.status == ProposalStatus.OPEN

    def perform(self, proposal):
        return actions.do_decline_proposal(proposal, reason=self.cleaned_data["reason"])


PROPOSAL_FORMS: dict[str, type[ActionForm]] = {f.action: f for f in (RegisterForm, DeclineForm)}


class NewProposalForm(forms.Form):
    """A proposal by hand, from a source other than a red card or a complaint (those arrive by themselves)."""

    source = forms.ChoiceField(label=_("来源"), choices=[c for c in Source.choices
                                                        if c[0] not in (Source.RED_CARD, Source.COMPLAINT)])
    organ = forms.ModelChoiceField(label=_("涉及机关"), queryset=Organ.objects.none())
    order = forms.ModelChoiceField(label=_("督办"), required=False, queryset=Organ.objects.none(),
                                   help_text=_("来源为督办未落实时必选"))
    title = forms.CharField(label=_("事由"), max_length=200)
    reason = _text(_("问责建议理由"), rows=4)
    document = forms.CharField(label=_("证据材料名称"), required=False, max_length=200)
    document_text = _text(_("证据材料说明"), required=False)
    files = EvidenceFilesField(label=_("证据文件（可不传）"))
    key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        from xiaoneng.orgs import access
        from xiaoneng.supervision.models import SupervisionOrder

        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["key"].initial = secrets.token_urlsafe(24)
        self.fields["organ"].queryset = access.scoped(Organ.objects.all(), user, "accountability.manage").order_by(
            "region_code", "name")
        self.fields["order"].queryset = access.scoped(
            SupervisionOrder.objects.select_related("organ"), user, "accountability.manage").order_by("-opened_at")
        self.fields["files"].help_text = evidence_help_text()

    def clean(self):
        data = super().clean()
        if data.get("document_text") and not data.get("document"):
            self.add_error("document", _("请填写证据材料名称"))
        return data

    def perform(self):
        d = self.cleaned_data
        files = d["files"] or []
        # With files, the name and description typed belong to them; without, they are a described document.
        documents = [(d["document"], d["document_text"])] if d["document"] and not files else []
        return actions.do_propose_accountability(
            source=d["source"], organ=d["organ"], title=d["title"], reason=d["reason"], order=d["order"],
            documents=documents, proposed_by=getattr(self.user, "username", ""), files=files,
            files_label=d["document"], files_text=d["document_text"], submission_key=d["key"])
