"""Public appraisal surveys (群众评议).

* `Survey` — a questionnaire on the organs of a region for a year, optionally for an appraisal
  period (then its results feed the `survey` indicator of that period): draft → open → closed,
  each change through `actions.set_status`, audited. `slug` is the unguessable part of the public
  link (a survey id in a URL would let anyone walk the surveys).
* `Question` — a five-level satisfaction question (非常满意…非常不满意) or an open-text question.
* `RaterGroup` — who rates (服务对象, 企业, 人大代表/政协委员, 上级机关) and how much the group
  weighs; the weights of a survey sum to 100. A group `open_to_phone` also admits anybody who
  proves a mobile number by a one-time SMS code; every group admits holders of its invitation codes.
* `Invitation` — a one-use code of a group. Codes are handed to people by name (a deputy, a firm),
  so a response must never point back at its code.
* `Ballot` — the spent right to answer: one per invitation code, one per verified phone of a survey
  (keyed digest; the number itself is never stored). Its primary key *is* that right
  ("i:<invitation id>" or "p:<survey id>:<digest>"), so the database refuses a second use, and it
  has no link to the response, no serial number and no time: nothing orders or joins ballots
  against responses.
* `Response` — one respondent's submission: the group and the day, nothing that identifies him.
* `Answer` — one organ's answer to one question in a response: the points of a level, or the
  screened copy of a text (personal data masked, `xiaoneng.lib.pii`); the raw text is not kept.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaoneng.orgs.models import Organ, Region


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    OPEN = "open", _("评议中")
    CLOSED = "closed", _("已结束")


class Survey(models.Model):
    title = models.CharField(_("评议名称"), max_length=200)
    region = models.ForeignKey(Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+")
    region_code = models.CharField(max_length=12, editable=False)
    year = models.PositiveSmallIntegerField(_("年度"))
    period = models.ForeignKey("appraisal.Period", verbose_name=_("考评期"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="surveys")
    organs = models.ManyToManyField(Organ, verbose_name=_("被评议机关"), related_name="+")
    slug = models.CharField(max_length=24, unique=True, editable=False)
    status = models.CharField(_("状态"), max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    opened_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # Whether the closed survey's figures per organ are on the public site (/public/appraisal/): the office's
    # choice, off until it says so.
    on_public_site = models.BooleanField(_("在公众网站公开"), default=False)

    class Meta:
        verbose_name = _("群众评议")
        verbose_name_plural = _("群众评议")
        ordering = ["-year", "-created_at"]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.region_code = self.region.prefix  # like every scoped row: the prefix its region subtree shares
        super().save(*args, **kwargs)


class QuestionKind(models.TextChoices):
    SCALE = "scale", _("满意度（五级）")
    TEXT = "text", _("开放题")


class Level(models.IntegerChoices):
    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    FAIRLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


class Question(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    kind = models.CharField(_("题型"), max_length=8, choices=QuestionKind.choices)
    text = models.CharField(_("题目"), max_length=300)

    class Meta:
        verbose_name = _("评议题目")
        verbose_name_plural = _("评议题目")
        ordering = ["survey_id", "order", "pk"]

    def __str__(self):
        return self.text

    @property
    def region_code(self) -> str:
        return self.survey.region_code


class RaterGroup(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="groups")
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("评议主体"), max_length=60)
    weight = models.DecimalField(_("权重"), max_digits=5, decimal_places=2)
    open_to_phone = models.BooleanField(_("可凭手机号参与"), default=False)

    class Meta:
        verbose_name = _("评议主体")
        verbose_name_plural = _("评议主体")
        ordering = ["survey_id", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["survey", "name"], name="survey_group_name_once")]

    def __str__(self):
        return self.name

    @property
    def region_code(self) -> str:
        return self.survey.region_code


class Invitation(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    group = models.ForeignKey(RaterGroup, verbose_name=_("评议主体"), on_delete=models.CASCADE,
                              related_name="invitations")
    code = models.CharField(_("邀请码"), max_length=12, unique=True)
    batch = models.PositiveIntegerField(_("批次"), default=1)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    used = models.BooleanField(_("已使用"), default=False)  # no time: it would order codes against responses

    class Meta:
        verbose_name = _("评议邀请码")
        verbose_name_plural = _("评议邀请码")
        ordering = ["survey_id", "group_id", "pk"]

    def __str__(self):
        return self.code

    @property
    def region_code(self) -> str:
        return self.survey.region_code


class Ballot(models.Model):
    key = models.CharField(max_length=120, primary_key=True)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("评议凭证")
        verbose_name_plural = _("评议凭证")

    @property
    def region_code(self) -> str:
        return self.survey.region_code

    @staticmethod
    def for_invitation(invitation) -> str:
        return f"i:{invitation.pk}"

    @staticmethod
    def for_phone(survey, phone_digest: str) -> str:
        return f"p:{survey.pk}:{phone_digest}"


class Response(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    group = models.ForeignKey(RaterGroup, verbose_name=_("评议主体"), on_delete=models.PROTECT,
                              related_name="responses")
    # The day only: an exact time could be matched with the moment a code was used or an SMS sent.
    submitted_on = models.DateField(_("提交日期"))

    class Meta:
        verbose_name = _("评议答卷")
        verbose_name_plural = _("评议答卷")
        ordering = ["survey_id", "submitted_on", "pk"]

    @property
    def region_code(self) -> str:
        return self.survey.region_code


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    organ = models.ForeignKey(Organ, verbose_name=_("被评议机关"), on_delete=models.PROTECT, related_name="+")
    question = models.ForeignKey(Question, verbose_name=_("题目"), on_delete=models.PROTECT, related_name="answers")
    level = models.PositiveSmallIntegerField(_("评价等级"), choices=Level.choices, null=True, blank=True)
    points = models.DecimalField(_("得分"), max_digits=5, decimal_places=2, null=True, blank=True)
    screened_text = models.TextField(_("意见建议（已脱敏）"), blank=True)

    class Meta:
        verbose_name = _("评议答案")
        verbose_name_plural = _("评议答案")
        ordering = ["response_id", "organ_id", "question_id"]
        constraints = [models.UniqueConstraint(fields=["response", "organ", "question"],
                                               name="survey_answer_once")]
        indexes = [models.Index(fields=["organ", "response"], name="survey_answer_organ")]

    @property
    def region_code(self) -> str:
        return self.organ.region_code
