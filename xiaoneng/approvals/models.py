"""Matters (事项目录) and approval cases (办件) under the Administrative Licensing Law.

A matter is versioned: a case points at the `MatterVersion` in force when it was
received, so later changes to the catalogue never move its deadlines. A case's life is
the transition table in `workflow.py`; every change goes through `actions.py`, which
also starts, pauses, extends and stops the case's clocks (xiaoneng.clocks).

Parallel approval (并联审批): the application is a case with `is_parallel`, and each
co-organ (and the lead organ itself) handles a sub-case whose `parent` is that case.
The joint clock lives on the parent.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xiaoneng.clocks.models import Clock, Unit
from xiaoneng.lib.refs import reference
from xiaoneng.orgs.models import Organ, prefix_index


class MatterKind(models.TextChoices):
    LICENCE = "licence", _("行政许可")
    CONFIRMATION = "confirmation", _("行政确认")
    PAYMENT = "payment", _("行政给付")
    SERVICE = "service", _("公共服务")
    OTHER = "other", _("其他行政权力")


class Matter(models.Model):
    code = models.CharField(_("事项编码"), max_length=40, unique=True)
    name = models.CharField(_("事项名称"), max_length=200)
    kind = models.CharField(_("事项类型"), max_length=20, choices=MatterKind.choices)
    organ = models.ForeignKey(Organ, verbose_name=_("实施机关"), on_delete=models.PROTECT, related_name="matters")
    current = models.ForeignKey(
        "MatterVersion", verbose_name=_("现行版本"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("事项")
        verbose_name_plural = _("事项目录")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（{self.code}）"


class MatterVersion(models.Model):
    """The rules of a matter from `effective_from` on; never edited once a case uses it."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本"))
    effective_from = models.DateTimeField(_("生效时间"))
    legal_basis = models.TextField(_("设定依据"))
    legal_limit = models.PositiveIntegerField(_("法定时限"))
    legal_unit = models.CharField(_("法定时限单位"), max_length=10, choices=Unit.choices, default=Unit.WORKING)
    promised_limit = models.PositiveIntegerField(_("承诺时限"))
    promised_unit = models.CharField(_("承诺时限单位"), max_length=10, choices=Unit.choices, default=Unit.WORKING)
    is_free = models.BooleanField(_("不收费"), default=True)
    fee_standard = models.DecimalField(_("收费标准（元）"), max_digits=12, decimal_places=2, null=True, blank=True)
    fee_basis = models.CharField(_("收费依据"), max_length=300, blank=True)
    materials = models.JSONField(_("申请材料"), default=list, blank=True)
    needs_first_review = models.BooleanField(_("需下级机关初审"), default=False)
    first_review_limit = models.PositiveIntegerField(_("初审时限（工作日）"), default=20)
    is_parallel = models.BooleanField(_("并联审批"), default=False)
    co_organs = models.ManyToManyField(Organ, verbose_name=_("协办机关"), blank=True, related_name="co_matters")
    joint_limit = models.PositiveIntegerField(_("联合办理时限（工作日）"), default=45)
    joint_extension_max = models.PositiveIntegerField(_("联合办理可延长（工作日）"), default=15)
    extension_max = models.PositiveIntegerField(_("可延长（工作日）"), default=10)
    certificate_limit = models.PositiveIntegerField(_("送达证件时限（工作日）"), default=10)
    correction_limit = models.PositiveIntegerField(_("一次性告知补正时限（工作日）"), default=5)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("事项版本")
        verbose_name_plural = _("事项版本")
        ordering = ["matter_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["matter", "number"], name="matter_version_unique")]

    def __str__(self):
        return f"{self.matter.code} v{self.number}"


class MatterStep(models.Model):
    version = models.ForeignKey(MatterVersion, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("环节"), max_length=60)
    limit = models.PositiveIntegerField(_("环节时限"))
    unit = models.CharField(_("单位"), max_length=10, choices=Unit.choices, default=Unit.WORKING)
    is_first_review = models.BooleanField(_("下级初审环节"), default=False)

    class Meta:
        verbose_name = _("办理环节")
        verbose_name_plural = _("办理环节")
        ordering = ["version_id", "order"]
        constraints = [models.UniqueConstraint(fields=["version", "order"], name="matter_step_unique")]

    def __str__(self):
        return self.name


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("已申请")
    CORRECTION_REQUESTED = "correction_requested", _("待补正")
    CORRECTED = "corrected", _("已补正")
    ACCEPTED = "accepted", _("已受理")
    REFUSED = "refused", pgettext_lazy("case status", "不予受理")  # the action is also 不予受理: "Refuse to accept"
    SUSPENDED = "suspended", _("特别程序")
    DECIDED = "decided", _("已决定")
    CERTIFIED = "certified", _("已送达")
    CLOSED = "closed", _("已办结")
    WITHDRAWN = "withdrawn", _("已撤回")


class Outcome(models.TextChoices):
    GRANTED = "granted", _("准予许可")
    DENIED = "denied", _("不予许可")


class Case(models.Model):
    case_no = models.CharField(_("办件编号"), max_length=64)
    matter_version = reference(MatterVersion, verbose_name=_("事项"), on_delete=models.PROTECT)
    organ = reference(Organ, verbose_name=_("办理机关"), on_delete=models.PROTECT, related_name="cases",
                              db_index=False)
    region_code = models.CharField(max_length=12, editable=False)
    parent = models.ForeignKey(
        "self", verbose_name=_("并联申请"), null=True, blank=True, on_delete=models.CASCADE, related_name="subcases",
        db_index=False,
    )
    is_parallel = models.BooleanField(_("并联审批"), default=False)
    first_review_organ = reference(
        Organ, verbose_name=_("初审机关"), null=True, blank=True, on_delete=models.PROTECT, related_name="first_reviews",
        db_index=False,
    )

    applicant_name = models.CharField(_("申请人"), max_length=100)
    applicant_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    verify_hash = models.CharField(max_length=128, blank=True, editable=False)

    status = models.CharField(_("状态"), max_length=24, choices=Status.choices, default=Status.SUBMITTED)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices, blank=True)
    received_at = models.DateTimeField(_("收件时间"), db_index=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    deemed_accepted = models.BooleanField(_("视为受理"), default=False, help_text=_("逾期未一次性告知补正，自收到材料之日起视为受理"))
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    certified_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    reasons = models.TextField(_("理由"), blank=True)
    fee_charged = models.DecimalField(_("实收费用（元）"), max_digits=12, decimal_places=2, default=0)
    extended = models.BooleanField(_("已延长"), default=False)

    # The clocks the law sets (DESIGN.md section 2); null until the case reaches them.
    correction_clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    promise_clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    legal_clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    certificate_clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    source = reference(
        "approvals.ExchangeSource", verbose_name=_("数据来源"), null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-received_at"]
        # A case is written at every step of its life (the exchange inbox rewrites thousands a second)
        # and each index costs every write: the organ's cases through (organ, status), no index on the
        # dozen statuses alone, no pattern-ops copy of case_no (searches are icontains, which no b-tree
        # serves), and sub-cases and first reviews — a small minority — only in partial indexes.
        indexes = [
            prefix_index("case_region_like", "region_code"),
            models.Index(fields=["organ", "status"]),
            models.Index(fields=["parent"], condition=models.Q(parent__isnull=False), name="case_parent"),
            models.Index(fields=["first_review_organ"], condition=models.Q(first_review_organ__isnull=False),
                         name="case_first_review"),
        ]
        constraints = [models.UniqueConstraint(fields=["case_no"], name="case_no_unique")]

    def __str__(self):
        return self.case_no

    @property
    def matter(self) -> Matter:
        return self.matter_version.matter

    def is_open(self) -> bool:
        return self.status not in (Status.CLOSED, Status.REFUSED, Status.WITHDRAWN)


class StatusChange(models.Model):
    """One row per status change: who, when, from what to what, why (django-oscar style)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="changes")
    from_status = models.CharField(max_length=24, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=Status.choices)
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              db_index=False)
    actor_label = models.CharField(max_length=150, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("状态变更")
        verbose_name_plural = _("状态变更")
        ordering = ["at", "id"]
        # The actor is looked up only when a user is deleted (PROTECT); changes the exchange inbox
        # writes, most of them, have none and stay out of the index.
        indexes = [models.Index(fields=["actor"], name="status_change_actor",
                                condition=models.Q(actor__isnull=False))]


class CaseEvent(models.Model):
    """Everything else on the timeline: corrections, steps, pauses, extensions, fees."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", _("一次性告知补正")
        STEP = "step", _("环节办结")
        SUSPEND = "suspend", _("进入特别程序")
        RESUME = "resume", _("恢复计时")
        EXTEND = "extend", _("延长")
        FEE = "fee", _("收费")
        NOTIFY = "notify", _("通知申请人")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField(_("时间"))
    data = models.JSONField(default=dict, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["at", "id"]


class CaseStep(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps", db_index=False)  # case_step_once
    step = reference(MatterStep, on_delete=models.PROTECT)
    organ = reference(Organ, verbose_name=_("办理机关"), on_delete=models.PROTECT)
    clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    handler = models.CharField(_("经办人"), max_length=100, blank=True)

    class Meta:
        ordering = ["case_id", "step__order"]
        constraints = [models.UniqueConstraint(fields=["case", "step"], name="case_step_once")]


class ExchangeSource(models.Model):
    """An organ's own approval system that pushes case events (数据交换)."""

    code = models.SlugField(_("来源编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    key_prefix = models.CharField(max_length=12, editable=False, db_index=True)
    key_hash = models.CharField(max_length=128, editable=False)
    organs = models.ManyToManyField(Organ, verbose_name=_("可报送机关"), related_name="exchange_sources")
    is_active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("数据交换来源")
        verbose_name_plural = _("数据交换来源")

    def __str__(self):
        return self.code


class ExchangeBatch(models.Model):
    """A request body exactly as received, stored before anything is parsed."""

    source = models.ForeignKey(ExchangeSource, on_delete=models.PROTECT, related_name="batches")
    received_at = models.DateTimeField(_("接收时间"), db_index=True)
    channel = models.CharField(_("渠道"), max_length=10, default="api")  # api | file
    raw = models.TextField(_("原始数据"))
    size = models.PositiveIntegerField(_("字节数"))
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    results = models.JSONField(_("处理结果"), default=dict, blank=True)
    error = models.TextField(_("错误"), blank=True)

    class Meta:
        verbose_name = _("交换批次")
        verbose_name_plural = _("交换批次")
        ordering = ["-received_at"]


class ExchangeEvent(models.Model):
    class State(models.TextChoices):
        APPLIED = "applied", _("已应用")
        HELD = "held", _("等待前序事件")
        REJECTED = "rejected", _("已拒收")
        EXPIRED = "expired", _("等待超时")

    source = reference(ExchangeSource, on_delete=models.PROTECT, related_name="events", db_index=False)
    batch = reference(ExchangeBatch, on_delete=models.PROTECT, related_name="events", db_index=False)
    event_id = models.CharField(_("事件编号"), max_length=100)
    type = models.CharField(_("类型"), max_length=30)
    occurred_at = models.DateTimeField(_("发生时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("接收时间"))
    lag_seconds = models.BigIntegerField(_("迟报秒数"), null=True, blank=True)
    case_no = models.CharField(_("办件编号"), max_length=64, blank=True)
    organ_code = models.CharField(_("机关代码"), max_length=18, blank=True)
    payload = models.JSONField(default=dict)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices)
    error_field = models.CharField(max_length=60, blank=True)
    error_reason = models.CharField(max_length=500, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("交换事件")
        verbose_name_plural = _("交换事件")
        # Event id first: the inbox looks up a batch's ids (`event_id = ANY(…)` within one source), and
        # with the source first a table not analysed yet (a new deployment, a bulk load) was read
        # through the source alone — every event of the source, for every batch.
        constraints = [models.UniqueConstraint(fields=["event_id", "source"], name="exchange_event_once")]
        # One row per event received, so every index costs every event: only the events still
        # waiting (held, expired) are indexed by state, no pattern-ops copies, nothing on the lag (the
        # timeliness rule reads it from the rows it is handed), and nothing on the source or the batch
        # alone (nothing looks events up by them but deleting one, which the events refuse; an index on
        # the source alone also tempted the planner, without statistics, to read a source's every event).
        indexes = [models.Index(fields=["case_no", "occurred_at"], name="exchange_waiting",
                                condition=models.Q(state__in=["held", "expired"])),
                   models.Index(fields=["case_no"], name="exchange_case_no")]


class CaseNumberSequence(models.Model):
    """The last serial a case number generated at the counter took, per organ and year (登记办件)."""

    organ = models.ForeignKey(Organ, on_delete=models.CASCADE, related_name="+", db_index=False)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organ", "year"], name="case_number_sequence_once")]


def _material_path(instance, filename: str) -> str:
    """A random name under MEDIA_ROOT: nothing of the applicant's file name reaches the disk."""
    import secrets

    suffix = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "application/ofd": ".ofd"}
    return f"case-materials/{secrets.token_hex(2)}/{secrets.token_hex(16)}{suffix.get(instance.content_type, '')}"


class CaseMaterial(models.Model):
    """A material the applicant handed in at registration, as stored (read only through the scoped view)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials", db_index=False)
    name = models.CharField(_("材料名称"), max_length=200)
    file = models.FileField(_("文件"), upload_to=_material_path, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, editable=False)
    size = models.PositiveIntegerField(_("字节数"))
    content_type = models.CharField(_("文件类型"), max_length=40)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, blank=True,
                                    on_delete=models.PROTECT, db_index=False, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["case_id", "id"]
        indexes = [models.Index(fields=["case"], name="case_material_case")]

    def __str__(self):
        return self.name

    @property
    def type_label(self) -> str:
        """The file type as people name it (PDF, JPEG …), not the media type."""
        return {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG",
                "application/ofd": "OFD"}.get(self.content_type, self.content_type)


class CaseApplicant(models.Model):
    """Who applied, as registered at the counter: a person (resident ID, kept masked) or an organisation
    (its unified social credit code, a public register number, kept whole)."""

    class Kind(models.TextChoices):
        PERSON = "person", _("自然人")
        ORGANISATION = "organisation", _("法人或其他组织")

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="applicant")
    kind = models.CharField(_("申请人类型"), max_length=12, choices=Kind.choices)
    code = models.CharField(_("证件号码"), max_length=18)

    class Meta:
        verbose_name = _("申请人")
        verbose_name_plural = _("申请人")
