"""The appraisal indicator `survey`: the weighted satisfaction % of the closed surveys of the period, its
words, and its lineage — exactly the organ's rated answers."""
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from xiaoneng.appraisal import actions as appraisal
from xiaoneng.appraisal.indicators import survey as source
from xiaoneng.appraisal.models import ResultLine
from xiaoneng.surveys import actions
from xiaoneng.surveys.models import Answer, QuestionKind

from .conftest import GROUPS, QUESTIONS

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def period(world):
    cls = appraisal.do_create_class(name="区县市场监管局", region=world.gz,
                                    organs=[world.tianhe_bureau, world.yuexiu_bureau])
    scheme = appraisal.do_create_scheme(organ_class=cls, year=2026, title="2026年方案", rows=[
        {"code": "1", "parent": "", "name": "群众评议满意度", "weight": 100, "source": "survey", "method": "linear",
         "params": {"worst": 60, "best": 100}}])
    return appraisal.do_activate_scheme(scheme)


def _survey_of(world, period, levels, comments=None):
    """A closed survey of the period: `levels` is a list of (group index, {organ: level}); `comments`
    (rated, {organ: text}): one more respondent who rates only the organ `rated` (基本满意) and writes
    comments on the organs given."""
    s = actions.do_create_survey(title="评议", year=2026, region=world.gz, period=period, organs=None,
                                 questions=[dict(q) for q in QUESTIONS], groups=[dict(g) for g in GROUPS])
    groups = list(s.groups.order_by("order"))
    overall = s.questions.order_by("order").first()
    actions.do_open_survey(s)
    for i, (g, answers) in enumerate(levels):
        inv = actions.do_generate_invitations(s, group=groups[g], count=1)[0] if g == 1 else None
        actions.do_submit_response(s, invitation=inv, group=groups[g], phone_digest="" if inv else f"p{i}",
                                   answers={(o.pk, overall.pk): lv for o, lv in answers.items()})
    if comments:
        text = s.questions.get(kind=QuestionKind.TEXT)
        rated, texts = comments
        actions.do_submit_response(s, group=groups[0], phone_digest="comments",
                                   answers={(rated.pk, overall.pk): 3, **{(o.pk, text.pk): w for o, w in texts.items()}})
    return actions.do_close_survey(s)


def test_the_indicator_gives_the_weighted_satisfaction_of_each_organ_in_one_query(world, period,
                                                                                  django_assert_max_num_queries):
    t, y = world.tianhe_bureau, world.yuexiu_bureau
    survey = _survey_of(world, period, [(0, {t: 5}), (0, {t: 4}), (0, {t: 4}), (1, {t: 3}), (1, {t: 4})])
    with django_assert_max_num_queries(4):
        raws = source.compute([t.pk, y.pk], period.starts_on, period.ends_on, None, period)
    assert raws[t.pk].value == Decimal("75.00") and raws[t.pk].numerator == 5
    assert "群众评议满意度 75.00%（5 人评议：服务对象 权重 60，3 人，平均 83.33；企业 权重 40，2 人，平均 62.50；95% 置信区间 61.14–88.86）" \
        == raws[t.pk].words
    assert raws[y.pk].value is None and raws[y.pk].words == "群众评议：无人评议"
    assert raws[t.pk].query == {"organ": t.pk, "surveys": [survey.pk]}


def test_an_open_survey_does_not_count_and_a_standalone_one_of_the_year_does_when_none_is_linked(world, period):
    t = world.tianhe_bureau
    s = actions.do_create_survey(title="独立评议", year=2026, region=world.gz, organs=[t],
                                 questions=[dict(q) for q in QUESTIONS], groups=[dict(g) for g in GROUPS])
    actions.do_open_survey(s)
    actions.do_submit_response(s, phone_digest="x", group=s.groups.get(name="服务对象"),
                               answers={(t.pk, s.questions.order_by("order").first().pk): 5})
    assert source.compute([t.pk], period.starts_on, period.ends_on, None, period)[t.pk].value is None
    actions.do_close_survey(s)
    assert source.compute([t.pk], period.starts_on, period.ends_on, None, period)[t.pk].value == Decimal("100.00")


def test_the_period_scores_the_survey_and_its_line_leads_to_exactly_the_answers_counted(world, period, login):
    t, y = world.tianhe_bureau, world.yuexiu_bureau
    _survey_of(world, period, [(0, {t: 5, y: 1}), (0, {t: 4}), (0, {t: 4}), (1, {t: 3}), (1, {t: 4})],
               comments=(y, {t: "窗口服务态度好"}))
    appraisal.do_close_period(period, at=datetime(2027, 1, 5, 9, tzinfo=SH))
    appraisal.do_compute_period(period, at=datetime(2027, 1, 5, 10, tzinfo=SH))
    line = ResultLine.objects.get(result__organ=t, result__period=period)
    assert line.value == Decimal("75.00") and line.score == Decimal("37.50")  # linear 60 → 0, 100 → 100
    counted = list(source.records({k: v for k, v in line.query.items() if k != "source"}))
    # The comment is shown with the survey's results, but scores nothing: it is not among the records counted.
    assert {a.pk for a in counted} == set(Answer.objects.filter(organ=t, level__isnull=False).values_list("pk", flat=True))
    assert Answer.objects.filter(organ=t, level__isnull=True).exists() and len(counted) == 5
    page = login(world.appraisal_officer).get(f"/appraisal/lines/{line.pk}/records/").content.decode()
    assert page.count("<tr data-record=") == 5 and "服务对象" in page and "非常满意" in page
