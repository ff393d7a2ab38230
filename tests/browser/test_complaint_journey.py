"""A citizen files a complaint in a real browser (solving the proof of work), the office works it
through the actions, and the citizen follows it up, rates the reply 不满意 and asks for a review."""
import re

import pytest
from playwright.sync_api import expect

from xiaoneng.complaints import actions, antibot
from xiaoneng.complaints.models import Complaint, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def quick_checks(monkeypatch, settings):
    """A proof of work the headless browser solves at once, and a short minimum fill time."""
    from django.core.cache import cache

    monkeypatch.setattr(antibot, "COST", 10)
    monkeypatch.setattr(antibot, "KEY_PREFIX", "0")
    settings.XIAONENG_RULES = {"complaint_web_min_fill_seconds": 1}
    cache.clear()
    yield
    cache.clear()


def test_a_citizen_files_a_complaint_follows_it_up_and_asks_for_a_review(page, desk, quick_checks, shot):
    w = desk.w
    # 1. The form: category, then the region cascade (province preselected → city → county → organ).
    page.goto("/public/complaints/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("效能投诉")
    page.get_by_label("投诉类别").select_option(label="办事拖拉")
    expect(page.get_by_label("省", exact=True)).to_have_value(w.gd.code)
    page.get_by_label("市", exact=True).select_option(label="广州市")
    expect(page.get_by_label("县（区）").locator("option", has_text="天河区")).to_have_count(1)
    page.get_by_label("县（区）").select_option(label="天河区")
    organ = page.get_by_label("被投诉单位（可从列表选择）")
    expect(organ.locator("option", has_text="广州市天河区市场监督管理局")).to_have_count(1)
    organ.select_option(label="广州市天河区市场监督管理局")
    page.get_by_label("投诉标题").fill("营业执照办理拖延")
    page.get_by_label("投诉内容").fill("窗口称材料不全但不一次性告知，前后跑了三趟。")
    page.get_by_label("姓名").fill("李四")
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_label("答复方式").select_option("sms")
    shot("complaint-01-form")

    # 2. The proof of work, solved by the real widget in the browser.
    page.locator("altcha-widget").get_by_text("我不是机器人").click()
    expect(page.locator("input[name=altcha]")).to_have_value(re.compile(r".{40,}"), timeout=30_000)
    page.wait_for_timeout(1000)  # a person takes longer than the minimum fill time
    page.get_by_role("button", name="提交投诉").click()

    # 3. The tracking code and the secret, shown once.
    expect(page.get_by_test_id("filed")).to_contain_text("您的投诉已提交")
    number = page.get_by_test_id("complaint-number").inner_text().strip()
    secret = page.get_by_test_id("complaint-secret").inner_text().strip()
    expect(page.get_by_test_id("sms-sent")).to_be_visible()
    shot("complaint-02-filed")
    complaint = Complaint.objects.get(number=number)
    assert complaint.channel == "web" and complaint.region == w.tianhe and complaint.organ is None
    assert actions.check_secret(complaint, secret)

    # 4. The office works it (no need to drive the staff pages here).
    actions.do_accept(complaint)
    actions.do_route(complaint, organ=w.tianhe_bureau, note="请核查")
    actions.do_report_handling(complaint, report="已约谈窗口负责人。", result="partly")
    actions.do_reply(complaint, text="经核查部分属实，已要求窗口一次性告知所需材料。")

    # 5. The citizen looks it up, reads the reply, rates it 不满意 and asks for a review.
    page.goto("/public/complaints/track/")
    page.get_by_label("投诉编号").fill(number)
    page.get_by_label("查询码").fill(secret)
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("public-status")).to_have_text("已答复")
    expect(page.get_by_test_id("public-reply")).to_contain_text("已要求窗口一次性告知所需材料")
    expect(page.get_by_test_id("public-anonymous")).to_have_text("实名")
    expect(page.locator("body")).not_to_contain_text("李四")
    expect(page.locator("body")).not_to_contain_text("139****5678")
    shot("complaint-03-replied")

    page.get_by_test_id("rate").get_by_label("不满意", exact=True).check()
    page.get_by_label("评价意见（可不填）").fill("仍然没有一次性告知。")
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_test_id("public-satisfaction")).to_contain_text("不满意")
    page.get_by_label("申请复核的理由").fill("窗口仍未一次性告知，请复核。")
    page.get_by_test_id("appeal").get_by_role("button", name="申请复核").click()
    expect(page.get_by_test_id("public-status")).to_have_text("复核中")
    expect(page.get_by_test_id("public-steps")).to_contain_text("申请复核")
    shot("complaint-04-review")
    complaint.refresh_from_db()
    assert complaint.status == Status.REVIEW and complaint.satisfaction == 2
