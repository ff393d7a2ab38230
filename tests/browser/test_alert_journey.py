"""The life of a yellow card in a real browser: the organ explains, the supervisor verifies,
the organ reports back on the supervision order, the supervisor closes it."""
import re
from datetime import timedelta

import pytest
from conftest import PASSWORD  # tests/conftest.py: the shared personas
from django.urls import include, path
from django.utils import timezone
from playwright.sync_api import expect

import xiaoneng.urls
from xiaoneng.approvals import actions as cases
from xiaoneng.clocks import monitor
from xiaoneng.supervision.models import Alert, SupervisionOrder

# Until the project routes these pages itself, the test routes them the way it will.
urlpatterns = [
    path("cases/", include("xiaoneng.approvals.urls")),
    path("supervision/", include("xiaoneng.supervision.urls")),
    *xiaoneng.urls.urlpatterns,
]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]

PDF = b"%PDF-1.4\n%journey\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture
def yellow_card(world, matters, settings, tmp_path):
    """A case accepted twenty days ago, promised in ten working days: the monitor raises a yellow card and an order."""
    import xiaoneng.supervision.nav  # noqa: F401  (the app imports it in ready())

    settings.MEDIA_ROOT = tmp_path / "media"
    received = timezone.now() - timedelta(days=20)
    case, _code = cases.do_submit_case(matter=matters.licence, case_no="TH-2026-0200", applicant_name="张三丰",
                                       received_at=received)
    cases.do_accept_case(case, at=received + timedelta(hours=1))
    monitor.run_pass(timezone.now())
    alert = Alert.objects.get(rule="overdue_promise")
    assert alert.level == "yellow"
    order = SupervisionOrder.objects.get(alert=alert)
    return alert, order


def sign_in(page, username, target):
    page.goto(f"/login/?next={target}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def sign_out(page):
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login/"))


def test_a_yellow_card_is_explained_verified_and_its_order_reported_and_closed(page, yellow_card, shot):
    alert, order = yellow_card

    # 1. The organ's handler opens the board from the navigation: the yellow card is on it.
    sign_in(page, "county_handler", "/supervision/alerts/")
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="预警", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("board-yellow").locator(".stat-value")).to_have_text("1")
    table = page.get_by_test_id("alert-table")
    row = table.locator(f'tr[data-alert="{alert.pk}"]')
    expect(row.locator(".level-yellow")).to_have_text("黄牌")
    # The filters refresh the list in place.
    page.get_by_label("等级").select_option("red")
    expect(page.get_by_test_id("empty")).to_be_visible()
    page.get_by_label("等级").select_option("yellow")
    expect(table.locator("tbody tr")).to_have_count(1)
    shot("alerts-01-board")

    # 2. The alert page: the finding, its basis, the evidence and the clock explained.
    row.get_by_role("link").click()
    expect(page.get_by_test_id("alert-status")).to_have_text("待说明")
    expect(page.get_by_test_id("alert-message")).to_contain_text("超过承诺时限")
    expect(page.get_by_test_id("legal-basis")).to_have_text("本机关公开承诺")
    expect(page.get_by_test_id("evidence")).to_contain_text("承诺时限")
    expect(page.get_by_test_id("clock-explanation")).to_contain_text("工作日")
    expect(page.get_by_test_id("alert-subject").get_by_role("link", name="TH-2026-0200")).to_be_visible()
    panel = page.get_by_test_id("actions")
    expect(panel.locator("[data-action]")).to_have_count(2)  # explain and appeal; no verification for the organ

    # 3. An empty explanation or a wrong file comes back as a message on the form.
    explain = panel.locator('[data-action="explain"]')
    explain.locator("summary").click()
    explain.get_by_role("button", name="情况说明").click()
    expect(page.locator('[data-action="explain"] [data-testid="field-error"]')).to_contain_text("情况说明")
    explain = page.get_by_test_id("actions").locator('[data-action="explain"]')
    explain.get_by_label("情况说明").fill("申请人补交材料延误，已于次日办结并向申请人致歉。")
    explain.get_by_label("附件").set_input_files({"name": "run.exe", "mimeType": "application/octet-stream",
                                                  "buffer": b"MZ\x90\x00"})
    explain.get_by_role("button", name="情况说明").click()
    expect(page.locator('[data-action="explain"] [data-testid="field-error"]')).to_contain_text("只能上传")
    expect(page.get_by_test_id("alert-status")).to_have_text("待说明")

    # 4. The explanation with its attachment.
    explain = page.get_by_test_id("actions").locator('[data-action="explain"]')
    explain.get_by_label("附件").set_input_files({"name": "情况说明.pdf", "mimeType": "application/pdf", "buffer": PDF})
    explain.get_by_role("button", name="情况说明").click()
    expect(page.get_by_test_id("alert-status")).to_have_text("已说明")
    expect(page.get_by_role("status").filter(has_text="已完成：情况说明")).to_be_visible()
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("申请人补交材料延误")
    expect(timeline.get_by_test_id("attachment")).to_contain_text(".pdf")
    shot("alerts-02-explained")
    sign_out(page)

    # 5. The supervisor reads the explanation, downloads the attachment, verifies and closes the alert.
    sign_in(page, "county_supervisor", f"/supervision/alerts/{alert.pk}/")
    with page.expect_download() as download:
        page.get_by_test_id("timeline").get_by_test_id("attachment").click()
    assert download.value.suggested_filename.endswith(".pdf")
    close = page.get_by_test_id("actions").locator('[data-action="close"]')
    close.locator("summary").click()
    close.get_by_label("核实意见").fill("经核实情况属实，已整改到位。")
    close.get_by_role("button", name="核实办结").click()
    expect(page.get_by_test_id("alert-status")).to_have_text("已办结")
    expect(page.get_by_role("status").filter(has_text="已完成：核实办结")).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("经核实情况属实")
    shot("alerts-03-closed")
    sign_out(page)

    # 6. The handler reports back on the order, with the rectification report attached.
    sign_in(page, "county_handler", "/supervision/orders/")
    page.get_by_test_id("order-table").get_by_role("link", name=order.number).click()
    expect(page.get_by_test_id("order-status")).to_have_text("督办中")
    expect(page.get_by_test_id("clock-explanation")).to_contain_text("工作日")
    report = page.get_by_test_id("actions").locator('[data-action="report"]')
    report.locator("summary").click()
    report.get_by_label("办理情况").fill("已办结该件，并对窗口人员进行了批评教育。")
    report.get_by_label("附件").set_input_files({"name": "整改报告.pdf", "mimeType": "application/pdf", "buffer": PDF})
    report.get_by_role("button", name="反馈办理情况").click()
    expect(page.get_by_test_id("order-status")).to_have_text("已反馈")
    expect(page.get_by_test_id("timeline")).to_contain_text("批评教育")
    shot("orders-01-reported")
    sign_out(page)

    # 7. The supervisor verifies the feedback and the order is closed.
    sign_in(page, "county_supervisor", "/supervision/orders/")
    page.get_by_test_id("order-table").get_by_role("link", name=order.number).click()
    verify = page.get_by_test_id("actions").locator('[data-action="verify"]')
    verify.locator("summary").click()
    verify.get_by_label("核实办结").check()
    verify.get_by_label("核实意见").fill("整改到位，同意办结。")
    verify.get_by_role("button", name="核实反馈").click()
    expect(page.get_by_test_id("order-status")).to_have_text("已办结")
    expect(page.get_by_role("status").filter(has_text="已完成：核实反馈")).to_be_visible()
    expect(page.get_by_test_id("actions")).to_contain_text("当前状态下没有可办理的操作")
    shot("orders-02-closed")

    order.refresh_from_db()
    alert.refresh_from_db()
    assert order.status == "closed" and alert.status == "closed"
