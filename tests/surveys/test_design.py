"""Designing a survey: the checks with their messages, the audit, the status table, and the text boxes'
parser (fuzzed: it never fails with anything but a clear SurveyError)."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiaoneng.appraisal import actions as appraisal
from xiaoneng.audit.models import AuditEntry
from xiaoneng.surveys import actions, design
from xiaoneng.surveys.actions import SurveyError
from xiaoneng.surveys.models import Survey, SurveyStatus

from .conftest import GROUPS, QUESTIONS


def _create(world, **overrides):
    values = dict(title="评议", year=2026, region=world.gz, organs=[world.tianhe_bureau],
                  questions=[dict(q) for q in QUESTIONS], groups=[dict(g) for g in GROUPS])
    values.update(overrides)
    return actions.do_create_survey(**values)


def test_a_survey_is_created_as_a_draft_with_its_questions_groups_and_an_audit_entry(poll):
    s = poll.survey
    assert s.status == SurveyStatus.DRAFT and s.region_code == "4401"
    assert [g.name for g in s.groups.order_by("order")] == ["服务对象", "企业"]
    assert [str(g.weight) for g in s.groups.order_by("order")] == ["60.00", "40.00"]
    assert s.questions.count() == 3 and len(s.slug) >= 16
    entry = AuditEntry.objects.get(action="survey.create", object_id=str(s.pk))
    assert entry.changes["groups"][0] == {"name": "服务对象", "weight": "60", "open_to_phone": True}


def test_group_weights_that_do_not_sum_to_100_are_refused_with_the_total_and_nothing_is_saved(world):
    with pytest.raises(SurveyError) as exc:
        _create(world, groups=[{"name": "服务对象", "weight": "60"}, {"name": "企业", "weight": "30"}])
    assert exc.value.message == "评议主体权重合计为 90，应为 100" and exc.value.field == "groups"
    assert not Survey.objects.exists()


@pytest.mark.parametrize(("groups", "message"), [
    ([{"name": "服务对象", "weight": "六十"}, {"name": "企业", "weight": "40"}], "评议主体第 1 行：权重“六十”不是数字"),
    ([{"name": "服务对象", "weight": "0"}, {"name": "企业", "weight": "100"}], "评议主体第 1 行：权重应大于 0 且不超过 100"),
    ([{"name": "服务对象", "weight": "50"}, {"name": "服务对象", "weight": "50"}], "评议主体第 2 行：“服务对象”重复"),
    ([{"name": " ", "weight": "100"}], "评议主体第 1 行：名称为空"),
    ([{"name": "企业", "weight": "33.333"}, {"name": "群众", "weight": "66.667"}], "评议主体第 1 行：权重最多两位小数"),
    ([{"name": "企业", "weight": "NaN"}], "评议主体第 1 行：权重“NaN”不是数字"),
    ([], "评议主体：至少要有一个评议主体"),
])
def test_bad_rater_groups_are_refused_naming_the_row_and_the_reason(world, groups, message):
    with pytest.raises(SurveyError) as exc:
        _create(world, groups=groups)
    assert exc.value.message == message


def test_a_survey_needs_a_satisfaction_question_and_organs_of_its_own_region(world):
    with pytest.raises(SurveyError, match="至少要有一道满意度"):
        _create(world, questions=[{"kind": "text", "text": "意见"}])
    with pytest.raises(SurveyError, match="机关不在本区划内：深圳市福田区市场监督管理局"):
        _create(world, organs=[world.tianhe_bureau, world.futian_bureau])
    with pytest.raises(SurveyError, match="请至少选择一个被评议机关"):
        _create(world, organs=[])
    assert not Survey.objects.exists()


def test_a_survey_for_an_appraisal_period_takes_the_period_year_and_by_default_its_class(world):
    cls = appraisal.do_create_class(name="区县市场监管局", region=world.gz,
                                    organs=[world.tianhe_bureau, world.yuexiu_bureau])
    scheme = appraisal.do_create_scheme(organ_class=cls, year=2026, title="方案", rows=[
        {"code": "1", "parent": "", "name": "群众评议", "weight": 100, "source": "survey", "method": "linear",
         "params": {"worst": 60, "best": 100}}])
    period = appraisal.do_activate_scheme(scheme)
    with pytest.raises(SurveyError, match="年度应与考评期一致（2026 年）"):
        _create(world, year=2025, period=period, organs=None)
    survey = _create(world, period=period, organs=None)
    assert set(survey.organs.all()) == {world.tianhe_bureau, world.yuexiu_bureau}


def test_a_survey_opens_and_closes_once_each_and_both_changes_are_audited(poll):
    poll.open()
    with pytest.raises(SurveyError, match="不能变为"):
        actions.do_open_survey(poll.survey)
    closed = actions.do_close_survey(poll.survey)
    assert closed.status == SurveyStatus.CLOSED and closed.closed_at is not None
    with pytest.raises(SurveyError, match="“已结束”，不能变为“评议中”"):
        actions.do_open_survey(closed)
    changes = [e.changes["status"] for e in AuditEntry.objects.filter(action="survey.status").order_by("pk")]
    assert changes == [["draft", "open"], ["open", "closed"]]


def test_the_groups_box_reads_names_weights_and_the_phone_flag():
    rows = design.parse_groups("服务对象, 40, 手机\n企业，30\n人大代表、政协委员\t20\n上级机关; 10; 否")
    assert rows == [
        {"name": "服务对象", "weight": "40", "open_to_phone": True},
        {"name": "企业", "weight": "30", "open_to_phone": False},
        {"name": "人大代表、政协委员", "weight": "20", "open_to_phone": False},
        {"name": "上级机关", "weight": "10", "open_to_phone": False},
    ]
    with pytest.raises(SurveyError, match="评议主体第 2 行：应为“名称, 权重”"):
        design.parse_groups("服务对象, 40\n企业")
    with pytest.raises(SurveyError, match="评议主体第 1 行：第三项只能写“手机”"):
        design.parse_groups("服务对象, 40, 也许")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_the_groups_box_parser_and_the_checks_never_fail_with_anything_but_a_clear_error(text):
    try:
        rows = design.parse_groups(text)
        actions.check_groups(rows)
    except SurveyError as exc:
        assert exc.message.startswith("评议主体") and exc.field == "groups"
