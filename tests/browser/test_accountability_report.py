"""The periodic report and the public 通报 page in a real browser: the report's charts draw (ECharts served
locally, no console error under the CSP), a bad period is an error on the form, and a decision announced to
the public is on the portal with the person's name masked."""
import re
from datetime import timedelta

import pytest
from conftest import PASSWORD  # tests/conftest.py: the shared personas
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import make_organ
from xiaoneng.accountability import actions
from xiaoneng.accountability.models import Responsibility, Source, Tolerance
from xiaoneng.accountability.report import Period
from xiaoneng.orgs.models import OrganKind, Staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def public_case(world):
    office = make_organ("广州市天河区党政机关效能建设办公室", world.tianhe, kind=OrganKind.PARTY)
    zhang = Staff.objects.create(organ=world.tianhe_bureau, name="张三", rank="一级科员")
    moment = timezone.now() - timedelta(hours=3)
    proposal = actions.do_propose_accountability(source=Source.MEDIA, organ=world.tianhe_bureau, title="暗访发现窗口推诿",
                                                 reason="暗访视频显示窗口人员推诿群众", at=moment)
    case = actions.do_register_case(proposal, deciding_organ=office, at=moment)
    party = actions.do_add_party(case, staff=zhang, responsibility=Responsibility.DIRECT)
    actions.do_record_findings(case, findings="经查，张三推诿群众属实", at=moment)
    actions.do_notify_party(party, measure="warning", at=moment)
    actions.do_record_statement(party, waived=True, at=moment)
    actions.do_review_tolerance(party, situations=[], outcome=Tolerance.NONE, at=moment)
    actions.do_decide_case(case, decider="王主任", decision_number="天效问〔2026〕31号",
                           measures={party.pk: (["warning"], None)}, at=moment)
    actions.do_serve_case(case, at=moment)
    actions.do_announce_case(case, scope="向社会公开", public=True, at=moment)
    return case


def test_the_report_draws_its_charts_refuses_a_bad_period_and_the_public_sees_the_masked_notice(page, public_case, shot):
    period = Period.containing(timezone.localdate()).code
    target = f"/accountability/report/?region=440106000000&period={period}"
    page.goto(f"/login/?next={target.replace('&', '%26').replace('?', '%3F')}")
    page.get_by_label("用户名").fill("county_supervisor")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("report-comparison")).to_contain_text("立案（件）")
    expect(page.locator('[data-chart="compare"] svg')).to_be_visible()
    expect(page.locator('[data-chart="measure"] svg')).to_be_visible()
    shot("acct-report-01")

    page.get_by_label("报告期").fill("2026-Q9")
    page.get_by_role("button", name="生成报告").click()
    expect(page.locator(".alert-error")).to_contain_text("报告期应为年度")
    # The page is answered with 400, which the browser reports on its console: that, and nothing else.
    assert [p for p in page.problems if "400" not in p] == [] and len(page.problems) == 1
    page.problems.clear()

    page.goto("/public/")
    page.get_by_role("link", name=re.compile("问责通报")).first.click()
    notice = page.get_by_test_id("public-notice")
    expect(notice).to_contain_text("张某（直接责任）：警告")
    expect(page.locator("body")).not_to_contain_text("张三")
    shot("acct-public-01")
