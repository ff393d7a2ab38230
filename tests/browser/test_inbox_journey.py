"""A supervisor's reminder reaches the handler's inbox; the handler asks for more time and the leader approves."""
import re
from datetime import timedelta

import pytest
from conftest import PASSWORD  # tests/conftest.py: the shared personas
from django.urls import include, path
from django.utils import timezone
from playwright.sync_api import expect

import xiaoneng.urls
from xiaoneng.approvals import actions
from xiaoneng.approvals.models import Case

urlpatterns = [path("cases/", include("xiaoneng.approvals.urls")), *xiaoneng.urls.urlpatterns]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]


@pytest.fixture
def case(world, matters):
    import xiaoneng.approvals.nav  # noqa: F401  (the app imports it in ready())

    case, _code = actions.do_submit_case(matter=matters.licence, case_no="TH-2026-0200", applicant_name="张三丰",
                                         received_at=timezone.now() - timedelta(hours=3))
    actions.do_accept_case(case)
    return case


def sign_in(page, username, next_url="/"):
    page.goto(f"/login/?next={next_url}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def sign_out(page):
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login/"))


def test_a_reminder_reaches_the_handler_and_the_leader_approves_an_extension(page, case, shot):
    # 1. The city supervisor opens the case and sends a reminder (催办).
    sign_in(page, "city_supervisor", f"/cases/{case.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("TH-2026-0200")
    reminder = page.get_by_test_id("reminder")
    reminder.get_by_label("催办内容").fill("请于本周内办结，逾期将亮黄牌。")
    reminder.get_by_role("button", name="发送催办").click()
    expect(page.get_by_role("status").filter(has_text="已向广州市天河区市场监督管理局发出催办")).to_be_visible()
    shot("inbox-01-reminder-sent")
    sign_out(page)

    # 2. The handler sees it in the header badge, the to-do and the notification list.
    sign_in(page, "county_handler")
    expect(page.get_by_test_id("badge-unread")).to_have_text("1")
    expect(page.get_by_test_id("todo-cases").get_by_role("link", name=re.compile("TH-2026-0200"))).to_be_visible()
    page.get_by_test_id("inbox-badge").get_by_role("link", name=re.compile("通知")).click()
    note = page.get_by_test_id("notification").first
    expect(note).to_contain_text("催办：办件 TH-2026-0200")
    expect(note.get_by_test_id("notification-body")).to_have_text("请于本周内办结，逾期将亮黄牌。")
    note.get_by_test_id("mark-read").click()
    expect(page.get_by_test_id("unread-count")).to_have_text("0 条未读")
    expect(page.get_by_test_id("badge-unread")).to_have_text("0")
    shot("inbox-02-handler-notified")

    # 3. The handler asks for five more working days (no approver to type).
    page.goto(f"/cases/{case.pk}/")
    extend = page.get_by_test_id("actions").locator('[data-action="extend"]')
    extend.locator("summary").click()
    expect(extend.get_by_label("批准人（本机关负责人）")).to_have_count(0)
    extend.get_by_label("延长工作日数").fill("5")
    extend.get_by_label("延长理由（将告知申请人）").fill("需组织现场核查")
    extend.get_by_role("button", name="申请延长办理时限").click()
    expect(page.get_by_test_id("extension-request-state")).to_have_text("待审批")
    shot("inbox-03-extension-requested")
    sign_out(page)

    # 4. The leader finds it in the to-do and approves it with their own account.
    sign_in(page, "county_leader")
    page.get_by_test_id("todo-extensions").get_by_role("link", name=re.compile("TH-2026-0200")).click()
    expect(page.get_by_test_id("extension-days")).to_have_text("5")
    decide = page.get_by_test_id("decide-extension")
    decide.get_by_label("批准延长").check()
    decide.get_by_role("button", name="提交审批").click()
    expect(page.get_by_test_id("extension-state")).to_have_text("已批准")
    expect(page.get_by_test_id("extension-approver")).to_contain_text("county_leader")
    shot("inbox-04-extension-approved")
    assert Case.objects.get(pk=case.pk).extended

    # 5. The leader's dashboard link works.
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("本机关仪表盘")
    expect(page.get_by_test_id("leader-kpis")).to_be_visible()
