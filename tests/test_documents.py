"""Official documents: laid out, numbered once per organ and year, stored as issued, read only in scope."""
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pypdf
import pytest
from django.urls import reverse

from xiaoneng.approvals import actions
from xiaoneng.documents.actions import DocumentError, do_issue_document, next_number
from xiaoneng.documents.kinds import KINDS
from xiaoneng.documents.models import Document

SH = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def text_of(document) -> str:
    with document.file.open("rb") as handle:
        reader = pypdf.PdfReader(io.BytesIO(handle.read()))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "")


def submit(matters, no="TH-2026-0001", when="2026-09-28T10:00"):
    case, _code = actions.do_submit_case(matter=matters.licence, case_no=no, applicant_name="张三",
                                         applicant_phone="13800000000", received_at=at(when))
    return case


def test_an_acceptance_notice_names_the_organ_number_applicant_article_and_due_date(matters, world):
    case = actions.do_accept_case(submit(matters), at=at("2026-09-29T09:00"))
    document = do_issue_document("case.accept", case, at=at("2026-09-29T10:00"))
    assert document.number == "广州市天河区市场监督管理局受〔2026〕1号"
    text = text_of(document)
    for expected in ("广州市天河区市场监督管理局", document.number, "受理通知书", "张三：", "食品经营许可",
                     "第三十二条第一款第（五）项", "本机关决定予以受理", "20个工作日内", "2026-11-02 24:00",
                     "2026年9月29日"):
        assert expected in text, expected


def test_a_correction_notice_lists_every_missing_item_at_once(matters):
    case = actions.do_request_correction(submit(matters), items=["营业执照复印件不清晰", "缺少法定代表人签字"],
                                         at=at("2026-09-30T09:00"))
    text = text_of(do_issue_document("case.correction", case))
    assert "一次性告知" in text and "1.营业执照复印件不清晰" in text.replace(" ", "") and "缺少法定代表人签字" in text


def test_a_deemed_acceptance_is_told_as_counted_from_receipt(matters):
    case = actions.do_accept_case(submit(matters), at=at("2026-10-15T09:00"))  # past the five-day notice period
    text = text_of(do_issue_document("case.accept", case))
    assert "五日内一次性告知" in text and "自收到申请材料之日起即为受理" in text and "2026年9月28日" in text


def test_a_refusal_of_a_licence_gives_the_reasons_and_the_ways_to_challenge_it(matters):
    case = actions.do_accept_case(submit(matters), at=at("2026-09-29T09:00"))
    case = actions.do_decide_case(case, outcome="denied", reasons="经营场所不符合食品安全要求。", at=at("2026-10-09T09:00"))
    text = text_of(do_issue_document("case.deny", case))
    assert "理由：经营场所不符合食品安全要求。根据" in text  # one full stop, not two
    assert "六十日内依法申请行政复议" in text and "六个月内依法向人民法院提起行政诉讼" in text


def test_numbers_run_per_organ_word_and_year_and_never_repeat(matters, world):
    first_case = actions.do_accept_case(submit(matters, "A-1"), at=at("2026-09-29T09:00"))
    first = do_issue_document("case.accept", first_case)
    other_organ_case = type(first_case)(organ=world.yuexiu_bureau)
    second = do_issue_document("case.accept", actions.do_accept_case(submit(matters, "A-2"), at=at("2026-09-29T09:00")))
    assert (first.serial, second.serial) == (1, 2)
    tianhe, yuexiu = (KINDS["case.accept"].issuer(case) for case in (first_case, other_organ_case))
    assert next_number(tianhe, 2026, "补")[0] == 1  # another word starts its own series
    assert next_number(yuexiu, 2026, "受")[0] == 1  # so does another organ
    assert next_number(tianhe, 2027, "受")[0] == 1  # and a new year
    assert next_number(tianhe, 2026, "受")[0] == 3


def test_asking_again_for_the_same_document_returns_the_one_issued(matters):
    case = actions.do_accept_case(submit(matters), at=at("2026-09-29T09:00"))
    assert do_issue_document("case.accept", case) == do_issue_document("case.accept", case)
    assert Document.objects.count() == 1


def test_a_decision_letter_cannot_be_issued_before_the_decision(matters):
    case = actions.do_accept_case(submit(matters), at=at("2026-09-29T09:00"))
    with pytest.raises(DocumentError, match="当前办理阶段不能制发"):
        do_issue_document("case.grant", case)
    assert not Document.objects.exists()


def test_the_handler_issues_from_the_case_page_and_reads_the_pdf(matters, world, client, login):
    case = actions.do_accept_case(submit(matters), at=at("2026-09-29T09:00"))
    login(world.county_handler)
    page = client.get(reverse("approvals:case", args=[case.pk])).content.decode()
    issue_url = reverse("documents:issue", args=["case.accept", "case", case.pk])
    assert issue_url in page and "制发受理通知书" in page
    response = client.post(issue_url)
    assert response.status_code == 302 and response["Location"] == reverse("approvals:case", args=[case.pk])
    document = Document.objects.get()
    assert document.issued_by == world.county_handler
    page = client.get(reverse("approvals:case", args=[case.pk])).content.decode()
    assert document.number in page and issue_url not in page
    pdf = client.get(reverse("documents:download", args=[document.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_readers_without_the_right_to_act_see_documents_but_cannot_issue(matters, world, client, login):
    case = actions.do_accept_case(submit(matters), at=at("2026-09-29T09:00"))
    login(world.city_supervisor)
    assert client.post(reverse("documents:issue", args=["case.accept", "case", case.pk])).status_code == 403
    assert not Document.objects.exists()


@pytest.mark.parametrize("persona", ["outsider", "shenzhen_handler", "county_supervisor_of_another_county"])
def test_an_outsider_gets_nothing(matters, world, client, login, persona):
    from conftest import make_user

    from xiaoneng.orgs.models import Role

    case = actions.do_accept_case(submit(matters), at=at("2026-09-29T09:00"))
    document = do_issue_document("case.accept", case)
    user = (make_user("yuexiu_supervisor", Role.SUPERVISOR, region=world.yuexiu)
            if persona == "county_supervisor_of_another_county" else getattr(world, persona))
    login(user)
    assert client.get(reverse("documents:download", args=[document.pk])).status_code == 404
    assert client.post(reverse("documents:issue", args=["case.accept", "case", case.pk])).status_code == 404


def test_a_stored_file_that_changed_is_refused_not_served(matters, world, client, login):
    document = do_issue_document("case.accept", actions.do_accept_case(submit(matters), at=at("2026-09-29T09:00")))
    with open(document.file.path, "r+b") as handle:
        handle.seek(200)
        handle.write(b"tampered")
    login(world.county_handler)
    response = client.get(reverse("documents:download", args=[document.pk]))
    assert response.status_code == 410 and "不一致" in response.content.decode()


def open_order(world, organ=None):
    from xiaoneng.supervision.actions import do_open_order

    return do_open_order(organ=organ or world.tianhe_bureau, source="inspection", title="窗口工作时间脱岗",
                         demand="查明原因，整改到位。", issuer=world.gz, at=at("2026-11-02T09:00"))


def test_a_supervision_notice_comes_from_the_issuing_office_with_its_own_numbers(world):
    document = do_issue_document("order.notice", open_order(world))
    assert document.number == "广州市效能办督〔2026〕1号" and document.issuer_name == "广州市机关效能建设领导小组办公室"
    text = text_of(document)
    for expected in ("广州市机关效能建设领导小组办公室", "督办通知书", "广州市天河区市场监督管理局：", "窗口工作时间脱岗",
                     "督办要求：查明原因，整改到位。", "2026-11-09 24:00"):  # five working days
        assert expected in text, expected
    assert do_issue_document("order.notice", open_order(world, world.yuexiu_bureau)).serial == 2  # one office, one series


def test_the_supervisor_issues_the_notice_and_the_organ_reads_it_but_cannot_issue(world, client, login):
    order = open_order(world)
    issue_url = reverse("documents:issue", args=["order.notice", "order", order.pk])
    login(world.county_handler)
    assert issue_url not in client.get(reverse("supervision:order", args=[order.pk])).content.decode()
    assert client.post(issue_url).status_code == 403
    login(world.city_supervisor)
    assert issue_url in client.get(reverse("supervision:order", args=[order.pk])).content.decode()
    client.post(issue_url)
    document = Document.objects.get()
    login(world.county_handler)
    assert client.get(reverse("documents:download", args=[document.pk])).status_code == 200
    login(world.shenzhen_handler)
    assert client.get(reverse("documents:download", args=[document.pk])).status_code == 404


def test_a_region_with_an_efficiency_office_organ_issues_under_that_organ(world):
    from conftest import make_organ

    office = make_organ("广州市机关效能建设领导小组办公室", world.gz)
    office.short_name = "效能办"
    office.save(update_fields=["short_name"])
    document = do_issue_document("order.notice", open_order(world))
    assert document.issuer_key == f"organ:{office.pk}" and document.number == "广州市效能办督〔2026〕1号"


def replied(desk):
    from xiaoneng.complaints import actions as act

    complaint, _secret = desk.file(received_at=at("2026-11-02T09:00"))
    act.do_accept(complaint, at=at("2026-11-02T11:00"))
    act.do_route(complaint, organ=desk.w.tianhe_bureau, at=at("2026-11-02T12:00"))
    act.do_report_handling(complaint, report="已约谈窗口负责人。", result="founded", at=at("2026-11-05T09:00"))
    return act.do_reply(complaint, text="张三丰同志：您好！\n经核查，投诉属实，已责令整改。", at=at("2026-11-06T09:00"))


def test_the_complaint_centre_answers_the_complainant_by_name_and_the_use_is_audited(desk):
    from xiaoneng.audit.models import AuditEntry

    complaint = replied(desk)
    acceptance = do_issue_document("complaint.accept", complaint)
    reply = do_issue_document("complaint.reply", complaint)
    assert acceptance.number == "天河区效能办投受〔2026〕1号" and acceptance.issuer_name == desk.tianhe_office.name
    text = text_of(reply)
    for expected in ("投诉答复书", "张三丰：", complaint.number, "经核查，投诉属实，已责令整改。", "15日内向本中心申请复核"):
        assert expected in text, expected
    assert AuditEntry.objects.filter(action="identity.use", object_id=str(complaint.pk),
                                     changes__purpose="document").count() == 2


def test_letters_that_name_the_complainant_stay_with_those_who_may_know_who_complained(desk, world, client, login):
    complaint = replied(desk)
    document = do_issue_document("complaint.reply", complaint)
    login(world.complaint_officer)
    page = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert document.number in page and reverse("documents:download", args=[document.pk]) in page
    assert client.get(reverse("documents:download", args=[document.pk])).status_code == 200
    login(world.county_handler)  # the organ complained about: no identity right
    page = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert document.number not in page
    assert client.get(reverse("documents:download", args=[document.pk])).status_code == 404
    assert client.post(reverse("documents:issue", args=["complaint.accept", "complaint", complaint.pk])).status_code == 403
