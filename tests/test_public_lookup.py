"""The applicant's look-up: case number plus verification code, no login, nothing leaked."""
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import include, path, reverse
from django.utils import timezone

import xiaoneng.urls
from xiaoneng.approvals import actions
from xiaoneng.audit.log import acting_as

urlpatterns = [
    path("cases/", include("xiaoneng.approvals.urls")),
    path("public/", include("xiaoneng.approvals.public_urls")),
    *xiaoneng.urls.urlpatterns,
]
pytestmark = pytest.mark.urls(__name__)

CODE = "482913"


@pytest.fixture
def case(world, matters):
    """A case handled by named staff, so the test can look for their names."""
    with acting_as(world.county_handler, channel="web"):
        case, _code = actions.do_submit_case(
            matter=matters.licence, case_no="TH-2026-0042", applicant_name="张三丰", applicant_phone="13800001234",
            received_at=timezone.now() - timedelta(hours=3), verify_code=CODE,
        )
        actions.do_request_correction(case, items=["营业执照复印件不清晰"])
        actions.do_mark_corrected(case)
        actions.do_accept_case(case)
        actions.do_complete_step(case, step="审查", handler="王经办")
        actions.do_extend_case(case, days=5, reasons="需现场核查", approver_name="李局长")
    return case


def look(client, case_no, code, address="10.1.1.1"):
    return client.post(reverse("public:case-lookup"), {"case_no": case_no, "code": code}, REMOTE_ADDR=address)


def body(response):
    """The page without its per-response CSRF token and the echoed case number."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    return re.sub(r'value="[^"]*"', 'value=""', html)


def test_the_form_is_public_and_mobile_friendly(client, db):
    page = client.get(reverse("public:case-lookup"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="viewport"' in html and 'class="lang-switch"' in html
    assert "办件编号" in html and "查询码" in html
    assert "no-store" in page["Cache-Control"] or "no-cache" in page["Cache-Control"]


def test_the_right_code_shows_status_timeline_promised_date_and_explanation(client, case):
    page = look(client, "TH-2026-0042", CODE)
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="lookup-result"' in html
    assert "已受理" in html and "食品经营许可" in html and "广州市天河区市场监督管理局" in html
    ctx = page.context["result"]
    assert ctx["promise"].due_at is not None
    assert ctx["promise_due"].endswith(" 24:00") and ctx["promise_due"] in html  # as the law counts it
    assert "工作日" in ctx["promise_explanation"] and 'data-testid="public-explanation"' in html
    titles = [e.title for e in ctx["timeline"]]
    assert "待补正" in titles and "已受理" in titles and "环节办结：审查" in titles
    assert "营业执照复印件不清晰" in html and "需现场核查" in html
    assert "张*丰" in html


def test_nothing_about_staff_or_the_full_name_and_phone_leaks(client, case):
    html = look(client, "TH-2026-0042", f"  {CODE} ").content.decode()
    assert 'data-testid="lookup-result"' in html
    for secret in ("county_handler", "王经办", "李局长", "13800001234", "1234", "张三丰", "操作人"):
        assert secret not in html, secret


def test_a_wrong_code_and_an_unknown_case_get_the_same_answer(client, case):
    wrong = look(client, "TH-2026-0042", "000000")
    unknown = look(client, "TH-2099-9999", "000000")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "办件编号或查询码不正确" in response.content.decode()
        assert response.context["result"] is None
    assert body(wrong) == body(unknown)
    # A sub-case number has no code of its own: the same answer again.
    assert body(look(client, "TH-2026-0042-01", CODE)) == body(wrong)


def test_missing_fields_are_asked_for_and_not_counted_as_guesses(client, case):
    for _ in range(12):
        response = client.post(reverse("public:case-lookup"), {"case_no": "", "code": ""}, REMOTE_ADDR="10.2.2.2")
        assert response.status_code == 200 and response.context["form"].errors
    assert 'data-testid="lookup-result"' in look(client, "TH-2026-0042", CODE, "10.2.2.2").content.decode()


def test_guessing_is_throttled_per_address_even_with_the_right_code(client, case, settings):
    settings.XIAONENG_RULES = {"public_lookup_max_failures": 10}
    for i in range(10):
        assert look(client, "TH-2026-0042", f"{i:06d}").status_code == 200
    blocked = look(client, "TH-2026-0042", CODE)
    html = blocked.content.decode()
    assert blocked.status_code == 429 and "查询尝试次数过多" in html and "10 分钟" in html
    assert 'data-testid="lookup-result"' not in html
    # Another address is not affected, and the window passes.
    assert 'data-testid="lookup-result"' in look(client, "TH-2026-0042", CODE, "10.9.9.9").content.decode()
    cache.clear()
    assert look(client, "TH-2026-0042", CODE).status_code == 200


def test_a_parallel_application_shows_each_organs_progress(client, world, matters):
    case, code = actions.do_submit_case(matter=matters.parallel, case_no="GZ-BL-0042", applicant_name="广州某某置业有限公司",
                                        received_at=timezone.now() - timedelta(hours=1))
    actions.do_accept_case(case)
    html = look(client, "GZ-BL-0042", code).content.decode()
    assert "广州市越秀区市场监督管理局" in html and "各部门办理进度" in html
    assert "广********司" in html and "置业" not in html


def test_a_case_not_yet_accepted_says_when_the_clock_starts(client, matters):
    case, code = actions.do_submit_case(matter=matters.licence, case_no="TH-NEW", applicant_name="李四",
                                        received_at=timezone.now() - timedelta(hours=1))
    html = look(client, "TH-NEW", code).content.decode()
    assert "已申请" in html and "受理后开始计算承诺办结期限" in html


def test_only_get_and_post_are_answered(client, db):
    assert client.put(reverse("public:case-lookup")).status_code == 405
