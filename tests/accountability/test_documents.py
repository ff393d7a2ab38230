"""The accountability documents: 告知书 per person, 决定书 under the decision's own number, 备案报告;
issued from the case page by whoever may act on it, read by nobody outside the case's scope."""
import io

import pypdf
import pytest
from django.urls import reverse

from tests.accountability.conftest import at
from tests.conftest import make_user
from xiaoneng.accountability import actions
from xiaoneng.accountability.models import Responsibility
from xiaoneng.documents.actions import DocumentError, do_issue_document
from xiaoneng.documents.models import Document
from xiaoneng.orgs.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def text_of(document) -> str:
    with document.file.open("rb") as handle:
        reader = pypdf.PdfReader(io.BytesIO(handle.read()))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "").replace(" ", "")


def test_each_notified_person_gets_a_notice_of_the_intended_measure_and_the_right_to_be_heard(acct):
    case = acct.register()
    zhang = actions.do_add_party(case, staff=acct.zhang, responsibility=Responsibility.DIRECT)
    li = actions.do_add_party(case, staff=acct.li, responsibility=Responsibility.MAIN_LEADER)
    actions.do_record_findings(case, findings="经查，窗口人员推诿群众属实。", at=at("2026-03-03T10:00"))
    with pytest.raises(DocumentError):  # nobody notified yet
        do_issue_document("acct.notice", case)
    actions.do_notify_party(zhang, measure="demerit", at=at("2026-03-04T10:00"))
    actions.do_notify_party(li, measure="admonish", at=at("2026-03-04T10:00"))
    case.refresh_from_db()
    first = do_issue_document("acct.notice", case, at=at("2026-03-04T11:00"))
    second = do_issue_document("acct.notice", case, at=at("2026-03-04T11:05"))
    assert (first.addressee, second.addressee) == ("张三", "李四")
    assert first.number == "广州市天河区党政机关效能建设办公室问告〔2026〕1号"
    assert second.number.endswith("问告〔2026〕2号")
    text = text_of(first)
    for expected in ("广州市天河区党政机关效能建设办公室", "问责告知书", "张三：", "窗口人员推诿群众属实", "直接责任",
                     "拟对你给予记过（处分期12个月）", "第四十三条", "陈述和申辩", "2026年3月4日"):
        assert expected in text, expected
    assert "诫勉" in text_of(second) and "主要领导责任" in text_of(second)
    with pytest.raises(DocumentError):  # both told: no third notice
        do_issue_document("acct.notice", case)


def test_the_decision_carries_its_signed_number_each_measure_with_its_period_and_how_to_appeal(acct):
    case, _parties = acct.decided("2026-03-02T10:00", measure="warning", number="天效问〔2026〕7号")
    document = do_issue_document("acct.decision", case, at=at("2026-03-02T15:00"))
    assert document.number == "天效问〔2026〕7号" and document.serial == 0
    text = text_of(document)
    for expected in ("问责决定书", "天效问〔2026〕7号", "张三：", "经调查，经查属实", "决定如下",
                     "张三（一级科员，直接责任）：给予警告（处分期6个月），自2026年3月2日起至2026年9月1日止",
                     "三十日内向本机关申请复核", "复核、申诉期间不停止本决定的执行", "王局长"):
        assert expected in text, expected
    # The next serial document of the organ is not disturbed by the decision's own number.
    assert do_issue_document("acct.decision", case) == document


def test_a_decision_cannot_be_issued_before_it_is_signed(acct):
    case, _parties = acct.heard()
    with pytest.raises(DocumentError):
        do_issue_document("acct.decision", case)


def test_the_filing_report_tells_the_supervisory_organ_the_whole_procedure_after_service(acct):
    case, _parties = acct.decided("2026-03-02T10:00", measure="warning", number="天效问〔2026〕8号")
    with pytest.raises(DocumentError):  # not served yet
        do_issue_document("acct.filing", case)
    actions.do_serve_case(case, at=at("2026-03-03T10:00"))
    actions.do_announce_case(case, scope="天河区市场监督管理局内部", at=at("2026-03-04T10:00"))
    actions.do_file_case(case, filed_with="广州市天河区监察委员会", at=at("2026-03-05T10:00"))
    case.refresh_from_db()
    text = text_of(do_issue_document("acct.filing", case, at=at("2026-03-05T09:00")))
    for expected in ("问责决定备案报告", "广州市天河区监察委员会：", "2026年3月2日作出问责决定（天效问〔2026〕8号）",
                     "2026年3月3日送达", "张三（直接责任）：拟警告（处分期6个月），已陈述申辩，容错审查结论为不适用容错，"
                     "决定警告（处分期6个月）", "天河区市场监督管理局内部范围内公布", "特此报告", "附件：问责决定书（天效问〔2026〕8号）"):
        assert expected in text, expected


def test_the_case_page_offers_the_documents_and_a_supervisor_issues_and_reads_them(acct, login):
    case, _parties = acct.decided(number="天效问〔2026〕9号")
    client = login(acct.world.county_supervisor)
    html = client.get(reverse("accountability:case", args=[case.pk])).content.decode()
    assert 'data-testid="documents"' in html and "制发问责决定书" in html and "制发问责告知书" in html
    response = client.post(reverse("documents:issue", args=["acct.decision", "accountability", case.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("accountability:case", args=[case.pk])
    document = Document.objects.get(kind="acct.decision")
    html = client.get(reverse("accountability:case", args=[case.pk])).content.decode()
    assert "天效问〔2026〕9号" in html and "制发问责决定书</button>" not in html
    download = client.get(reverse("documents:download", args=[document.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("persona", ["outsider", "county_handler", "county_leader", "shenzhen"])
def test_nobody_outside_the_case_scope_reads_or_issues_its_documents(acct, login, persona):
    world = acct.world
    case, _parties = acct.decided(number="天效问〔2026〕10号")
    document = do_issue_document("acct.decision", case)
    user = make_user("sz_supervisor", Role.SUPERVISOR, region=world.sz) if persona == "shenzhen" else getattr(world, persona)
    client = login(user)
    assert client.get(reverse("documents:download", args=[document.pk])).status_code == 404
    response = client.post(reverse("documents:issue", args=["acct.filing", "accountability", case.pk]))
    assert response.status_code in (403, 404)
    assert not Document.objects.filter(kind="acct.filing").exists()


def announced(acct, number):
    case, _parties = acct.decided("2026-03-02T10:00", number=number)
    actions.do_serve_case(case, at=at("2026-03-03T10:00"))
    with pytest.raises(DocumentError):  # not announced yet
        do_issue_document("acct.bulletin", case)
    case = actions.do_announce_case(case, scope="全区各机关单位", at=at("2026-03-04T10:00"))
    case.refresh_from_db()
    return case


def test_the_public_bulletin_masks_the_persons_names_by_default_even_in_the_findings(acct):
    case = announced(acct, "天效问〔2026〕11号")
    case.findings = "经查，张三经办的办件超过法定时限"
    case.save(update_fields=["findings"])
    text = text_of(do_issue_document("acct.bulletin", case))
    assert "问责情况通报" in text and "全区各机关单位：" in text and "张某（直接责任）：警告" in text
    assert "张某经办的办件" in text and "张三" not in text


def test_the_bulletin_names_the_persons_when_the_province_says_so(acct, settings):
    settings.XIAONENG_RULES = {"accountability_bulletin_mask_names": False}
    case = announced(acct, "天效问〔2026〕12号")
    assert "张三（直接责任）：警告" in text_of(do_issue_document("acct.bulletin", case))
