"""A handler works a case in a real browser, then the applicant looks it up on the public side."""
import re
from datetime import timedelta

import pytest
from conftest import PASSWORD  # tests/conftest.py: the shared personas
from django.urls import include, path
from django.utils import timezone
from playwright.sync_api import expect

import xiaoneng.urls
from xiaoneng.approvals import actions

# Until the project routes these pages itself, the test routes them the way it will.
urlpatterns = [
    path("cases/", include("xiaoneng.approvals.urls")),
    path("public/", include("xiaoneng.approvals.public_urls")),
    *xiaoneng.urls.urlpatterns,
]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]

CODE = "730516"


@pytest.fixture
def case(world, matters):
    import xiaoneng.approvals.nav  # noqa: F401  (the app imports it in ready())

    case, _code = actions.do_submit_case(
        matter=matters.licence, case_no="TH-2026-0100", applicant_name="张三丰", applicant_phone="13800001234",
        received_at=timezone.now() - timedelta(hours=2), verify_code=CODE,
    )
    return case


def test_a_handler_accepts_a_case_completes_a_step_and_the_applicant_looks_it_up(page, case, shot):
    # 1. Sign in and open the case list from the navigation.
    page.goto("/login/?next=/cases/")
    page.get_by_label("用户名").fill("county_handler")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/cases/$"))
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="办件", exact=True)).to_have_attribute("aria-current", "page")
    table = page.get_by_test_id("case-table")
    expect(table.locator("tbody tr")).to_have_count(1)

    # The filters refresh the list in place.
    page.get_by_label("搜索", exact=True).fill("没有这个")
    expect(page.get_by_test_id("empty")).to_be_visible()
    page.get_by_label("搜索", exact=True).fill("TH-2026")
    expect(table.locator("tbody tr")).to_have_count(1)
    shot("cases-01-list")

    # 2. Open the case: facts, the correction clock explained, the actions a handler may take.
    table.get_by_role("link", name="TH-2026-0100").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("TH-2026-0100")
    expect(page.get_by_test_id("case-status")).to_have_text("已申请")
    expect(page.get_by_test_id("applicant")).to_contain_text("138****1234")
    expect(page.get_by_test_id("clock-explanation")).to_have_count(1)
    expect(page.get_by_test_id("clock-explanation").first).to_contain_text("工作日")

    # 3. A bad input comes back as a message on the form, not an error page.
    actions_panel = page.get_by_test_id("actions")
    refuse = actions_panel.locator('[data-action="refuse"]')
    refuse.locator("summary").click()
    refuse.get_by_role("button", name="不予受理").click()
    expect(page.locator('[data-action="refuse"] [data-testid="field-error"]')).to_contain_text("不予受理理由")
    expect(page.get_by_test_id("case-status")).to_have_text("已申请")

    # 4. Accept it.
    page.get_by_test_id("actions").locator('[data-action="accept"]').get_by_role("button", name="受理").click()
    expect(page.get_by_test_id("case-status")).to_have_text("已受理")
    expect(page.get_by_role("status").filter(has_text="已完成：受理")).to_be_visible()
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("已申请 → 已受理")
    expect(page.get_by_test_id("clock")).to_have_count(4)  # correction, legal, promise, first step
    shot("cases-02-accepted")

    # 5. Complete the first step; the timeline and the clocks follow.
    step = page.get_by_test_id("actions").locator('[data-action="step"]')
    step.locator("summary").click()
    step.get_by_label("经办人").fill("王经办")
    step.get_by_role("button", name=re.compile("办结当前环节")).click()
    expect(timeline).to_contain_text("环节办结：审查")
    expect(timeline).to_contain_text("经办人：王经办")
    expect(page.get_by_test_id("clock")).to_have_count(5)
    legal = page.locator('[data-testid="clock"][data-kind="case.legal"] [data-testid="clock-explanation"]')
    expect(legal).to_contain_text("20")
    expect(legal).to_contain_text("工作日")
    expect(page.get_by_test_id("actions").locator('[data-action="step"] summary')).to_contain_text("决定")
    shot("cases-03-step-done")

    # 6. The applicant, on a phone, looks the case up with the code from the SMS.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/public/cases/")
    page.get_by_label("办件编号").fill("TH-2026-0100")
    page.get_by_label("查询码").fill("000000")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("lookup-error")).to_contain_text("办件编号或查询码不正确")
    page.get_by_label("查询码").fill(CODE)
    page.get_by_role("button", name="查询").click()
    result = page.get_by_test_id("lookup-result")
    expect(page.get_by_test_id("public-status")).to_have_text("已受理")
    expect(page.get_by_test_id("public-applicant")).to_have_text("张*丰")
    expect(page.get_by_test_id("public-explanation")).to_contain_text("工作日")
    expect(page.get_by_test_id("timeline")).to_contain_text("环节办结：审查")
    expect(page.locator("body")).not_to_contain_text("王经办")
    expect(page.locator("body")).not_to_contain_text("county_handler")
    expect(result).not_to_contain_text("13800001234")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    shot("cases-04-public-lookup")

    # 7. The language switch is there for the applicant too.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
