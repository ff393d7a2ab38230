"""Performance appraisal (绩效考评) of organs and staff.

* `OrganClass` — a class of organs appraised together (市直单位, 区县政府, 乡镇), in a region.
* `Scheme` — a weighted indicator tree (up to three levels, weights summing to 100 at each
  level) for a class and a year; versioned (a new version replaces the draft, an active one is
  never edited in place).
* `Indicator` — a node of the tree; a leaf names its source (`indicators/<source>.py`) and its
  scoring method (`scoring.py`) with the method's parameters.
* `Period` — the appraisal of a scheme's year: open → closed → computed → provisional (objection
  window on a clock) → published; its status changes only through `workflow.set_status`.
* `Result` / `ResultLine` — per organ: the total, the rank and grade, and per leaf indicator the
  raw value, the score, the formula in words and the query of the records behind it (lineage).
  A published result is frozen: nothing recomputes it.
* `ManualValue` — a value of a manual indicator, with evidence (annual goals until duties exist).
* `Objection` — 异议 of an organ against its provisional result, decided with reasons.
* `StaffGrade` — 公务员考核 grade of one person: 年度考核 (quarter 0) or 平时考核 of a quarter (1–4),
  with the written notice and the 复核 window it opens (`staff.py`, `reviews.py`).
* `StaffReview` — 复核 of a staff grade asked by the person, decided by the appraisal office on a clock.
* `LeadingCadre` — a leading cadre of a leadership team (领导班子) whose team result this is: the holders of
  the organ's leading posts when a team scheme's result was computed.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaoneng.clocks.models import Clock
from xiaoneng.orgs.models import Organ, Region, Staff

MAX_LEVELS = 3


class OrganClass(models.Model):
    name = models.CharField(_("类别名称"), max_length=60)
    region = models.ForeignKey(Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    region_code = models.CharField(max_length=12, editable=False)
    organs = models.ManyToManyField(Organ, verbose_name=_("参评机关"), related_name="appraisal_classes")

    class Meta:
        verbose_name = _("考评类别")
        verbose_name_plural = _("考评类别")
        ordering = ["region_code", "name"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="appraisal_class_name_once")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.region_code = self.region.prefix  # like every scoped row: the prefix its region subtree shares
        super().save(*args, **kwargs)


class Target(models.TextChoices):
    """Who a scheme appraises: the organs of its class, or their leadership teams (领导班子)."""

    ORGAN = "organ", _("机关")
    TEAM = "team", _("领导班子")


class SchemeStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("已启用")
    SUPERSEDED = "superseded", _("已被新版本取代")


class Scheme(models.Model):
    organ_class = models.ForeignKey(OrganClass, verbose_name=_("考评类别"), on_delete=models.PROTECT,
                                    related_name="schemes")
    year = models.PositiveSmallIntegerField(_("年度"))
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    title = models.CharField(_("方案名称"), max_length=200)
    target = models.CharField(_("考评对象"), max_length=8, choices=Target.choices, default=Target.ORGAN)
    status = models.CharField(_("状态"), max_length=10, choices=SchemeStatus.choices, default=SchemeStatus.DRAFT)
    copied_from = models.ForeignKey("self", verbose_name=_("复制自"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("考评方案")
        verbose_name_plural = _("考评方案")
        ordering = ["-year", "organ_class_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["organ_class", "year", "target", "version"],
                                    name="appraisal_scheme_target_version_once"),
        ]

    def __str__(self):
        return f"{self.title}（{self.year}，第{self.version}版）"

    @property
    def region_code(self) -> str:
        return self.organ_class.region_code


class Source(models.TextChoices):
    NONE = "", _("（分组，无数据来源）")
    ON_TIME = "on_time", _("办件按时办结率")
    CARDS = "cards", _("红黄牌（每百件）")
    COMPLAINTS = "complaints", _("投诉查实件数")
    ACCOUNTABILITY = "accountability", _("效能问责人次")
    MANUAL = "manual", _("人工填报（附佐证）")
    SURVEY = "survey", _("群众评议满意度")
    HANDLING_TIME = "handling_time", _("办件用时占时限比")
    ORDERS = "orders", _("督办按期办结率")
    SATISFACTION = "satisfaction", _("好差评好评率")
    RECTIFICATION = "rectification", _("差评按期整改率")
    COMPLAINT_RATE = "complaint_rate", _("万件投诉量")
    COMPLAINT_ON_TIME = "complaint_on_time", _("投诉按期办结率")


class Method(models.TextChoices):
    NONE = "", _("（分组，汇总下级得分）")
    LINEAR = "linear", _("阈值间线性计分")
    ATTAINMENT = "attainment", _("目标完成率计分")
    RANKING = "ranking", _("类别内排名计分")
    DEDUCTION = "deduction", _("按次扣分（设下限）")


class Indicator(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="indicators")
    parent = models.ForeignKey("self", verbose_name=_("上级指标"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="children")
    code = models.CharField(_("编号"), max_length=20)
    name = models.CharField(_("指标名称"), max_length=100)
    weight = models.DecimalField(_("权重"), max_digits=6, decimal_places=2)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    source = models.CharField(_("数据来源"), max_length=20, choices=Source.choices, blank=True)
    method = models.CharField(_("计分方法"), max_length=12, choices=Method.choices, blank=True)
    params = models.JSONField(_("计分参数"), default=dict, blank=True)

    class Meta:
        verbose_name = _("考评指标")
        verbose_name_plural = _("考评指标")
        ordering = ["scheme_id", "code"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="appraisal_indicator_code_once")]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def region_code(self) -> str:
        return self.scheme.organ_class.region_code


class PeriodStatus(models.TextChoices):
    OPEN = "open", _("考评期中")
    CLOSED = "closed", _("已截止")
    COMPUTED = "computed", _("已计算")
    PROVISIONAL = "provisional", _("结果预告（异议期）")
    PUBLISHED = "published", _("已公布")


class Period(models.Model):
    scheme = models.OneToOneField(Scheme, verbose_name=_("考评方案"), on_delete=models.PROTECT, related_name="period")
    starts_on = models.DateField(_("起始日"))
    ends_on = models.DateField(_("截止日"))  # inclusive
    status = models.CharField(_("状态"), max_length=12, choices=PeriodStatus.choices, default=PeriodStatus.OPEN)
    closed_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    computed_at = models.DateTimeField(_("计算时间"), null=True, blank=True)
    provisional_at = models.DateTimeField(_("预告时间"), null=True, blank=True)
    objection_clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    # Whether the published ranking is also on the public site (/public/appraisal/): the office's choice
    # per period, off until it says so (publishing to the organs and deputies does not imply it).
    on_public_site = models.BooleanField(_("在公众网站公开"), default=False)

    class Meta:
        verbose_name = _("考评期")
        verbose_name_plural = _("考评期")
        ordering = ["-starts_on", "id"]

    def __str__(self):
        return str(self.scheme)

    @property
    def region_code(self) -> str:
        return self.scheme.organ_class.region_code


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("优秀")
    GOOD = "good", _("良好")
    FAIR = "fair", _("一般")
    POOR = "poor", _("较差")


class Result(models.Model):
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="results")
    organ = models.ForeignKey(Organ, verbose_name=_("机关"), on_delete=models.PROTECT, related_name="+")
    total = models.DecimalField(_("总分"), max_digits=7, decimal_places=2)
    rank = models.PositiveIntegerField(_("类别内排名"), null=True, blank=True)
    grade = models.CharField(_("等次"), max_length=10, choices=Grade.choices, blank=True)
    # The weighted sum of the indicator scores; `total` = it + the approved 加减分 (capped), see Adjustment.
    weighted_total = models.DecimalField(_("指标加权得分"), max_digits=7, decimal_places=2, null=True, blank=True)
    adjustment = models.DecimalField(_("加减分"), max_digits=7, decimal_places=2, default=0)
    adjustment_words = models.TextField(_("加减分说明"), blank=True)

    class Meta:
        verbose_name = _("考评结果")
        verbose_name_plural = _("考评结果")
        ordering = ["period_id", "rank", "organ_id"]
        constraints = [models.UniqueConstraint(fields=["period", "organ"], name="appraisal_result_once")]

    def __str__(self):
        return f"{self.organ} · {self.total}"

    @property
    def region_code(self) -> str:
        return self.organ.region_code


class ResultLine(models.Model):
    """One leaf indicator of one organ's result, with its lineage."""

    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="lines")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(_("原始值"), max_digits=14, decimal_places=4, null=True, blank=True)
    numerator = models.BigIntegerField(null=True, blank=True)
    denominator = models.BigIntegerField(null=True, blank=True)
    score = models.DecimalField(_("得分"), max_digits=7, decimal_places=2)
    weighted = models.DecimalField(_("加权得分"), max_digits=7, decimal_places=2)
    formula = models.TextField(_("计算说明"))
    query = models.JSONField(_("记录查询"), default=dict)

    class Meta:
        ordering = ["result_id", "indicator__code"]
        constraints = [models.UniqueConstraint(fields=["result", "indicator"], name="appraisal_line_once")]


class ManualValue(models.Model):
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="manual_values")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    organ = models.ForeignKey(Organ, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(_("数值"), max_digits=14, decimal_places=4)
    evidence = models.TextField(_("佐证材料"))
    entered_by = models.CharField(_("填报人"), max_length=150, blank=True)
    entered_at = models.DateTimeField(_("填报时间"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "indicator", "organ"], name="appraisal_manual_once")]

    @property
    def region_code(self) -> str:
        return self.organ.region_code


class ObjectionStatus(models.TextChoices):
    PENDING = "pending", _("待决定")
    UPHELD = "upheld", _("异议成立")
    REJECTED = "rejected", _("异议不成立")


class Objection(models.Model):
    result = models.ForeignKey(Result, on_delete=models.PROTECT, related_name="objections")
    line = models.ForeignKey(ResultLine, verbose_name=_("异议指标"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    grounds = models.TextField(_("异议理由"))
    evidence = models.TextField(_("佐证材料"))
    submitted_at = models.DateTimeField(_("提出时间"))
    submitted_by = models.CharField(_("提出人"), max_length=150, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=ObjectionStatus.choices,
                              default=ObjectionStatus.PENDING)
    reasons = models.TextField(_("决定理由"), blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decided_by = models.CharField(_("决定人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("考评异议")
        verbose_name_plural = _("考评异议")
        ordering = ["submitted_at", "id"]

    @property
    def region_code(self) -> str:
        return self.result.organ.region_code


class StaffGradeValue(models.TextChoices):
    EXCELLENT = "excellent", _("优秀")
    COMPETENT = "competent", _("称职")
    BASIC = "basic", _("基本称职")
    INCOMPETENT = "incompetent", _("不称职")
    UNDETERMINED = "undetermined", _("不定等次")


class QuarterGradeValue(models.TextChoices):
    """平时考核 grades (公务员考核规定: 好、较好、一般、较差)."""

    GOOD = "good", _("好")
    FAIRLY_GOOD = "fairly_good", _("较好")
    AVERAGE = "average", _("一般")
    POOR = "poor", _("较差")


ANNUAL = 0  # StaffGrade.quarter of the 年度考核; 1–4 are the quarters of the 平时考核


class StaffGrade(models.Model):
    staff = models.ForeignKey(Staff, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="appraisal_grades")
    organ = models.ForeignKey(Organ, verbose_name=_("机关"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"), default=ANNUAL,
                                               choices=[(0, _("年度考核")), (1, _("第一季度")), (2, _("第二季度")),
                                                        (3, _("第三季度")), (4, _("第四季度"))])
    grade = models.CharField(_("等次"), max_length=12,
                             choices=[*StaffGradeValue.choices, *QuarterGradeValue.choices])
    submitted_at = models.DateTimeField(_("报送时间"))
    submitted_by = models.CharField(_("报送人"), max_length=150, blank=True)
    # The written notice (书面通知) of this grade: when the person was told, and the 复核 window it opened.
    notified_at = models.DateTimeField(_("书面通知时间"), null=True, blank=True)
    notice_number = models.CharField(_("通知书文号"), max_length=80, blank=True)
    review_window = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("公务员考核等次")
        verbose_name_plural = _("公务员考核等次")
        ordering = ["organ_id", "year", "quarter", "staff_id"]
        constraints = [models.UniqueConstraint(fields=["staff", "year", "quarter"],
                                               name="appraisal_staff_grade_period_once")]

    def __str__(self):
        return f"{self.staff.name} {self.period_label}：{self.get_grade_display()}"

    @property
    def period_label(self) -> str:
        return period_label(self.year, self.quarter)

    @property
    def is_annual(self) -> bool:
        return self.quarter == ANNUAL

    @property
    def region_code(self) -> str:
        return self.organ.region_code


def period_label(year: int, quarter: int) -> str:
    from django.utils.translation import gettext

    if quarter == ANNUAL:
        return gettext("%(y)s 年度考核") % {"y": year}
    return gettext("%(y)s 年第 %(q)s 季度平时考核") % {"y": year, "q": quarter}


def grade_label(code: str) -> str:
    """The words of a staff grade of either kind (年度 or 平时)."""
    for choices in (StaffGradeValue, QuarterGradeValue):
        if code in choices.values:
            return str(choices(code).label)
    return code


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("待复核")
    UPHELD = "upheld", _("维持原等次")
    CHANGED = "changed", _("变更等次")


class StaffReview(models.Model):
    """复核 of a staff grade: asked by the person within the window the notice opened, decided by the
    appraisal office within `appraisal_staff_review_decision_days` (a clock)."""

    grade = models.ForeignKey(StaffGrade, verbose_name=_("考核等次"), on_delete=models.PROTECT, related_name="reviews")
    grounds = models.TextField(_("复核理由"))
    requested_at = models.DateTimeField(_("申请时间"))
    requested_by = models.CharField(_("申请人"), max_length=150, blank=True)
    original_grade = models.CharField(_("原等次"), max_length=12)
    status = models.CharField(_("状态"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    new_grade = models.CharField(_("变更后等次"), max_length=12, blank=True)
    reasons = models.TextField(_("复核意见"), blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decided_by = models.CharField(_("决定人"), max_length=150, blank=True)
    clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("考核等次复核")
        verbose_name_plural = _("考核等次复核")
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"{self.grade.staff.name} {self.grade.period_label}"

    @property
    def original_label(self) -> str:
        return grade_label(self.original_grade)

    @property
    def new_label(self) -> str:
        return grade_label(self.new_grade) if self.new_grade else ""

    @property
    def region_code(self) -> str:
        return self.grade.organ.region_code


class LeadingCadre(models.Model):
    """One leading cadre of a team result: who held which leading post of the organ when it was computed."""

    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="cadres")
    staff = models.ForeignKey(Staff, verbose_name=_("领导干部"), on_delete=models.PROTECT,
                              related_name="appraisal_team_results")
    post_title = models.CharField(_("领导职务"), max_length=100)

    class Meta:
        verbose_name = _("领导班子成员")
        verbose_name_plural = _("领导班子成员")
        ordering = ["result_id", "post_title", "staff_id"]
        constraints = [models.UniqueConstraint(fields=["result", "staff"], name="appraisal_cadre_once")]
class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已审核通过")
    REJECTED = "rejected", _("已驳回")


class Adjustment(models.Model):
    """加减分: bonus (+) or deduction (−) points for one organ in one period, entered by an appraisal
    officer with evidence and approved or rejected by a second one. Only approved items count; they
    are added to the weighted total (capped per period, `appraisal_adjustment_caps`)."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="adjustments")
    organ = models.ForeignKey(Organ, verbose_name=_("机关"), on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField(_("分值"), max_digits=6, decimal_places=2)
    occurred_on = models.DateField(_("发生日期"))
    reason = models.CharField(_("加减分事由"), max_length=200)
    evidence = models.TextField(_("佐证材料"))
    status = models.CharField(_("状态"), max_length=10, choices=AdjustmentStatus.choices,
                              default=AdjustmentStatus.PENDING)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("录入人"), null=True, on_delete=models.PROTECT,
                                   related_name="+")
    entered_by_label = models.CharField(_("录入人"), max_length=150, blank=True)
    entered_at = models.DateTimeField(_("录入时间"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_by_label = models.CharField(_("审核人"), max_length=150, blank=True)
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.TextField(_("审核意见"), blank=True)

    class Meta:
        verbose_name = _("加减分")
        verbose_name_plural = _("加减分")
        ordering = ["-entered_at", "-id"]

    def __str__(self):
        return f"{self.organ} {self.points:+} {self.reason}"

    @property
    def region_code(self) -> str:
        return self.organ.region_code


class InterimResult(models.Model):
    """阶段性结果: a scheme computed over the year to date at the end of a quarter, kept apart from the
    annual `Result` (never published, never objected to, no effect on the period's process)."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="interim_results")
    quarter = models.PositiveSmallIntegerField(_("季度"))
    organ = models.ForeignKey(Organ, verbose_name=_("机关"), on_delete=models.PROTECT, related_name="+")
    first_day = models.DateField(_("起始日"))
    last_day = models.DateField(_("截止日"))
    total = models.DecimalField(_("总分"), max_digits=7, decimal_places=2)
    weighted_total = models.DecimalField(_("指标加权得分"), max_digits=7, decimal_places=2)
    adjustment = models.DecimalField(_("加减分"), max_digits=7, decimal_places=2, default=0)
    rank = models.PositiveIntegerField(_("类别内排名"))
    grade = models.CharField(_("等次"), max_length=10, choices=Grade.choices)
    lines = models.JSONField(_("各指标得分"), default=list)  # [{code, name, value, score, weighted, formula, query}]
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("阶段性考评结果")
        verbose_name_plural = _("阶段性考评结果")
        ordering = ["period_id", "quarter", "rank", "organ_id"]
        constraints = [models.UniqueConstraint(fields=["period", "quarter", "organ"], name="appraisal_interim_once")]

    @property
    def region_code(self) -> str:
        return self.organ.region_code
