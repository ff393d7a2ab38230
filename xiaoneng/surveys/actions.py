"""Every state change of the surveys: design, opening and closing, invitation codes, responses.

Each function runs in one transaction and re-reads what it changes with a row lock. Design changes
and status changes are audited (`survey.create`, `survey.status`, `survey.invitations`); a single
public response is not: an audit entry carries the client address and the moment, which together
with the response id would tie a named address to an anonymous ballot. The one-per-code and
one-per-phone rules are held by the primary key of `Ballot` (which has no link to the response),
so two requests racing with the same code store one response and the other is told it was already
used.

Configuration (xiaoneng.conf, see the README): `survey_level_points`, `survey_max_codes_per_batch`.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record
from xiaoneng.conf import rule
from xiaoneng.lib.pii import screen
from xiaoneng.lib.text import storable

from . import codes
from .models import (
    Answer,
    Ballot,
    Invitation,
    Question,
    QuestionKind,
    RaterGroup,
    Response,
    Survey,
    SurveyStatus,
)

S = SurveyStatus
HUNDRED = Decimal(100)
MAX_TEXT = 1000
LEVELS = (5, 4, 3, 2, 1)  # 非常满意 … 非常不满意
TRANSITIONS = {S.DRAFT: {S.OPEN}, S.OPEN: {S.CLOSED}, S.CLOSED: set()}


class SurveyError(ValueError):
    """A request the rules or the survey's state do not allow; `field` names the input."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


def _at(at: datetime | None) -> datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise SurveyError(_("时间缺少时区"), "at")
    return at


def points_of(level: int) -> Decimal:
    """The points of a level (5 非常满意 … 1 非常不满意) under `survey_level_points`."""
    return Decimal(str(rule("survey_level_points")[5 - level]))


# --- design -------------------------------------------------------------------------------
def check_questions(rows: list[dict]) -> list[dict]:
    out = []
    for n, row in enumerate(rows, start=1):
        kind, text = row.get("kind", QuestionKind.SCALE), (row.get("text") or "").strip()
        if kind not in QuestionKind.values:
            raise SurveyError(_("题目第 %(n)d 行：题型无效") % {"n": n}, "questions")
        if not text:
            raise SurveyError(_("题目第 %(n)d 行：题目为空") % {"n": n}, "questions")
        if len(text) > 300 or not storable(text):
            raise SurveyError(_("题目第 %(n)d 行：题目过长（最多 300 字）或含无法保存的字符") % {"n": n}, "questions")
        out.append({"kind": kind, "text": text})
    if not any(q["kind"] == QuestionKind.SCALE for q in out):
        raise SurveyError(_("题目：至少要有一道满意度（五级）题"), "questions")
    return out


def check_groups(rows: list[dict]) -> list[dict]:
    out, seen = [], set()
    for n, row in enumerate(rows, start=1):
        name = (row.get("name") or "").strip()
        if not name:
            raise SurveyError(_("评议主体第 %(n)d 行：名称为空") % {"n": n}, "groups")
        if len(name) > 60 or not storable(name):
            raise SurveyError(_("评议主体第 %(n)d 行：名称过长（最多 60 字）") % {"n": n}, "groups")
        if name in seen:
            raise SurveyError(_("评议主体第 %(n)d 行：“%(name)s”重复") % {"n": n, "name": name}, "groups")
        seen.add(name)
        try:
            weight = Decimal(str(row.get("weight", "")).strip())
            if not weight.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            raise SurveyError(_("评议主体第 %(n)d 行：权重“%(w)s”不是数字") % {"n": n, "w": row.get("weight", "")},
                              "groups") from None
        if weight <= 0 or weight > HUNDRED:
            raise SurveyError(_("评议主体第 %(n)d 行：权重应大于 0 且不超过 100") % {"n": n}, "groups")
        if weight != weight.quantize(Decimal("0.01")):
            raise SurveyError(_("评议主体第 %(n)d 行：权重最多两位小数") % {"n": n}, "groups")
        out.append({"name": name, "weight": weight, "open_to_phone": bool(row.get("open_to_phone"))})
    if not out:
        raise SurveyError(_("评议主体：至少要有一个评议主体"), "groups")
    total = sum(g["weight"] for g in out)
    if total != HUNDRED:
        raise SurveyError(_("评议主体权重合计为 %(t)s，应为 100") % {"t": format(total.normalize(), "f")}, "groups")
    return out


@transaction.atomic
def do_create_survey(*, title: str, year: int, region, questions: list[dict], groups: list[dict], organs=None,
                     period=None) -> Survey:
    """A draft survey. With an appraisal `period`, the year is the period's and the organs default to
    the period's class; every organ must belong to `region`."""
    title = (title or "").strip()
    if not title:
        raise SurveyError(_("请填写评议名称"), "title")
    if len(title) > 200 or not storable(title):
        raise SurveyError(_("评议名称过长（最多 200 字）"), "title")
    if period is not None:
        if period.scheme.year != year:
            raise SurveyError(_("年度应与考评期一致（%(y)d 年）") % {"y": period.scheme.year}, "year")
        if not period.scheme.organ_class.region_code.startswith(region.prefix):
            raise SurveyError(_("考评期不属于本区划"), "period")
        if organs is None or not list(organs):
            organs = period.scheme.organ_class.organs.filter(is_active=True)
    if not 2000 <= int(year) <= 2100:
        raise SurveyError(_("年度应在 2000 至 2100 之间"), "year")
    organs = list(organs or [])
    if not organs:
        raise SurveyError(_("请至少选择一个被评议机关"), "organs")
    outside = [o.name for o in organs if not o.region_code.startswith(region.prefix)]
    if outside:
        raise SurveyError(_("机关不在本区划内：%(n)s") % {"n": "、".join(outside)}, "organs")
    qs, gs = check_questions(questions), check_groups(groups)
    survey = Survey.objects.create(title=title, year=year, region=region, period=period, slug=_new_slug())
    survey.organs.set(organs)
    Question.objects.bulk_create([Question(survey=survey, order=i, **q) for i, q in enumerate(qs)])
    RaterGroup.objects.bulk_create([RaterGroup(survey=survey, order=i, **g) for i, g in enumerate(gs)])
    record("survey.create", survey, changes={
        "year": year, "period": period.pk if period else None, "organs": sorted(o.pk for o in organs),
        "questions": qs, "groups": [{**g, "weight": format(g["weight"].normalize(), "f")} for g in gs]})
    return survey


def _new_slug() -> str:
    import secrets

    return secrets.token_urlsafe(12)


def _locked(survey: Survey) -> Survey:
    return Survey.objects.select_for_update().get(pk=survey.pk)


def set_status(survey: Survey, to: str, *, fields: tuple[str, ...] = ()) -> None:
    if to not in TRANSITIONS[survey.status]:
        raise SurveyError(_("评议当前为“%(now)s”，不能变为“%(to)s”") % {
            "now": S(survey.status).label, "to": S(to).label}, "status")
    before = survey.status
    survey.status = to
    survey.save(update_fields=["status", *fields])
    record("survey.status", survey, changes={"status": [before, to]})


@transaction.atomic
def do_open_survey(survey: Survey, *, at: datetime | None = None) -> Survey:
    at = _at(at)
    survey = _locked(survey)
    survey.opened_at = at
    set_status(survey, S.OPEN, fields=("opened_at",))
    return survey


@transaction.atomic
def do_close_survey(survey: Survey, *, at: datetime | None = None) -> Survey:
    at = _at(at)
    survey = _locked(survey)
    survey.closed_at = at
    set_status(survey, S.CLOSED, fields=("closed_at",))
    return survey


@transaction.atomic
def do_generate_invitations(survey: Survey, *, group: RaterGroup, count: int) -> list[Invitation]:
    """`count` new one-use codes for `group`, as one batch (the Excel download is per batch)."""
    survey = _locked(survey)
    if survey.status == S.CLOSED:
        raise SurveyError(_("评议已结束，不能再生成邀请码"), "status")
    if group.survey_id != survey.pk:
        raise SurveyError(_("该评议主体不属于本评议"), "group")
    limit = int(rule("survey_max_codes_per_batch"))
    if not isinstance(count, int) or not 1 <= count <= limit:
        raise SurveyError(_("每批生成数量应在 1 至 %(n)d 之间") % {"n": limit}, "count")
    last = Invitation.objects.filter(survey=survey).order_by("-batch").values_list("batch", flat=True).first()
    batch = (last or 0) + 1
    wanted: set[str] = set()
    while len(wanted) < count:
        # A clash with an existing code is astronomically rare; such a code is simply drawn again.
        fresh = {codes.new_code() for _i in range(count - len(wanted))} - wanted
        fresh -= set(Invitation.objects.filter(code__in=fresh).values_list("code", flat=True))
        wanted |= fresh
    made = Invitation.objects.bulk_create([Invitation(survey=survey, group=group, code=c, batch=batch)
                                           for c in sorted(wanted)])
    record("survey.invitations", survey, changes={"group": group.name, "count": count, "batch": batch})
    return made


# --- answering ----------------------------------------------------------------------------
def find_invitation(survey: Survey, typed: str) -> Invitation | None:
    code = codes.normalise(typed)
    if not code:
        return None
    return Invitation.objects.select_related("group").filter(survey=survey, code=code).first()


@transaction.atomic
def do_submit_response(survey: Survey, *, answers: dict, invitation: Invitation | None = None,
                       phone_digest: str = "", group: RaterGroup | None = None,
                       at: datetime | None = None) -> Response:
    """Store one respondent's answers: `answers` maps (organ id, question id) to a level 1–5 (scale
    questions; a missing one is "不了解", not counted) or a text (open questions; screened, the raw
    text dropped). With an invitation the group is the invitation's; with a verified phone it is
    `group`, which must be open to phone respondents."""
    at = _at(at)
    survey = Survey.objects.get(pk=survey.pk)
    if survey.status != S.OPEN:
        raise SurveyError(_("本次评议未在进行中"), "status")
    if invitation is not None:
        if invitation.survey_id != survey.pk:
            raise SurveyError(_("邀请码无效"), "code")
        group = invitation.group
        phone_digest = ""
    else:
        if not phone_digest:
            raise SurveyError(_("请先输入邀请码或验证手机号"), "code")
        if group is None or group.survey_id != survey.pk or not group.open_to_phone:
            raise SurveyError(_("请选择您的身份（评议主体）"), "group")
    organs = set(survey.organs.values_list("pk", flat=True))
    questions = {q.pk: q for q in survey.questions.all()}
    rows, scored = [], 0
    for key, value in answers.items():
        organ_id, question_id = key
        question = questions.get(question_id)
        if organ_id not in organs or question is None:
            raise SurveyError(_("答卷含有本评议以外的题目或机关"), "answers")
        if question.kind == QuestionKind.SCALE:
            if value in (None, ""):
                continue
            if value not in LEVELS:
                raise SurveyError(_("“%(q)s”的评价等级无效") % {"q": question.text}, "answers")
            rows.append(Answer(organ_id=organ_id, question=question, level=value, points=points_of(value)))
            scored += 1
        else:
            text = (value or "").strip()
            if not text:
                continue
            if len(text) > MAX_TEXT or not storable(text):
                raise SurveyError(_("意见建议最多 %(n)d 字，且不能含有无法保存的字符") % {"n": MAX_TEXT}, "answers")
            rows.append(Answer(organ_id=organ_id, question=question, screened_text=screen(text)[:2 * MAX_TEXT]))
    if not scored:
        raise SurveyError(_("请至少对一个机关作出满意度评价"), "answers")
    if invitation is not None:
        # The conditional update is the first gate (one row changes, or the code was used); the ballot's
        # primary key below is the second, for databases and orders where both pass.
        if not Invitation.objects.filter(pk=invitation.pk, used=False).update(used=True):
            raise SurveyError(_("该邀请码已使用，每个邀请码只能提交一次"), "code")
        key = Ballot.for_invitation(invitation)
    else:
        key = Ballot.for_phone(survey, phone_digest)
    try:
        with transaction.atomic():
            Ballot.objects.create(key=key, survey=survey)
    except IntegrityError:
        if invitation is not None:
            raise SurveyError(_("该邀请码已使用，每个邀请码只能提交一次"), "code") from None
        raise SurveyError(_("该手机号已参加过本次评议，每个手机号只能提交一次"), "phone") from None
    response = Response.objects.create(survey=survey, group=group, submitted_on=timezone.localdate(at))
    for row in rows:
        row.response = response
    Answer.objects.bulk_create(rows)
    return response
