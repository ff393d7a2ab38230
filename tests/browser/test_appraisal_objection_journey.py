"""An appraisal period in a real browser: the office computes and announces the provisional results,
the organ's leader finds its own result from the home page and objects with evidence, the office
decides the objection with reasons, the window runs out, the office publishes, and the leader sees
the ranking of the class."""
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import PASSWORD  # tests/conftest.py: the shared personas
from django.utils import timezone
from playwright.sync_api import expect

from tests.appraisal.conftest import TREE
from xiaoneng.appraisal import actions
from xiaoneng.appraisal.models import Objection, ObjectionStatus, PeriodStatus
from xiaoneng.clocks import actions as clocks
from xiaoneng.clocks.models import Clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def closed_period(world):
    """Last year's appraisal of the 天河 and 越秀 bureaus, its year over and closed by the office: a late case
    of 天河, an on-time one of 越秀, and their annual goals entered with evidence."""
    year = timezone.localdate().year - 1
    organ_class = actions.do_create_class(name="区县市场监管局", region=world.gz,
                                          organs=[world.tianhe_bureau, world.yuexiu_bureau])
    scheme = actions.do_create_scheme(organ_class=organ_class, year=year, title=f"{year}年区县市场监管局绩效考评方案",
                                      rows=[dict(r) for r in TREE])
    period = actions.do_activate_scheme(scheme, first=date(year, 1, 1), last=date(year, 12, 31))
    for organ, start, stop in ((world.tianhe_bureau, (3, 2), (3, 20)), (world.yuexiu_bureau, (5, 6), (5, 8))):
        clock = clocks.do_start_clock(kind="case.promise", start_at=datetime(year, *start, 9, tzinfo=SH), limit=5,
                                      organ=organ, label="食品经营许可 承诺时限")
        clocks.do_stop_clock(clock, at=datetime(year, *stop, 10, tzinfo=SH))
    goal = scheme.indicators.get(code="2.3")
    for organ, value in ((world.tianhe_bureau, 92), (world.yuexiu_bureau, 100)):
        actions.do_enter_manual_value(period, indicator=goal, organ=organ, value=value, evidence="年度目标考核表")
    return actions.do_close_period(period)


def sign_in(page, username, target):
    page.context.clear_cookies()
    page.goto(f"/login/?next={target}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def test_an_organ_objects_to_its_provisional_result_and_sees_the_published_ranking(page, world, closed_period, shot):
    period = closed_period
    board = f"/appraisal/periods/{period.pk}/"
    heading = page.get_by_role("heading", level=1)

    # 1. The office computes and announces: the objection window starts.
    sign_in(page, "appraisal_officer", board)
    page.get_by_role("button", name="计算结果").click()
    expect(heading).to_contain_text("已计算")
    expect(page.get_by_test_id("board").locator("tbody tr")).to_have_count(2)
    shot("appraisal-01-computed")
    page.get_by_role("button", name="预告结果，开始异议期").click()
    expect(heading).to_contain_text("结果预告（异议期）")
    expect(page.locator("body")).to_contain_text("异议期至")

    # 2. The 天河 leader finds the organ's own result on the home page and objects to the on-time rate.
    sign_in(page, "county_leader", "/")
    own = page.get_by_test_id("appraisal-own")
    expect(own).to_contain_text("可提出异议至")
    own.get_by_role("link", name=world.tianhe_bureau.name).click()
    expect(page.get_by_test_id("lines")).to_contain_text("准时办结率")
    expect(page.locator("body")).not_to_contain_text(world.yuexiu_bureau.name)
    shot("appraisal-02-own-result")
    page.get_by_label("异议指标").select_option(label="1.1 准时办结率")
    page.get_by_label("异议理由").fill("3 月一件系申请人书面要求暂停，不应计为逾期。")
    page.get_by_label("佐证材料").fill("申请人书面暂停申请（扫描件）")
    page.get_by_role("button", name="提交异议").click()
    expect(page.locator(".messages")).to_contain_text("异议已提交")
    expect(page.locator("[data-objection]")).to_contain_text("待决定")
    objection = Objection.objects.get()
    assert objection.line.indicator.code == "1.1" and objection.evidence == "申请人书面暂停申请（扫描件）"

    # 3. The office reads it from the board and rejects it with reasons; publishing must wait for the window.
    sign_in(page, "appraisal_officer", board)
    page.locator(f'[data-objection="{objection.pk}"]').get_by_role("link", name=world.tianhe_bureau.name).click()
    expect(page).to_have_url(re.compile(rf"/appraisal/objections/{objection.pk}/$"))
    expect(page.locator("body")).to_contain_text("申请人书面暂停申请（扫描件）")
    page.get_by_label("异议不成立").check()
    page.get_by_label("决定理由").fill("暂停未在系统登记，亦无法定依据，承诺时限未中止。")
    page.get_by_role("button", name="提交决定").click()
    expect(page.get_by_test_id("objection-status")).to_have_text("异议不成立")
    shot("appraisal-03-decided")
    page.goto(board)
    page.get_by_role("button", name="公布结果").click()
    expect(page.locator(".messages")).to_contain_text("异议期尚未届满")

    # The five working days pass (the clock's deadline moved into the past, as the monitoring loop would find it).
    period.refresh_from_db()
    assert Clock.objects.filter(pk=period.objection_clock_id).update(due_at=timezone.now()) == 1
    page.get_by_role("button", name="公布结果").click()
    expect(heading).to_contain_text("已公布")
    period.refresh_from_db()
    assert period.status == PeriodStatus.PUBLISHED

    # 4. The leader sees the decision and the ranking of the class, without the other organ's details.
    sign_in(page, "county_leader", "/appraisal/mine/")
    page.get_by_role("link", name=world.tianhe_bureau.name).click()
    expect(page.locator("[data-objection]")).to_contain_text("异议不成立")
    page.get_by_role("link", name="类别排名").click()
    ranking = page.get_by_test_id("board")
    expect(ranking.locator("tbody tr")).to_have_count(2)
    expect(ranking).to_contain_text(world.yuexiu_bureau.name)
    expect(ranking.get_by_role("link", name=world.yuexiu_bureau.name)).to_have_count(0)
    shot("appraisal-04-ranking")
    assert Objection.objects.get().status == ObjectionStatus.REJECTED
