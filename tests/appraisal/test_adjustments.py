"""加减分: entered with evidence, approved by a second officer, capped, added after the weighted sum."""
from datetime import date
from decimal import Decimal as D

import pytest
from django.test import override_settings

from xiaoneng.appraisal import actions
from xiaoneng.appraisal.models import Adjustment, Result
from xiaoneng.audit.models import AuditEntry
from xiaoneng.orgs.models import Role

from .conftest import at


@pytest.fixture
def officers(land):
    from tests.conftest import make_user

    land.first = land.w.appraisal_officer
    land.second = make_user("second_officer", Role.APPRAISAL_OFFICER, region=land.w.gz)
    return land


def enter(land, points, organ=None, day=date(2026, 6, 1), by=None, **kw):
    values = dict(organ=organ or land.w.tianhe_bureau, points=points, occurred_on=day,
                  reason="获省级政务服务创新案例", evidence="省政务服务办通报（粤政务〔2026〕8号）", by=by or land.first,
                  at=at("2026-06-02T10:00"))
    values.update(kw)
    return actions.do_enter_adjustment(land.period, **values)


def computed(land):
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    return Result.objects.get(period=land.period, organ=land.w.tianhe_bureau)


def test_the_one_who_entered_an_item_cannot_approve_it(officers):
    item = enter(officers, "2")
    with pytest.raises(actions.AppraisalError) as err:
        actions.do_decide_adjustment(item, approve=True, note="", by=officers.first)
    assert "另一名考评员" in err.value.message and "appraisal_officer" in err.value.message
    assert Adjustment.objects.get(pk=item.pk).status == "pending"


def test_only_approved_items_count_after_the_weighted_sum(officers):
    plus = enter(officers, "3")
    actions.do_decide_adjustment(plus, approve=True, note="属实", by=officers.second)
    minus = enter(officers, "-1.5", reason="被省政府通报批评")
    actions.do_decide_adjustment(minus, approve=True, note="", by=officers.second)
    rejected = enter(officers, "2", reason="重复申报")
    actions.do_decide_adjustment(rejected, approve=False, note="与第一项重复", by=officers.second)
    enter(officers, "-1", reason="待审核的减分")  # pending: does not count
    th = computed(officers)
    assert th.adjustment == D("1.50")
    assert th.total == th.weighted_total + D("1.50")
    assert th.adjustment_words == "加分 3.00 分（1 项），减分 1.50 分（1 项）；合计 +1.50 分"
    assert AuditEntry.objects.filter(action="appraisal.adjustment_enter").count() == 4
    assert AuditEntry.objects.filter(action="appraisal.adjustment_decide").count() == 3


def test_an_entry_beyond_the_periods_cap_is_refused_and_changes_nothing(officers):
    enter(officers, "4")
    with pytest.raises(actions.AppraisalError) as err:
        enter(officers, "1.5")
    assert err.value.field == "points"
    assert err.value.message == "加分超出上限：广州市天河区市场监督管理局本考评期加分上限 5 分，已用 4 分，本项 1.5 分"
    assert Adjustment.objects.count() == 1
    enter(officers, "-10")  # deductions have their own cap (10)


def test_a_cap_lowered_later_still_holds_in_the_computation(officers):
    item = enter(officers, "4")
    actions.do_decide_adjustment(item, approve=True, note="", by=officers.second)
    with override_settings(XIAONENG_RULES={"appraisal_adjustment_caps": {"bonus": 2, "deduction": 10}}):
        th = computed(officers)
    assert th.adjustment == D("2.00") and "超过加分上限 2.00 分，按 2.00 分计" in th.adjustment_words


@pytest.mark.parametrize("field,kw,reason", [
    ("points", {"points": "0"}, "非零"),
    ("points", {"points": "三分"}, "不是数字"),
    ("points", {"points": "1.234"}, "两位小数"),
    ("evidence", {"evidence": "  "}, "佐证"),
    ("reason", {"reason": ""}, "事由"),
    ("occurred_on", {"day": date(2025, 12, 31)}, "考评期内"),
])
def test_bad_input_names_its_field_and_saves_nothing(officers, field, kw, reason):
    points = kw.pop("points", "1")
    with pytest.raises(actions.AppraisalError) as err:
        enter(officers, points, **kw)
    assert err.value.field == field and reason in err.value.message
    assert not Adjustment.objects.exists()


def test_an_organ_outside_the_class_gets_no_item(officers):
    with pytest.raises(actions.AppraisalError) as err:
        enter(officers, "1", organ=officers.w.gz_bureau)
    assert err.value.field == "organ"


def test_a_rejection_needs_reasons_and_a_decided_item_is_not_decided_again(officers):
    item = enter(officers, "1")
    with pytest.raises(actions.AppraisalError) as err:
        actions.do_decide_adjustment(item, approve=False, note=" ", by=officers.second)
    assert err.value.field == "note"
    actions.do_decide_adjustment(item, approve=True, note="", by=officers.second)
    with pytest.raises(actions.AppraisalError):
        actions.do_decide_adjustment(item, approve=False, note="改主意", by=officers.second)
