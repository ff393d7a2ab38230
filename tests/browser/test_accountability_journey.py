"""An accountability case in a real browser: a red card's proposal is registered, the person is
told, heard (waiver recorded), reviewed, decided, the decision issued as a PDF, served and filed;
then the person asks for a review and the review upholds the decision."""
import re
from datetime import timedelta

import pytest
from conftest import PASSWORD  # tests/conftest.py: the shared personas
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import make_organ
from xiaoneng.accountability.models import Case, Proposal, Status
from xiaoneng.clocks import actions as clocks
from xiaoneng.documents.models import Document
from xiaoneng.orgs.models import OrganKind, Staff
from xiaoneng.supervision.models import AccountabilityProposal, Alert, Level

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def red_card(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    office = make_organ("广州市天河区党政机关效能建设办公室", world.tianhe, kind=OrganKind.PARTY)
    Staff.objects.create(organ=world.tianhe_bureau, name="张三", rank="一级科员")
    moment = timezone.now() - timedelta(days=2)
    clock = clocks.do_start_clock(kind="case.legal", start_at=moment - timedelta(days=40), limit=20,
                                  organ=world.tianhe_bureau, label="食品经营许可 法定时限")
    alert = Alert.objects.create(rule="overdue_legal", level=Level.RED, organ=world.tianhe_bureau,
                                 region_code=world.tianhe_bureau.region_code, clock=clock, message="超过法定时限 3 个工作日",
                                 subject_label="SP-2026-001 食品经营许可", raised_at=moment, dedup_key="journey-1")
    origin = AccountabilityProposal.objects.create(alert=alert, organ=world.tianhe_bureau, reason="红牌：超过法定时限",
                                                   region_code=world.tianhe_bureau.region_code, proposed_at=moment)
    return Proposal.objects.get(origin=origin), office


def sign_in(page, username, target):
    page.goto(f"/login/?next={target}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def act(page, action, fill=None, button=None):
    """Open the action's panel, fill it, submit it and wait for the page to come back."""
    box = page.locator(f"#action-{action}")
    summary = box.locator("summary")
    if summary.count():
        summary.click()
    if fill:
        fill(box)
    box.locator("button[type=submit]").click()
    expect(page.locator(".alert-success, [role=status]").first).to_be_visible()


def test_a_red_card_goes_to_a_filed_decision_and_a_review_in_the_browser(page, red_card, shot):
    proposal, office = red_card
    sign_in(page, "county_supervisor", "/accountability/proposals/")
    page.get_by_role("link", name=re.compile("SP-2026-001|超过法定时限|红牌")).first.click()
    expect(page).to_have_url(re.compile(rf"/accountability/proposals/{proposal.pk}/$"))
    shot("acct-01-proposal")

    # 立案 by the 天河 efficiency office.
    box = page.locator("#action-register")
    box.locator("summary").click()
    box.get_by_label("问责机关").select_option(str(office.pk))
    box.locator("button[type=submit]").click()
    case = Case.objects.get()
    expect(page).to_have_url(re.compile(rf"/accountability/{case.pk}/$"))
    expect(page.get_by_test_id("case-status")).to_have_text("已立案")

    staff = Staff.objects.get(name="张三")
    act(page, "add_party", lambda b: (b.get_by_label("责任人").select_option(str(staff.pk)),
                                      b.get_by_label("责任类型").select_option("direct")))
    act(page, "findings", lambda b: b.get_by_label("调查认定的事实").fill("经查，张三经办的办件超过法定时限 3 个工作日。"))
    expect(page.get_by_test_id("case-status")).to_have_text("已调查")
    act(page, "notify", lambda b: b.get_by_label("拟问责方式").select_option("warning"))
    expect(page.get_by_test_id("case-status")).to_have_text("已告知")
    act(page, "statement", lambda b: b.get_by_label("本人书面放弃陈述申辩").check())
    act(page, "tolerance", lambda b: b.get_by_label("容错结论").select_option("none"))
    expect(page.get_by_test_id("case-status")).to_have_text("已容错审查")
    act(page, "decide", lambda b: (b.get_by_label("决定人").fill("王主任"),
                                   b.get_by_label("决定书文号").fill("天效问〔2026〕21号")))
    expect(page.get_by_test_id("case-status")).to_have_text("已决定")
    shot("acct-02-decided")

    # The decision as an official document, numbered as signed.
    documents = page.get_by_test_id("documents")
    documents.get_by_role("button", name="制发问责决定书").click()
    expect(documents.get_by_role("link", name="问责决定书")).to_be_visible()
    assert Document.objects.get(kind="acct.decision").number == "天效问〔2026〕21号"

    act(page, "serve")
    expect(page.get_by_test_id("case-status")).to_have_text("已送达")
    act(page, "file", lambda b: b.get_by_label("备案机关").fill("广州市天河区监察委员会"))
    expect(page.get_by_test_id("case-status")).to_have_text("已备案")

    # The person asks for a review; it is upheld.
    today = timezone.localdate().isoformat()
    act(page, "appeal", lambda b: (b.get_by_label("类型").select_option("review"),
                                   b.get_by_label("收到申请日期").fill(today),
                                   b.get_by_label("申请理由").fill("认为处理过重")))
    act(page, "decide_appeal", lambda b: (b.get_by_label("结果").select_option("upheld"),
                                          b.get_by_label("决定理由").fill("事实清楚，处理适当")))
    expect(page.locator("body")).to_contain_text("维持")
    shot("acct-03-appeal")
    case.refresh_from_db()
    assert case.status == Status.FILED and case.parties.get().appeals.get().outcome == "upheld"
