"""A survey of the two 广州 county bureaus (天河, 越秀) by the 广州 appraisal office, with two rater groups:
服务对象 (60, open to phone respondents) and 企业 (40, invitation codes only); two satisfaction
questions and one open question. `answer(...)` files a response through the action."""
import time

import pytest

from xiaoneng.surveys import actions, guard
from xiaoneng.surveys.models import QuestionKind

QUESTIONS = [
    {"kind": QuestionKind.SCALE, "text": "总体满意度"},
    {"kind": QuestionKind.SCALE, "text": "办事效率"},
    {"kind": QuestionKind.TEXT, "text": "意见和建议"},
]
GROUPS = [
    {"name": "服务对象", "weight": "60", "open_to_phone": True},
    {"name": "企业", "weight": "40"},
]


class Poll:
    pass


def old_stamp() -> str:
    """A form handed out a minute ago: a person's pace."""
    return guard.issue_stamp(time.time() - 60)


@pytest.fixture
def poll(world):
    p = Poll()
    p.w = world
    p.survey = actions.do_create_survey(title="2026年区县市场监管局群众评议", year=2026, region=world.gz,
                                        organs=[world.tianhe_bureau, world.yuexiu_bureau],
                                        questions=[dict(q) for q in QUESTIONS], groups=[dict(g) for g in GROUPS])
    p.public, p.company = list(p.survey.groups.order_by("order"))
    p.overall, p.speed, p.comment = list(p.survey.questions.order_by("order"))

    def open_():
        p.survey = actions.do_open_survey(p.survey)
        return p.survey

    def answer(levels: dict, texts: dict | None = None, *, group=None, phone_digest=""):
        """levels: {organ: level or (level, level)} for (总体满意度, 办事效率)."""
        group = group or p.company
        answers = {}
        for organ, lv in levels.items():
            first, second = lv if isinstance(lv, tuple) else (lv, None)
            answers[(organ.pk, p.overall.pk)] = first
            if second is not None:
                answers[(organ.pk, p.speed.pk)] = second
        for organ, text in (texts or {}).items():
            answers[(organ.pk, p.comment.pk)] = text
        if phone_digest:
            return actions.do_submit_response(p.survey, answers=answers, phone_digest=phone_digest, group=group)
        invitation = actions.do_generate_invitations(p.survey, group=group, count=1)[0]
        return actions.do_submit_response(p.survey, answers=answers, invitation=invitation)

    p.open, p.answer = open_, answer
    return p
