"""Accountability (效能问责 / 过错责任追究): proposals, cases, the persons concerned, appeals.

* `Proposal` — a proposal from any source, with its evidence links (`Evidence`). A red card or
  a founded complaint already leaves a `supervision.AccountabilityProposal`; taking it up makes
  a `Proposal` that points at it (the supervision model stays where it is).
* `Case` — 问责案件, from 立案 to 备案; its status changes only through `workflow.set_status`,
  each change a `CaseStep`.
* `Party` — a person (or organ) concerned: responsibility, notified measure, statement and
  defence, error-tolerance review, decided measure and its period.
* `Appeal` — 复核 and 申诉 of one party's measure.

Whether a measure is in force is computed from its dates (`queries.measures_in_force`), never
flipped by a nightly job that can be missed.
"""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaoneng.clocks.models import Clock
from xiaoneng.lib.refs import reference
from xiaoneng.orgs.models import Organ, Region, Staff, prefix_index


class Source(models.TextChoices):
    RED_CARD = "red_card", _("红牌预警")
    COMPLAINT = "complaint", _("投诉查实")
    ORDER_FAILED = "order_failed", _("督办未落实")
    MEDIA = "media", _("明察暗访")
    INSPECTION = "inspection", _("检查或审计发现")
    LEADER = "leader", _("领导批示")
    MANUAL = "manual", _("其他（人工登记）")
    ESCALATION = "escalation", _("累计问责升级")


class ProposalStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    ACCEPTED = "accepted", _("已立案")
    DECLINED = "declined", _("不予立案")


class Proposal(models.Model):
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    # For an escalation: the person whose accumulated measures raised it, and the measure it proposes.
    staff = models.ForeignKey(Staff, verbose_name=_("责任人"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    proposed_measure = models.CharField(_("建议问责方式"), max_length=30, blank=True)
    organ = models.ForeignKey(Organ, verbose_name=_("涉及机关"), on_delete=models.PROTECT,
                              related_name="accountability_proposals")
    region_code = models.CharField(max_length=12, editable=False)
    title = models.CharField(_("事由"), max_length=200)
    reason = models.TextField(_("问责建议理由"))
    proposed_at = models.DateTimeField(_("提出时间"))
    proposed_by = models.CharField(_("提出人"), max_length=150, blank=True)
    # The supervision proposal this one takes up (red card, complaint); at most one each.
    origin = models.OneToOneField("supervision.AccountabilityProposal", verbose_name=_("监察问责建议"), null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="taken_up")
    order = models.ForeignKey("supervision.SupervisionOrder", verbose_name=_("督办"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="accountability_proposals")
    status = models.CharField(_("状态"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.OPEN)
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decline_reason = models.TextField(_("不予立案理由"), blank=True)
    case = models.ForeignKey("Case", verbose_name=_("问责案件"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="proposals")
    # The random key of the form a proposal by hand was sent with: the same form sent twice (a double
    # click, a reload) finds the first proposal instead of making a second.
    submission_key = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("问责线索")
        verbose_name_plural = _("问责线索")
        ordering = ["-proposed_at", "-id"]
        indexes = [prefix_index("acct_proposal_region_like", "region_code")]
        constraints = [models.UniqueConstraint(fields=["submission_key"], condition=~models.Q(submission_key=""),
                                               name="acct_proposal_submission_once")]

    def __str__(self):
        return f"{self.get_source_display()} · {self.title}"

    def save(self, *args, **kwargs):
        self.region_code = self.organ.region_code
        super().save(*args, **kwargs)


class Evidence(models.Model):
    """One link of a proposal's evidence chain (or of a case's findings): a record of the platform, or a
    document — described, or uploaded as a file (PDF, JPEG, PNG judged by content, stored under a random
    name, served only through the scoped download view with its hash checked)."""

    class Kind(models.TextChoices):
        ALERT = "alert", _("监察预警")
        CLOCK = "clock", _("时限")
        COMPLAINT = "complaint", _("投诉")
        ORDER = "order", _("督办")
        DOCUMENT = "document", _("材料")
        CASE = "case", _("问责案件")

    proposal = models.ForeignKey(Proposal, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence")
    # Evidence gathered for the findings (调查认定) belongs to the case, not to one of its proposals.
    case = models.ForeignKey("Case", null=True, blank=True, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    label = models.CharField(_("名称"), max_length=200)
    text = models.TextField(_("说明"), blank=True)
    target_type = reference(ContentType, null=True, blank=True, on_delete=models.PROTECT, db_index=False)
    target_id = models.BigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    attachment = models.FileField(_("附件"), upload_to="accountability/%Y/%m/", blank=True)
    file_name = models.CharField(_("文件名"), max_length=100, blank=True)  # as uploaded, for display only
    content_type = models.CharField(max_length=40, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"), null=True, blank=True)
    uploaded_by = models.CharField(_("上传人"), max_length=150, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(proposal__isnull=False) | models.Q(case__isnull=False),
                                   name="acct_evidence_proposal_or_case"),
        ]

    @property
    def type_label(self) -> str:
        return {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}.get(self.content_type, "")


class Status(models.TextChoices):
    REGISTERED = "registered", _("已立案")
    INVESTIGATED = "investigated", _("已调查")
    NOTIFIED = "notified", _("已告知")
    HEARD = "heard", _("已陈述申辩")
    REVIEWED = "reviewed", _("已容错审查")
    DECIDED = "decided", _("已决定")
    SERVED = "served", _("已送达")
    ANNOUNCED = "announced", _("已公布")
    FILED = "filed", _("已备案")
    CLOSED = "closed", _("已结案（不予问责）")


class Responsibility(models.TextChoices):
    DIRECT = "direct", _("直接责任")
    MAIN_LEADER = "main_leader", _("主要领导责任")
    IMPORTANT_LEADER = "important_leader", _("重要领导责任")
    ORGAN = "organ", _("单位责任")


class Tolerance(models.TextChoices):
    NONE = "none", _("不适用容错")
    NOT = "not", _("不予问责")
    EXEMPT = "exempt", _("免予问责")
    LIGHTER = "lighter", _("从轻问责")


class Case(models.Model):
    number = models.CharField(_("案件编号"), max_length=40, unique=True)
    title = models.CharField(_("案由"), max_length=200)
    organ = models.ForeignKey(Organ, verbose_name=_("涉及机关"), on_delete=models.PROTECT,
                              related_name="accountability_cases")
    region_code = models.CharField(max_length=12, editable=False)
    deciding_organ = models.ForeignKey(Organ, verbose_name=_("问责机关"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=14, choices=Status.choices, default=Status.REGISTERED,
                              db_index=True)
    registered_at = models.DateTimeField(_("立案时间"))
    findings = models.TextField(_("调查认定的事实"), blank=True)
    decision_clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decision_extended = models.BooleanField(_("已延长办理期限"), default=False)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decider = models.CharField(_("决定人"), max_length=100, blank=True)
    decision_year = models.PositiveSmallIntegerField(null=True, blank=True)
    decision_number = models.CharField(_("决定书文号"), max_length=60, blank=True)
    # Whether the decision rests on a catch-all clause (“其他失职失责情形” and the like) rather than a
    # specific one: the statistics show its share, the usual sign of 问责泛化.
    catch_all = models.BooleanField(_("依据兜底条款"), default=False)
    served_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    announced_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    announcement_scope = models.CharField(_("公布范围"), max_length=200, blank=True)
    # Whether the scope is the public at large (向社会公开): only then does the decision appear on the
    # public 通报 page. The scope's words alone cannot say it ("不向社会公开" contains "向社会公开").
    announcement_public = models.BooleanField(_("向社会公开"), default=False)
    filing_clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    filed_at = models.DateTimeField(_("备案时间"), null=True, blank=True)
    filed_with = models.CharField(_("备案机关"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("问责案件")
        verbose_name_plural = _("问责案件")
        ordering = ["-registered_at", "-id"]
        indexes = [prefix_index("acct_case_region_like", "region_code")]
        constraints = [
            # A decision number is unique per deciding organ and year (发文字号).
            models.UniqueConstraint(fields=["deciding_organ", "decision_year", "decision_number"],
                                    condition=~models.Q(decision_number=""), name="acct_decision_number_once"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def save(self, *args, **kwargs):
        self.region_code = self.organ.region_code
        super().save(*args, **kwargs)


class CaseStep(models.Model):
    class Kind(models.TextChoices):
        REGISTER = "register", _("立案")
        PARTY = "party", _("确定责任人")
        INVESTIGATE = "investigate", _("调查认定")
        NOTIFY = "notify", _("告知拟问责意见")
        HEAR = "hear", _("陈述申辩")
        WAIVE = "waive", _("放弃陈述申辩")
        TOLERANCE = "tolerance", _("容错纠错审查")
        EXTEND = "extend", _("延长办理期限")
        DECIDE = "decide", _("作出决定")
        SERVE = "serve", _("送达")
        ANNOUNCE = "announce", _("公布")
        FILE = "file", _("备案")
        ADJUST = "adjust", _("组织调整落实")
        CLOSE = "close", _("结案")
        APPEAL = "appeal", _("复核申诉")
        APPEAL_DECIDE = "appeal_decide", _("复核申诉决定")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    from_status = models.CharField(max_length=14, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=14, choices=Status.choices, blank=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField(max_length=150, blank=True)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]


class Party(models.Model):
    """A person (or an organ) concerned in a case, and everything decided about them."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    staff = models.ForeignKey(Staff, verbose_name=_("责任人"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="accountability")
    organ = models.ForeignKey(Organ, verbose_name=_("责任单位"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    name = models.CharField(_("姓名或名称"), max_length=200)
    rank = models.CharField(_("职务职级"), max_length=50, blank=True)
    responsibility = models.CharField(_("责任类型"), max_length=20, choices=Responsibility.choices)
    # 告知: the intended measure (and period) told to the person before the decision.
    notified_measure = models.CharField(_("拟问责方式"), max_length=30, blank=True)
    notified_months = models.PositiveSmallIntegerField(_("拟处分期（月）"), null=True, blank=True)
    notified_at = models.DateTimeField(_("告知时间"), null=True, blank=True)
    # 陈述申辩: recorded, or its waiver recorded.
    heard_at = models.DateTimeField(_("陈述申辩时间"), null=True, blank=True)
    hearing_waived = models.BooleanField(_("放弃陈述申辩"), default=False)
    statement = models.TextField(_("陈述申辩内容"), blank=True)
    # 容错纠错
    tolerance_situations = models.JSONField(_("容错情形"), default=list, blank=True)
    tolerance_outcome = models.CharField(_("容错结论"), max_length=10, choices=Tolerance.choices, blank=True)
    tolerance_reason = models.TextField(_("容错理由"), blank=True)
    # The decision: the measure executed, the measures of each violation, the period.
    measure = models.CharField(_("问责方式"), max_length=30, blank=True)
    measure_codes = models.JSONField(default=list, blank=True)
    months = models.PositiveSmallIntegerField(_("处分期（月）"), null=True, blank=True)
    starts_on = models.DateField(_("起始日"), null=True, blank=True)
    ends_on = models.DateField(_("期满日"), null=True, blank=True)
    effect_ends_on = models.DateField(_("影响期满日"), null=True, blank=True)
    revoked_on = models.DateField(_("撤销日"), null=True, blank=True)
    adjustment_clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    adjusted_at = models.DateTimeField(_("组织调整落实时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("责任人")
        verbose_name_plural = _("责任人")
        ordering = ["case_id", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(staff__isnull=False) | models.Q(organ__isnull=False),
                                   name="acct_party_person_or_organ"),
        ]

    def __str__(self):
        return self.name

    @property
    def hearing_done(self) -> bool:
        return self.heard_at is not None

    @property
    def region_code(self) -> str:
        """The case's region, so audit entries about the person sit in the case's scope."""
        return self.case.region_code


class Appeal(models.Model):
    class Kind(models.TextChoices):
        REVIEW = "review", _("复核")
        APPEAL = "appeal", _("申诉")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("办理中")
        UPHELD = "upheld", _("维持")
        CHANGED = "changed", _("变更")
        REVOKED = "revoked", _("撤销")

    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="appeals")
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    received_at = models.DateTimeField(_("收到申请时间"))
    grounds = models.TextField(_("理由"))
    clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    complex_case = models.BooleanField(_("案情复杂延长"), default=False)
    outcome = models.CharField(_("结果"), max_length=8, choices=Outcome.choices, default=Outcome.PENDING)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    # When the person received the decision: a 申诉 after a 复核 runs from this day (公务员法第九十五条).
    result_served_at = models.DateTimeField(_("决定送达时间"), null=True, blank=True)
    new_measure = models.CharField(_("变更后问责方式"), max_length=30, blank=True)
    new_months = models.PositiveSmallIntegerField(_("变更后处分期（月）"), null=True, blank=True)
    reasons = models.TextField(_("决定理由"), blank=True)
    pay_to_restore = models.TextField(_("应补发的工资待遇"), blank=True)

    class Meta:
        verbose_name = _("复核申诉")
        verbose_name_plural = _("复核申诉")
        ordering = ["received_at", "id"]

    @property
    def region_code(self) -> str:
        return self.party.case.region_code


class FilingLevel(models.TextChoices):
    SAME = "same", _("同级监察部门")
    ABOVE = "above", _("上一级机关")


class Filing(models.Model):
    """One filing (备案) a decision needs: always with the same-level supervisory organ, and with the
    level above where a decided measure's rule says so (`measures.filing_above_reasons`). Each runs
    its own filing clock; the case is filed once every one of them is recorded."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="filings")
    level = models.CharField(_("备案层级"), max_length=8, choices=FilingLevel.choices)
    # Why the level above is required: the persons and measures that call for it, in words of the moment.
    reasons = models.TextField(_("报上一级备案的原因"), blank=True)
    clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    filed_with = models.CharField(_("备案机关"), max_length=200, blank=True)
    filed_at = models.DateTimeField(_("备案时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("备案")
        verbose_name_plural = _("备案")
        ordering = ["case_id", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "level"], name="acct_filing_once_per_level")]

    def __str__(self):
        return f"{self.case.number} {self.get_level_display()}"

    @property
    def region_code(self) -> str:
        return self.case.region_code

    def is_late(self, now) -> bool:
        """Filed after its clock's due time, or not filed and past it now."""
        due = self.clock.due_at if self.clock_id else None
        if due is None:
            return False
        return self.filed_at > due if self.filed_at else now > due


class PeriodicReport(models.Model):
    """The supervisory organ's report to the government for a region and a period (监察部门定期报告),
    once issued: the figures as they stood, and the document (acct.report) issued on it."""

    region = models.ForeignKey(Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="+")
    region_code = models.CharField(max_length=12, editable=False)
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"), default=0)  # 0: the whole year
    issued_at = models.DateTimeField(_("制发时间"))
    figures = models.JSONField(_("报告数据"), default=dict)

    class Meta:
        verbose_name = _("问责工作定期报告")
        verbose_name_plural = _("问责工作定期报告")
        ordering = ["-year", "-quarter", "region_code"]
        constraints = [models.UniqueConstraint(fields=["region", "year", "quarter"], name="acct_report_once_per_period")]

    def __str__(self):
        return f"{self.region} {self.year}" + (f"-Q{self.quarter}" if self.quarter else "")

    def save(self, *args, **kwargs):
        self.region_code = self.region.prefix
        super().save(*args, **kwargs)
