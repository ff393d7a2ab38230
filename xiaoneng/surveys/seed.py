"""Demo data for the public appraisal surveys: the 2025 and 2026 surveys of Guangzhou's district market
regulation bureaus, made through the actions.

Seed step ``surveys`` (order 95: after ``rollups`` (90); registry: xiaoneng.orgs.seed):

1. One survey a year by the 广州 appraisal office (region 广州市) of up to six district bureaus,
   with four rater groups (服务对象 40 by phone, 企业 30, 人大代表、政协委员 20, 上级机关 10 by
   invitation codes), four satisfaction questions and one open question.
2. Invitation codes for the coded groups; about sixty respondents a year, each rating every bureau
   around that bureau's own level (deterministic: one random generator per year), a few with a
   comment — some holding a name, phone or ID number, to show the screening.
3. 2025 is closed (its results would feed a 2025 appraisal); 2026 is still open.

Idempotent: a year whose survey exists is left alone. Small: about 120 responses in all.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from xiaoneng.complaints.identity import digest
from xiaoneng.orgs.models import Organ, Region
from xiaoneng.orgs.seed import register_seed_step

from . import actions
from .models import QuestionKind, Survey

GZ = "440100000000"
SH = ZoneInfo("Asia/Shanghai")
YEARS = (2025, 2026)
RESPONDENTS = 60
GROUPS = [
    {"name": "服务对象", "weight": "40", "open_to_phone": True},
    {"name": "企业", "weight": "30"},
    {"name": "人大代表、政协委员", "weight": "20"},
    {"name": "上级机关", "weight": "10"},
]
QUESTIONS = [{"kind": QuestionKind.SCALE, "text": t} for t in ("总体满意度", "服务态度", "办事效率", "依法行政")] + [
    {"kind": QuestionKind.TEXT, "text": "意见和建议"}]
COMMENTS = [
    "窗口服务热情，一次就办好了。",
    "希望进一步压缩办理时限。",
    "我叫陈伟，电话13812345678，上次办证等了三周，希望改进。",
    "网上办理系统经常卡顿。",
    "本人李敏，身份证号11010519491231002X，材料被要求重复提交。",
    "工作人员解释政策很清楚，点赞！",
    "建议周末也能预约办理。",
    "联系邮箱 feedback@example.com，希望回复处理结果。",
]


def _organs() -> list[Organ]:
    return list(Organ.objects.filter(region__parent__code=GZ, name__endswith="市场监督管理局", is_active=True)
                .order_by("region__code")[:6])


def _level(rng: random.Random, bias: float) -> int | None:
    if rng.random() < 0.08:
        return None  # 不了解
    return max(1, min(5, round(rng.gauss(bias, 0.8))))


def _seed_year(year: int, region: Region, organs: list[Organ]) -> int:
    survey = actions.do_create_survey(title=f"{year}年广州市区县市场监管部门群众评议", year=year, region=region,
                                      organs=organs, questions=[dict(q) for q in QUESTIONS],
                                      groups=[dict(g) for g in GROUPS])
    start = datetime(year, 11, 20, 9, tzinfo=SH)
    actions.do_open_survey(survey, at=start)
    groups = list(survey.groups.order_by("order"))
    questions = list(survey.questions.order_by("order"))
    rng = random.Random(year)
    bias = {o.pk: rng.uniform(3.2, 4.6) for o in organs}
    codes = {g.pk: iter(actions.do_generate_invitations(survey, group=g, count=RESPONDENTS))
             for g in groups[1:]}
    for n in range(RESPONDENTS):
        group = rng.choices(groups, weights=[50, 25, 15, 10])[0]
        answers = {}
        for organ in organs:
            for q in questions:
                if q.kind == QuestionKind.SCALE:
                    answers[(organ.pk, q.pk)] = _level(rng, bias[organ.pk])
                elif rng.random() < 0.1:
                    answers[(organ.pk, q.pk)] = rng.choice(COMMENTS)
        if not any(v for k, v in answers.items() if isinstance(v, int)):
            answers[(organs[0].pk, questions[0].pk)] = 4
        at = start + timedelta(hours=n * 3)
        if group.open_to_phone:
            actions.do_submit_response(survey, answers=answers, phone_digest=digest(f"1390000{year % 100:02d}{n:02d}"),
                                       group=group, at=at)
        else:
            actions.do_submit_response(survey, answers=answers, invitation=next(codes[group.pk]), at=at)
    if year < 2026:
        actions.do_close_survey(survey, at=datetime(year + 1, 1, 10, 17, tzinfo=SH))
    return RESPONDENTS


def seed_surveys(scale: str, progress) -> str:
    region = Region.objects.filter(code=GZ).first()
    organs = _organs()
    if region is None or not organs:
        return "skipped (no Guangzhou district bureaus)"
    made = 0
    for year in YEARS:
        if Survey.objects.filter(region=region, year=year, title__startswith=f"{year}年广州市区县").exists():
            continue
        made += _seed_year(year, region, organs)
    return f"{made} survey responses on {len(organs)} organs"


register_seed_step("surveys", 95, seed_surveys)
