"""Efficiency complaints (效能投诉), service ratings (好差评) and Open311 clients.

A complaint comes in through a channel, gets a tracking code and a secret for the
complainant, is accepted or not, routed to the responsible organ (which may send a
wrongly routed complaint back), handled on a clock, replied to, rated, and closed or
reviewed on appeal (复核). Its life is the transition table in `workflow.py`; every
change goes through `actions.py`.

The complainant's identity (name, phone, ID number, address, e-mail, device id) is one
encrypted blob (`identity.py`): pages show only the masked copies stored beside it,
and every decryption for a person is written to the audit log.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from xiaoneng.clocks.models import Clock
from xiaoneng.orgs.models import Organ, Region, prefix_index


class Channel(models.TextChoices):
    WEB = "web", _("网上投诉")
    HOTLINE = "hotline", _("民声热线")
    SMS = "sms", _("短信")
    LETTER = "letter", _("来信")
    VISIT = "visit", _("来访")
    MEDIA = "media", _("媒体暗访")
    INTERVIEW = "interview", _("效能访谈")
    REFERRAL = "referral", _("上级转办")
    OPEN311 = "open311", _("Open311 接口")


class ReplyChannel(models.TextChoices):
    SMS = "sms", _("短信")
    PHONE = "phone", _("电话")
    LETTER = "letter", _("书面")
    EMAIL = "email", _("电子邮件")
    WEB = "web", _("网上查询")


class Satisfaction(models.IntegerChoices):
    """The five official levels of 好差评 (and of a complainant's satisfaction)."""

    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    BASICALLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


BAD_LEVELS = (Satisfaction.DISSATISFIED, Satisfaction.VERY_DISSATISFIED)


class Category(models.Model):
    """A complaint category; for Open311 clients, a service."""

    code = models.SlugField(_("类别编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    description = models.CharField(_("说明"), max_length=500, blank=True)
    group = models.CharField(_("分组"), max_length=60, blank=True)
    keywords = models.CharField(_("关键词"), max_length=200, blank=True, help_text=_("逗号分隔"))
    # Extra questions an Open311 client must ask (GeoReport v2 service definition attributes).
    attributes = models.JSONField(_("附加字段"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("投诉类别")
        verbose_name_plural = _("投诉类别")
        ordering = ["order", "code"]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """The name in the reader's language: the English name on English pages, if there is one."""
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class Status(models.TextChoices):
    REGISTERED = "registered", _("已登记")
    ACCEPTED = "accepted", _("已受理")
    NOT_ACCEPTED = "not_accepted", pgettext_lazy("complaint status", "不予受理")
    ROUTED = "routed", _("已转办")
    SENT_BACK = "sent_back", _("已退回")
    HANDLED = "handled", _("已办理")
    REPLIED = "replied", _("已答复")
    REVIEW = "review", _("复核中")
    CLOSED = "closed", _("已办结")
    MERGED = "merged", _("已合并")


class Result(models.TextChoices):
    FOUNDED = "founded", _("属实")
    PARTLY = "partly", _("部分属实")
    UNFOUNDED = "unfounded", _("不属实")


class ApiKey(models.Model):
    """An Open311 client (a city app, a hotline system …) allowed to file requests."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    key_prefix = models.CharField(max_length=12, editable=False, db_index=True)
    key_hash = models.CharField(max_length=128, editable=False)
    is_active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 接口密钥")
        verbose_name_plural = _("Open311 接口密钥")

    def __str__(self):
        return self.name


class Complaint(models.Model):
    number = models.CharField(_("投诉编号"), max_length=24, unique=True)
    secret_hash = models.CharField(max_length=64, editable=False)
    token = models.UUIDField(_("受理凭据"), unique=True, editable=False)  # Open311 tokens/{id}
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, db_index=True)
    source_ref = models.CharField(_("来源编号"), max_length=100, blank=True,
                                  help_text=_("热线工单号、媒体与栏目、访谈期次或转办文号"))
    category = models.ForeignKey(Category, verbose_name=_("类别"), on_delete=models.PROTECT)
    title = models.CharField(_("标题"), max_length=200)
    content = models.TextField(_("投诉内容"))

    region = models.ForeignKey(Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    region_code = models.CharField(max_length=12, editable=False)
    office = models.ForeignKey(Organ, verbose_name=_("受理机构"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="complaints_received")
    named_organ = models.CharField(_("被投诉单位（投诉人所述）"), max_length=200, blank=True)
    organ = models.ForeignKey(Organ, verbose_name=_("承办机关"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="complaints")
    matter = models.ForeignKey("approvals.Matter", verbose_name=_("涉及事项"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    case = models.ForeignKey("approvals.Case", verbose_name=_("涉及办件"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="complaints")
    address_string = models.CharField(_("事发地点"), max_length=200, blank=True)
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)

    # The complainant: encrypted blob + masked copies for display + keyed digests for matching.
    anonymous = models.BooleanField(_("匿名"), default=False)
    identity_enc = models.TextField(editable=False, blank=True)
    name_masked = models.CharField(_("投诉人"), max_length=60, blank=True)
    phone_masked = models.CharField(_("联系电话"), max_length=30, blank=True)
    phone_digest = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    content_digest = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    reply_channel = models.CharField(_("答复方式"), max_length=10, choices=ReplyChannel.choices, default=ReplyChannel.WEB)

    status = models.CharField(_("状态"), max_length=14, choices=Status.choices, default=Status.REGISTERED,
                              db_index=True)
    received_at = models.DateTimeField(_("登记时间"), db_index=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    routed_at = models.DateTimeField(_("转办时间"), null=True, blank=True)
    sendback_until = models.DateTimeField(_("可退回期限"), null=True, blank=True)
    route_count = models.PositiveSmallIntegerField(_("转办次数"), default=0)
    handled_at = models.DateTimeField(_("办理完毕"), null=True, blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    reasons = models.TextField(_("不予受理理由"), blank=True)
    result = models.CharField(_("核查结论"), max_length=10, choices=Result.choices, blank=True)
    handling_report = models.TextField(_("办理情况"), blank=True)
    reply = models.TextField(_("答复内容"), blank=True)
    # What the public Open311 interface shows of `content` and of the outcome text (`reasons` or `reply`),
    # for complaints filed through it: the complainant's identity masked as the text was written
    # (identity.mask_in), so that a public read never needs to decrypt it.
    public_content = models.TextField(editable=False, blank=True)
    public_note = models.TextField(editable=False, blank=True)
    # Every free text (masking.TEXT_FIELDS) as a reader without the identity right reads it, masked with
    # the complainant's identity when it was written (see masking.py): field name → masked copy.
    masked = models.JSONField(editable=False, default=dict, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("满意度"), choices=Satisfaction.choices, null=True, blank=True)
    satisfaction_comment = models.CharField(_("评价意见"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    appeal_reasons = models.TextField(_("复核申请理由"), blank=True)
    appealed_at = models.DateTimeField(_("申请复核时间"), null=True, blank=True)
    extended = models.BooleanField(_("已延期"), default=False)
    merged_into = models.ForeignKey("self", verbose_name=_("合并至"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="merged")
    possible_duplicate = models.ForeignKey("self", verbose_name=_("疑似重复"), null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="+")

    acceptance_clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    handling_clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.PROTECT, related_name="complaints")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("效能投诉")
        verbose_name_plural = _("效能投诉")
        ordering = ["-received_at"]
        indexes = [
            prefix_index("complaint_region_like", "region_code"),
            models.Index(fields=["organ", "status"], name="complaint_organ_status"),
        ]
        # One complaint per gateway message, even when the gateway delivers it twice at the same moment
        # to two web workers (the callback's cache lock is per process without a shared cache).
        constraints = [models.UniqueConstraint(fields=["source_ref"], condition=models.Q(channel="sms") & ~models.Q(source_ref=""),
                                               name="complaint_sms_message_once")]

    def __str__(self):
        # The masked title: this label reaches the audit log, which readers without the identity right read.
        return f"{self.number} {self.masked.get('title', '')}".strip()

    def is_open(self) -> bool:
        return self.status not in (Status.CLOSED, Status.NOT_ACCEPTED, Status.MERGED)

    @property
    def complainant_label(self) -> str:
        """What a page may always show: 匿名, or the masked name."""
        return str(_("匿名")) if self.anonymous else (self.name_masked or "—")


class Attachment(models.Model):
    """A picture or PDF the complainant sent with the complaint, stored under a random name."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(_("文件名"), max_length=100)
    file = models.FileField(upload_to="complaints/%Y/%m/")
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["complaint_id", "id"]


class ComplaintStep(models.Model):
    """The complaint's timeline; `public` steps are also shown to the complainant."""

    class Kind(models.TextChoices):
        REGISTER = "register", _("登记")
        ACCEPT = "accept", _("受理")
        NOT_ACCEPT = "not_accept", _("不予受理")
        ROUTE = "route", _("转办")
        SEND_BACK = "send_back", _("退回")
        EXTENSION_REQUEST = "ext_request", _("申请延期")
        EXTENSION_DECISION = "ext_decision", _("延期审批")
        HANDLE = "handle", _("办理反馈")
        RETURN = "return", _("退回重办")
        REPLY = "reply", _("答复")
        RATE = "rate", _("评价")
        APPEAL = "appeal", _("申请复核")
        REVIEW = "review", _("复核决定")
        CLOSE = "close", _("办结")
        MERGE = "merge", _("合并")
        IDENTITY_GRANT = "id_grant", _("授权查看投诉人")
        ORDER = "order", _("督办")
        PROPOSAL = "proposal", _("问责建议")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    from_status = models.CharField(max_length=14, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=14, choices=Status.choices, blank=True)
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField(max_length=150, blank=True)
    organ = models.ForeignKey(Organ, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(blank=True)
    text_masked = models.TextField(editable=False, blank=True)  # `text` masked when written (masking.py)
    data = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]


class ExtensionRequest(models.Model):
    """The organ asks for more time; a supervisor approves (the clock is extended) or refuses."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="extension_requests")
    days = models.PositiveIntegerField(_("延期天数"))
    reasons = models.TextField(_("理由"))
    requested_at = models.DateTimeField(_("申请时间"))
    requested_by = models.CharField(max_length=150, blank=True)
    approved = models.BooleanField(_("批准"), null=True)
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    note = models.TextField(_("审批意见"), blank=True)
    masked = models.JSONField(editable=False, default=dict, blank=True)  # reasons and note, masked (masking.py)

    class Meta:
        ordering = ["requested_at", "id"]


class IdentityGrant(models.Model):
    """A supervisor lets the organ complained about see who complained (one complaint)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="identity_grants")
    organ = models.ForeignKey(Organ, on_delete=models.PROTECT, related_name="+")
    reasons = models.TextField(_("理由"))
    reasons_masked = models.TextField(editable=False, blank=True)  # masking.py
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["complaint", "organ"], name="identity_grant_once")]


# --- 好差评 ------------------------------------------------------------------------------
class RatingKind(models.TextChoices):
    ONLINE = "online", _("网上办事")
    OFFLINE = "offline", _("窗口服务")


# The standard sub-indicators (政务服务"好差评"), per kind; each is rated on the five levels.
SUB_INDICATORS: dict[str, dict[str, object]] = {
    RatingKind.ONLINE: {
        "overall": _("总体评价"), "efficiency": _("办事效率"), "guide": _("办事指南准确性"),
        "convenience": _("办理便捷程度"), "usability": _("平台好用程度"),
    },
    RatingKind.OFFLINE: {
        "overall": _("总体评价"), "efficiency": _("办事效率"), "competence": _("业务水平"), "attitude": _("服务态度"),
    },
}


class RatingStatus(models.TextChoices):
    DONE = "done", _("无需整改")
    CALLBACK = "callback", _("待回访")
    RECTIFYING = "rectifying", _("整改中")
    RECTIFIED = "rectified", _("已整改")
    APPEALED = "appealed", _("申诉中")
    ANNULLED = "annulled", _("已核销")


class Rating(models.Model):
    kind = models.CharField(_("评价类型"), max_length=8, choices=RatingKind.choices)
    channel = models.CharField(_("评价渠道"), max_length=12, blank=True,
                               help_text=_("pc、app、窗口评价器、短信、热线等"))
    case = models.ForeignKey("approvals.Case", verbose_name=_("办件"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="ratings")
    matter = models.ForeignKey("approvals.Matter", verbose_name=_("事项"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    organ = models.ForeignKey(Organ, verbose_name=_("被评价机关"), on_delete=models.PROTECT, related_name="ratings")
    region_code = models.CharField(max_length=12, editable=False)
    window = models.CharField(_("窗口"), max_length=60, blank=True)
    level = models.PositiveSmallIntegerField(_("评价等级"), choices=Satisfaction.choices, db_index=True)
    scores = models.JSONField(_("分项评价"), default=dict, blank=True)
    comment = models.TextField(_("评价内容"), blank=True)
    rated_at = models.DateTimeField(_("评价时间"), db_index=True)

    named = models.BooleanField(_("实名"), default=False)
    identity_enc = models.TextField(editable=False, blank=True)
    name_masked = models.CharField(_("评价人"), max_length=60, blank=True)
    phone_masked = models.CharField(_("联系电话"), max_length=30, blank=True)
    phone_digest = models.CharField(max_length=64, blank=True, editable=False)

    status = models.CharField(_("状态"), max_length=10, choices=RatingStatus.choices, default=RatingStatus.DONE,
                              db_index=True)
    rectification_clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL,
                                               related_name="+")
    callback_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    callback_note = models.TextField(_("回访情况"), blank=True)
    rectification_report = models.TextField(_("整改情况"), blank=True)
    rectified_at = models.DateTimeField(_("整改完成"), null=True, blank=True)
    rater_told_at = models.DateTimeField(_("告知评价人"), null=True, blank=True)
    appeal_reasons = models.TextField(_("申诉理由"), blank=True)
    appealed_at = models.DateTimeField(_("申诉时间"), null=True, blank=True)
    appeal_decision = models.TextField(_("申诉处理意见"), blank=True)
    decided_at = models.DateTimeField(_("申诉处理时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("好差评")
        verbose_name_plural = _("好差评")
        ordering = ["-rated_at"]
        indexes = [
            prefix_index("rating_region_like", "region_code"),
            models.Index(fields=["organ", "rated_at"], name="rating_organ_time"),
        ]
        # One rating per case (per sub-case of a parallel application): the first stands. The
        # action refuses a second one under the case's row lock; this holds when two submits race.
        constraints = [models.UniqueConstraint(fields=["case"], condition=models.Q(case__isnull=False),
                                               name="rating_once_per_case")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.get_level_display()} #{self.pk}"

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS


class RatingStep(models.Model):
    class Kind(models.TextChoices):
        RATE = "rate", _("评价")
        CALLBACK = "callback", _("回访")
        REPORT = "report", _("整改反馈")
        TELL = "tell", _("告知评价人")
        APPEAL = "appeal", _("申诉")
        DECIDE = "decide", _("申诉处理")

    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField()
    actor_label = models.CharField(max_length=150, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
